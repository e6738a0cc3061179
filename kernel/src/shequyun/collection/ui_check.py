"""Is a form's UI layer acceptable? Labels, help, widgets, the order of fields, conditions
(``visible_if``) without cycles, and renames, each problem at its place in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import fields
from .fields import SAFE_NAME, WIDGETS, field_index
from .schema_check import SchemaProblem, check_schema, escape_pointer, kind_title, size_gate

UI_KEYS = frozenset({"label", "help", "widget", "visible_if", "renamed_from"})


# -- the UI layer -----------------------------------------------------------------------------


def check_ui(ui: object, schema: object, *, max_bytes: int = 256_000) -> list[SchemaProblem]:
    """Every problem of a form's UI layer (paths point into ``ui``); ``schema`` has passed.

    Every field, nested ones included (``members.age``, ``address.room``), needs a ``label``;
    names that are not fields, widgets that do not suit the field, ``visible_if`` conditions on
    fields that are not siblings or that loop, and clashing ``renamed_from`` are problems.
    """
    if not isinstance(ui, dict):
        return [SchemaProblem("", "界面设置应为 JSON 对象")]
    gate, _ = size_gate(ui, max_bytes, json_depth=16)
    if gate:
        return gate
    if not isinstance(schema, dict) or check_schema(schema):
        return [SchemaProblem("", "表单结构未通过检查，无法检查界面设置")]
    index = field_index(schema)
    problems: list[SchemaProblem] = []
    for key in ui:
        if key not in ("order", "fields") and not key.startswith("x-"):
            problems.append(SchemaProblem(f"/{escape_pointer(key)}", f"界面设置不支持 {key}"))
    top = [path for path, info in index.items() if not info.parent]
    problems += _order(ui.get("order"), top) if "order" in ui else []
    specs = ui.get("fields", {})
    if not isinstance(specs, dict):
        return [*problems, SchemaProblem("/fields", "fields 应为对象：字段名 → 设置")]
    for name, spec in specs.items():
        at = f"/fields/{escape_pointer(name)}"
        if name not in index:
            problems.append(SchemaProblem(at, f"界面设置引用了不存在的字段 {name[:80]}"))
        elif not isinstance(spec, dict):
            problems.append(SchemaProblem(at, "字段设置应为对象"))
        else:
            problems += _field_ui(spec, index[name], index, at)
    for path in index:
        spec = specs.get(path)
        if not isinstance(spec, dict) or "label" not in spec:
            problems.append(
                SchemaProblem(f"/fields/{escape_pointer(path)}", f"字段 {path} 缺少中文标签 label")
            )
    problems += _renames(specs, index)
    problems += _condition_cycles(specs, index)
    return problems


def _order(order: object, top: list[str]) -> list[SchemaProblem]:
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        return [SchemaProblem("/order", "order 应为字段名的列表")]
    problems = []
    for index, name in enumerate(order):
        if name not in top:
            problems.append(
                SchemaProblem(f"/order/{index}", f"order 中的 {name[:80]} 不是表单的顶层字段")
            )
        elif name in order[:index]:
            problems.append(SchemaProblem(f"/order/{index}", f"{name} 在 order 中重复"))
    problems += [
        SchemaProblem("/order", f"字段 {name} 未出现在 order 中")
        for name in top
        if name not in order
    ]
    return problems


def _field_ui(
    spec: dict[str, Any], info: fields.FieldInfo, index: dict[str, fields.FieldInfo], at: str
) -> list[SchemaProblem]:
    problems = [
        SchemaProblem(f"{at}/{escape_pointer(key)}", f"字段设置不支持 {key}")
        for key in spec
        if key not in UI_KEYS and not key.startswith("x-")
    ]
    label = spec.get("label")
    if "label" in spec and (not isinstance(label, str) or not label.strip() or len(label) > 100):
        problems.append(SchemaProblem(f"{at}/label", "label 应为 1 到 100 个字的中文标签"))
    if "help" in spec and (not isinstance(spec["help"], str) or len(spec["help"]) > 1000):
        problems.append(SchemaProblem(f"{at}/help", "help 应为不超过 1000 个字的说明"))
    widget = spec.get("widget")
    if "widget" in spec:
        if widget not in WIDGETS:
            problems.append(SchemaProblem(f"{at}/widget", f"widget 应为 {'、'.join(WIDGETS)} 之一"))
        elif info.kind not in WIDGETS[widget]:
            problems.append(
                SchemaProblem(f"{at}/widget", f"{widget} 不适用于{kind_title(info.kind)}字段")
            )
    if "visible_if" in spec:
        problems += _visible_if(spec["visible_if"], info, index, f"{at}/visible_if")
    renamed = spec.get("renamed_from")
    if "renamed_from" in spec:
        if not isinstance(renamed, str) or not SAFE_NAME.fullmatch(renamed):
            problems.append(
                SchemaProblem(f"{at}/renamed_from", "renamed_from 应为上一版中的字段名")
            )
        elif info.parent:
            problems.append(SchemaProblem(f"{at}/renamed_from", "只有顶层字段可以写 renamed_from"))
    return problems


def _visible_if(
    condition: object, info: fields.FieldInfo, index: dict[str, fields.FieldInfo], at: str
) -> list[SchemaProblem]:
    shape = 'visible_if 应为 {"field": 字段, "equals": 值} 或 {"field": 字段, "in": [值, …]}'
    if not isinstance(condition, dict) or set(condition) not in (
        {"field", "equals"},
        {"field", "in"},
    ):
        return [SchemaProblem(at, shape)]
    target = index.get(condition["field"]) if isinstance(condition["field"], str) else None
    if target is None:
        return [SchemaProblem(f"{at}/field", "visible_if 引用了不存在的字段")]
    if target.path == info.path or target.parent != info.parent:
        return [SchemaProblem(f"{at}/field", "visible_if 只能引用同一层的其他字段")]
    values = condition.get("in", [condition.get("equals")])
    if not isinstance(values, list) or not values:
        return [SchemaProblem(f"{at}/in", "in 应为非空的值列表")]
    choices = target.schema.get("enum")
    if target.kind == "multiple_choice":
        items = target.schema.get("items")
        choices = items.get("enum") if isinstance(items, Mapping) else None
    if "const" in target.schema:
        choices = [target.schema["const"]]
    allowed = {fields.tag(c) for c in choices} if isinstance(choices, list) else None
    if target.kind == "yes_no" and allowed is None:
        allowed = {fields.tag(True), fields.tag(False)}
    problems = []
    for value in values:
        if isinstance(value, dict | list):
            problems.append(
                SchemaProblem(at, "visible_if 的值只能是文字、数字、true/false 或 null")
            )
        elif allowed is not None and fields.tag(value) not in allowed:
            problems.append(
                SchemaProblem(at, f"{fields.describe(value)} 不是字段 {target.path} 的选项")
            )
    return problems


def _renames(specs: dict[str, Any], index: dict[str, fields.FieldInfo]) -> list[SchemaProblem]:
    problems = []
    claimed: dict[str, str] = {}
    for name, spec in specs.items():
        renamed = spec.get("renamed_from") if isinstance(spec, dict) else None
        if not isinstance(renamed, str) or name not in index or index[name].parent:
            continue
        at = f"/fields/{escape_pointer(name)}/renamed_from"
        if renamed != name and renamed in index:
            problems.append(SchemaProblem(at, f"{renamed} 仍是本版的字段，不能作为改名来源"))
        elif renamed in claimed:
            problems.append(
                SchemaProblem(at, f"{claimed[renamed]} 和 {name} 不能都由 {renamed} 改名而来")
            )
        claimed.setdefault(renamed, name)
    return problems


def _condition_cycles(
    specs: dict[str, Any], index: dict[str, fields.FieldInfo]
) -> list[SchemaProblem]:
    depends: dict[str, str] = {}
    for name, spec in specs.items():
        condition = spec.get("visible_if") if isinstance(spec, dict) else None
        target = condition.get("field") if isinstance(condition, dict) else None
        if isinstance(target, str) and target != name and target in index and name in index:
            depends[name] = target
    problems = []
    reported: set[str] = set()
    for start in depends:
        seen = [start]
        while (current := depends.get(seen[-1])) is not None and current not in seen:
            seen.append(current)
        if current is not None and current == start and not reported & set(seen):
            reported |= set(seen)
            cycle = " → ".join([*seen, start])
            problems.append(
                SchemaProblem(
                    f"/fields/{escape_pointer(start)}/visible_if", f"条件显示循环依赖：{cycle}"
                )
            )
    return problems
