"""Is an uploaded form acceptable? Every problem of a schema or its UI layer, before storing it.

Schemas come from outside (the API), so the checks assume hostile input: the nesting depth and
the size are measured first, without recursion, and nothing recursive runs (json.dumps, the
meta-schema, our walk) until both are within bounds. After that the answer lists every problem,
each with a JSON pointer into the schema (or the UI layer) and a Chinese message.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from . import fields
from .fields import FORMATS, SAFE_NAME, WIDGETS, field_index

# Python's own regex parser (re._parser since 3.11; typeshed has no stubs for it): the
# patterns jsonschema and most bureau systems run are Python or backtracking engines alike.
_sre: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

__all__ = ["SUPPORTED", "SchemaProblem", "check_schema", "check_ui"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SUPPORTED = frozenset(
    {
        *("type", "properties", "required", "additionalProperties", "enum", "const"),
        *("minLength", "maxLength", "pattern", "format"),
        *("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        *("items", "minItems", "maxItems", "uniqueItems"),
        *("title", "description", "default", "examples", "$schema", "$id", "$defs", "$ref"),
    }
)
"""The keywords a form may use; ``x-`` keys are ignored, anything else is a problem."""

_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})
_SCALAR_ONLY = ("enum", "const")
_REF = re.compile(r"#/\$defs/([A-Za-z_][A-Za-z0-9_-]{0,63})")
_DEF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_REMOTE_ID = re.compile(r"(?i)(https?|ftp|file|wss?):|//")
_META = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
_UI_KEYS = frozenset({"label", "help", "widget", "visible_if", "renamed_from"})


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One problem: where (a JSON pointer, ``""`` for the whole document) and what (Chinese)."""

    path: str
    message: str


def check_schema(
    schema: object,
    *,
    max_bytes: int = 256_000,
    max_depth: int = 10,
    max_fields: int = 1000,
    max_enum: int = 1000,
    max_pattern_length: int = 200,
) -> list[SchemaProblem]:
    """Every problem that keeps ``schema`` from being stored as a form; ``[]`` when none.

    ``max_depth`` counts nested fields (a table in a table is 4 levels: property, items,
    property, items) and each ``$ref`` followed; ``max_fields`` counts every property, those in
    tables and behind ``$ref`` included, as often as they are used. A schema nested or sized
    beyond bounds gets that one problem: the rest is not looked at.
    """
    if not isinstance(schema, dict):
        return [SchemaProblem("", "表单结构应为 JSON 对象")]
    gate, text = _gate(schema, max_bytes, json_depth=4 * max_depth + 8)
    if gate:
        return gate
    # The meta-schema costs ~0.3 ms a field, and a form is checked on upload, on publishing and
    # when its validator is compiled: the same text gets the same answer.
    key = (text, max_depth, max_fields, max_enum, max_pattern_length)
    cached = _CHECKED.get(key)
    if cached is None:
        cached = tuple(_problems(schema, max_depth, max_fields, max_enum, max_pattern_length))
        if len(_CHECKED) >= 32:
            _CHECKED.clear()
        _CHECKED[key] = cached
    return list(cached)


_CHECKED: dict[tuple[bytes, int, int, int, int], tuple[SchemaProblem, ...]] = {}


def _problems(
    schema: dict[str, Any], max_depth: int, max_fields: int, max_enum: int, max_pattern: int
) -> list[SchemaProblem]:
    problems = [
        SchemaProblem(_pointer(e.absolute_path), _meta_message(e)) for e in _metaerrors(schema)
    ]
    problems += _Subset(schema, max_enum, max_pattern).problems()
    problems += _expanded(schema, max_depth, max_fields)
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        problems.append(
            SchemaProblem("", '表单最外层应为 "type": "object"，并在 properties 中列出字段')
        )
    elif not schema["properties"]:
        problems.append(SchemaProblem("/properties", "表单至少需要一个字段"))
    return list(dict.fromkeys(problems))


# -- gate: depth and size, without recursion -------------------------------------------------


def _gate(
    document: object, max_bytes: int, *, json_depth: int
) -> tuple[list[SchemaProblem], bytes]:
    """Too deep, too big, or not JSON at all: the one problem that stops everything else.

    Without a problem, the document's JSON text (UTF-8) comes back with the empty list.
    """
    size = 0
    stack: list[tuple[object, str, int]] = [(document, "", 1)]
    while stack:
        node, pointer, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > json_depth:
                return [SchemaProblem(pointer, f"嵌套超过 {json_depth} 层，不予处理")], b""
            entries = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in entries:
                if isinstance(node, dict) and not isinstance(key, str):
                    return [SchemaProblem(pointer, "对象的键应为字符串")], b""
                size += len(key) + 4 if isinstance(key, str) else 1
                if size > max_bytes:
                    break
                stack.append((value, f"{pointer}/{_escape(str(key))}", depth + 1))
        elif isinstance(node, str):
            size += len(node) + 2
        elif isinstance(node, float) and not math.isfinite(node):
            return [SchemaProblem(pointer, "数值应为有限数")], b""
        elif not (node is None or isinstance(node, bool | int | float)):
            return [SchemaProblem(pointer, "不是 JSON 值")], b""
        if size > max_bytes:  # a lower bound of the JSON text's size, so this stops early
            return [SchemaProblem("", f"超过 {max_bytes:,} 字节的大小上限")], b""
    try:
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):
        return [SchemaProblem("", "不是合法的 JSON")], b""
    if len(encoded) > max_bytes:
        return [
            SchemaProblem("", f"超过 {max_bytes:,} 字节的大小上限（{len(encoded):,} 字节）")
        ], b""
    return [], encoded


# -- the meta-schema -------------------------------------------------------------------------


def _metaerrors(schema: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
    # The meta-schema reads the form as data: the form's own $ref values are not followed.
    try:
        yield from _META.iter_errors(schema)
    except RecursionError:  # pragma: no cover - the gate keeps nesting far below the limit
        yield jsonschema.ValidationError("nested too deeply", validator="depth")


def _meta_message(error: jsonschema.ValidationError) -> str:
    where = error.absolute_path[-1] if error.absolute_path else None
    expected = error.validator_value
    if where == "type" and error.validator in ("anyOf", "enum", "type"):
        return "type 应为 string、number、integer、boolean、object、array、null 之一或它们的列表"
    if error.validator == "type" and isinstance(expected, str):
        return f"应为{fields.TYPE_NAMES.get(expected, expected)}"
    if error.validator == "minimum":
        return f"不能小于 {expected}"
    if error.validator == "exclusiveMinimum":
        return f"应大于 {expected}"
    if error.validator == "uniqueItems":
        return "不能有重复项"
    if error.validator == "minItems":
        return f"至少需要 {expected} 项"
    detail = error.message if len(error.message) <= 160 else error.message[:160] + "…"
    return f"不符合 JSON Schema 2020-12 的规定（{detail}）"


# -- the subset we accept, each schema location once ------------------------------------------


class _Subset:
    """Keywords, names, references, choices and patterns, at every location of the schema."""

    def __init__(self, schema: dict[str, Any], max_enum: int, max_pattern_length: int) -> None:
        self.schema = schema
        self.max_enum = max_enum
        self.max_pattern_length = max_pattern_length
        defs = schema.get("$defs")
        self.defs = defs if isinstance(defs, dict) else {}
        self.found: list[SchemaProblem] = []

    def problems(self) -> list[SchemaProblem]:
        pending: deque[tuple[object, str, str]] = deque([(self.schema, "", "root")])
        for name, definition in self.defs.items():
            if not _DEF_NAME.fullmatch(name):
                self.add(f"/$defs/{_escape(name)}", "定义名只能用英文字母、数字、_ 和 -")
            pending.append((definition, f"/$defs/{_escape(name)}", "def"))
        while pending:
            node, pointer, role = pending.popleft()
            if not isinstance(node, dict):
                if isinstance(node, bool):
                    self.add(pointer, "字段定义应为对象，不能是 true 或 false")
                continue
            self.location(node, pointer, role)
            properties = node.get("properties")
            if isinstance(properties, dict):
                for name, child in properties.items():
                    pending.append((child, f"{pointer}/properties/{_escape(name)}", "field"))
            if "items" in node:
                pending.append((node["items"], f"{pointer}/items", "items"))
        return self.found

    def add(self, pointer: str, message: str) -> None:
        self.found.append(SchemaProblem(pointer, message))

    def location(self, node: dict[str, Any], at: str, role: str) -> None:
        for key in node:
            if key.startswith("x-"):
                continue
            if key not in SUPPORTED:
                self.add(f"{at}/{_escape(key)}", f"不支持的关键字 {key}")
            elif key in _ROOT_ONLY and role != "root":
                self.add(f"{at}/{_escape(key)}", f"{key} 只能写在表单最外层")
        if role == "root":
            self.root_keywords(node)
        types = node.get("type")
        types = (
            {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
        )
        if role in ("field", "items", "def") and not (
            {"type", "enum", "const", "$ref"} & node.keys()
        ):
            self.add(at, "字段需要写明 type（或 enum、const、$ref）")
        if "array" in types and "items" not in node:
            self.add(at, "列表字段需要写明 items")
        if "object" in types and role != "root" and "properties" not in node and "$ref" not in node:
            self.add(at, "对象字段需要在 properties 中列出它的字段")
        self.names_and_required(node, at)
        if "additionalProperties" in node and node["additionalProperties"] is not False:
            self.add(f"{at}/additionalProperties", "additionalProperties 只能为 false（或不写）")
        if isinstance(node.get("items"), bool):
            self.add(f"{at}/items", "items 应为字段定义，不能是 true 或 false")
        for keyword in _SCALAR_ONLY:
            if keyword in node:
                self.scalars(node[keyword], f"{at}/{keyword}", keyword)
        if "$ref" in node:
            self.ref(node["$ref"], f"{at}/$ref")
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt not in FORMATS:
            self.add(f"{at}/format", f"不支持的格式 {fmt}，可用：{'、'.join(FORMATS)}")
        if isinstance(node.get("pattern"), str):
            problem = _pattern_problem(node["pattern"], self.max_pattern_length)
            if problem:
                self.add(f"{at}/pattern", problem)
        for low, high in (
            ("minLength", "maxLength"),
            ("minItems", "maxItems"),
            ("minimum", "maximum"),
        ):
            lo, hi = node.get(low), node.get(high)
            if _number(lo) and _number(hi) and lo > hi:  # type: ignore[operator]
                self.add(f"{at}/{low}", f"{low} 大于 {high}，没有值能通过")

    def root_keywords(self, node: dict[str, Any]) -> None:
        if "$schema" in node and node["$schema"] not in (DRAFT, DRAFT + "#"):
            self.add("/$schema", f"只支持 JSON Schema 2020-12（{DRAFT}）")
        if isinstance(node.get("$id"), str) and _REMOTE_ID.match(node["$id"]):
            self.add("/$id", "$id 不能是网络地址")

    def names_and_required(self, node: dict[str, Any], at: str) -> None:
        properties = node.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        for name in properties:
            if not SAFE_NAME.fullmatch(name):
                self.add(
                    f"{at}/properties/{_escape(name)}",
                    f"字段名 {name[:80]} 不合规：只能用英文字母、数字和 _，不以数字开头，"
                    "最长 64 个字符（它会成为导出的列名）",
                )
        required = node.get("required")
        if isinstance(required, list) and "$ref" not in node:
            for index, name in enumerate(required):
                if isinstance(name, str) and name not in properties:
                    self.add(
                        f"{at}/required/{index}", f"必填字段 {name[:80]} 未在 properties 中定义"
                    )

    def scalars(self, value: object, at: str, keyword: str) -> None:
        values = value if keyword == "enum" and isinstance(value, list) else [value]
        if keyword == "enum" and isinstance(value, list):
            if not value:
                self.add(at, "选项不能为空")
            if len(value) > self.max_enum:
                self.add(at, f"选项不能超过 {self.max_enum:,} 个（现有 {len(value):,} 个）")
                return
        for index, item in enumerate(values):
            if isinstance(item, dict | list):
                where = f"{at}/{index}" if keyword == "enum" else at
                self.add(where, "选项只能是文字、数字、true/false 或 null")

    def ref(self, ref: object, at: str) -> None:
        if not isinstance(ref, str):
            return
        found = _REF.fullmatch(ref)
        if found is None:
            remote = not ref.startswith("#")
            self.add(at, "不允许引用外部文件（远程 $ref）" if remote else "只能引用 #/$defs/名称")
        elif found[1] not in self.defs:
            self.add(at, f"引用的定义 {found[1]} 不存在")


# -- depth and field count, with $ref followed ------------------------------------------------


def _expanded(schema: dict[str, Any], max_depth: int, max_fields: int) -> list[SchemaProblem]:
    """Depth, field count and cycles of the form as used, each ``$ref`` expanded where it is."""
    defs = schema.get("$defs")
    defs = defs if isinstance(defs, dict) else {}
    problems: list[SchemaProblem] = []
    count = 0
    stack: list[tuple[object, str, int, tuple[str, ...]]] = [(schema, "", 0, ())]
    while stack:
        node, at, depth, chain = stack.pop()
        if not isinstance(node, dict):
            continue
        if depth > max_depth:
            problems.append(SchemaProblem(at, f"字段嵌套超过 {max_depth} 层（每个 $ref 也算一层）"))
            continue
        properties = node.get("properties")
        if isinstance(properties, dict):
            count += len(properties)
            if count > max_fields:
                problems.append(
                    SchemaProblem("", f"字段总数超过 {max_fields:,} 个（含表格中的和引用展开后的）")
                )
                break
            for name, child in properties.items():
                stack.append((child, f"{at}/properties/{_escape(name)}", depth + 1, chain))
        if "items" in node:
            stack.append((node["items"], f"{at}/items", depth + 1, chain))
        ref = node.get("$ref")
        found = _REF.fullmatch(ref) if isinstance(ref, str) else None
        if found and found[1] in defs:
            name = found[1]
            if name in chain:
                cycle = " → ".join((*chain[chain.index(name) :], name))
                problems.append(SchemaProblem(f"{at}/$ref", f"循环引用：{cycle}"))
            else:
                stack.append((defs[name], f"/$defs/{_escape(name)}", depth + 1, (*chain, name)))
    return problems


# -- patterns ---------------------------------------------------------------------------------


def _pattern_problem(pattern: str, max_length: int) -> str | None:
    """Why a ``pattern`` is refused, or ``None``: it must be short, valid and unable to hang.

    The server matches with re2 (linear time), but the same pattern runs in browsers (the
    portal's inputs) and bureau systems with backtracking engines, so what makes those
    backtrack exponentially is refused too: a repetition inside a repetition, alternatives that
    can start alike inside a repetition, back-references and lookarounds.
    """
    if len(pattern) > max_length:
        return f"正则表达式不能超过 {max_length} 个字符"
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return "正则表达式无效"
    problem = _unsafe(parsed)
    if problem:
        return problem
    try:
        fields.compile_pattern(pattern)
    except ValueError:
        return "正则表达式含有不支持的写法（服务器用 RE2 匹配）"
    return None


def _unsafe(parsed: Any) -> str | None:
    pending: list[tuple[Any, int]] = [(parsed, 0)]  # (subpattern, enclosing repetitions)
    while pending:
        items, repeated = pending.pop()
        for op, av in items:
            if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
                return "正则表达式不能使用反向引用"
            if op in (_sre.ASSERT, _sre.ASSERT_NOT):
                return "正则表达式不能使用前瞻或后顾断言"
            if op in (_sre.POSSESSIVE_REPEAT, _sre.ATOMIC_GROUP):
                return "正则表达式含有不支持的写法"
            if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
                low, high, body = av
                repeats = high > 1 or high == _sre.MAXREPEAT
                if repeats and repeated and low != high:
                    return "正则表达式不能在重复中再嵌套重复（如 (a+)+），会导致匹配极慢"
                pending.append((body, repeated + (1 if repeats else 0)))
            elif op == _sre.SUBPATTERN:
                pending.append((av[3], repeated))
            elif op == _sre.BRANCH:
                if repeated and not _disjoint(av[1]):
                    return "正则表达式在重复中的分支不能以相同字符开头（如 (a|ab)*）"
                pending.extend((branch, repeated) for branch in av[1])
    return None


def _disjoint(branches: list[Any]) -> bool:
    seen: set[int] = set()
    for branch in branches:
        first = _first_chars(branch)
        if first is None or first & seen:
            return False
        seen |= first
    return True


def _first_chars(items: Any) -> set[int] | None:
    """The characters a subpattern can start with, or ``None`` when not simply known."""
    if not len(items):
        return None
    op, av = items[0]
    if op == _sre.LITERAL:
        return {av}
    if op == _sre.IN and all(o == _sre.LITERAL for o, _ in av):
        return {a for _, a in av}
    if op == _sre.SUBPATTERN:
        return _first_chars(av[3])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
        return _first_chars(av[2])
    return None


# -- the UI layer -----------------------------------------------------------------------------


def check_ui(ui: object, schema: object, *, max_bytes: int = 256_000) -> list[SchemaProblem]:
    """Every problem of a form's UI layer (paths point into ``ui``); ``schema`` has passed.

    Every field, nested ones included (``members.age``, ``address.room``), needs a ``label``;
    names that are not fields, widgets that do not suit the field, ``visible_if`` conditions on
    fields that are not siblings or that loop, and clashing ``renamed_from`` are problems.
    """
    if not isinstance(ui, dict):
        return [SchemaProblem("", "界面设置应为 JSON 对象")]
    gate, _ = _gate(ui, max_bytes, json_depth=16)
    if gate:
        return gate
    if not isinstance(schema, dict) or check_schema(schema):
        return [SchemaProblem("", "表单结构未通过检查，无法检查界面设置")]
    index = field_index(schema)
    problems: list[SchemaProblem] = []
    for key in ui:
        if key not in ("order", "fields") and not key.startswith("x-"):
            problems.append(SchemaProblem(f"/{_escape(key)}", f"界面设置不支持 {key}"))
    top = [path for path, info in index.items() if not info.parent]
    problems += _order(ui.get("order"), top) if "order" in ui else []
    specs = ui.get("fields", {})
    if not isinstance(specs, dict):
        return [*problems, SchemaProblem("/fields", "fields 应为对象：字段名 → 设置")]
    for name, spec in specs.items():
        at = f"/fields/{_escape(name)}"
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
                SchemaProblem(f"/fields/{_escape(path)}", f"字段 {path} 缺少中文标签 label")
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
        SchemaProblem(f"{at}/{_escape(key)}", f"字段设置不支持 {key}")
        for key in spec
        if key not in _UI_KEYS and not key.startswith("x-")
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
                SchemaProblem(f"{at}/widget", f"{widget} 不适用于{_kind_title(info.kind)}字段")
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
        at = f"/fields/{_escape(name)}/renamed_from"
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
                SchemaProblem(f"/fields/{_escape(start)}/visible_if", f"条件显示循环依赖：{cycle}")
            )
    return problems


# -- helpers ----------------------------------------------------------------------------------


def _kind_title(kind: str) -> str:
    return next((k.title for k in fields.KINDS if k.name == kind), "此类")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(path: Any) -> str:
    return "".join(f"/{_escape(str(part))}" for part in path)
