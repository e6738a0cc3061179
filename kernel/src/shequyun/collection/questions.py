"""A form as a list of questions, the way a bureau clerk thinks of it, and back.

The portal's form builder and the XLSX forms (``form_sheets``) both edit a list of
:class:`Question`; :func:`to_form` writes it as the JSON Schema and UI layer the engine
validates (``schema_check``, ``ui_check``), and :func:`from_form` reads a stored version back.
A form the questions cannot say (a ``$ref``, a list of numbers...) is refused by
:func:`from_form` with the reason, and stays editable as JSON.

:func:`check` finds what a clerk can get wrong before the engine's checks run, each problem
naming the question by its number and label in Chinese; :func:`owner_of` finds the question an
engine problem (a JSON pointer) is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import fields
from .fields import ADDRESS_PARTS, SAFE_NAME
from .schema_patterns import pattern_problem

__all__ = [
    "CHOICE_KINDS",
    "CONDITION_KINDS",
    "DEFAULT_BOUNDS",
    "KIND_TITLES",
    "NESTED_KINDS",
    "NotBuildable",
    "Question",
    "QuestionProblem",
    "bounds_of",
    "check",
    "from_form",
    "number_of",
    "owner_of",
    "to_form",
    "walk",
]

KIND_TITLES = {
    "text": "单行文字",
    "long_text": "多行文字",
    "integer": "整数",
    "number": "数字（可带小数）",
    "single_choice": "单选",
    "multiple_choice": "多选",
    "yes_no": "是／否",
    "date": "日期",
    "datetime": "日期和时间",
    "phone": "电话",
    "id_number": "身份证号",
    "email": "电子邮箱",
    "address": "地址（小区、楼号、单元、室号）",
    "photo": "照片（一张）",
    "photos": "照片（多张）",
    "attachment": "附件（一个）",
    "attachments": "附件（多个）",
    "table": "表格（每行填一组，可加行）",
    "group": "分组（把几道题放在一起）",
}
"""The kinds of question the builder offers, in the order it lists them."""

CHOICE_KINDS = frozenset({"single_choice", "multiple_choice"})
CONDITION_KINDS = frozenset({"single_choice", "multiple_choice", "yes_no"})
NESTED_KINDS = frozenset({"table", "group"})
FILE_KINDS = frozenset({"photo", "photos", "attachment", "attachments"})

_TEXT_LIMIT = 200  # longer than this, fields.kind_of calls a string long text
DEFAULT_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    "text": (None, 50),
    "long_text": (None, 2000),
    "photos": (None, 9),
    "attachments": (None, 9),
    "table": (None, 20),
}
"""The bounds a new question of the builder starts with."""


class NotBuildable(ValueError):
    """A stored form the questions cannot say; the message says what, in Chinese."""


@dataclass
class Question:
    """One question: its kind (a key of :data:`KIND_TITLES`), export name, label and rules.

    ``minimum`` and ``maximum`` are the bounds the kind has (:func:`bounds_of`): the value of a
    number, the length of a text, how many choices, files or rows. ``show_field`` names an
    earlier question beside this one (same table or group) and ``show_values`` its answers
    that show this question. ``children`` are the columns of a table or the questions of a
    group. ``widget`` keeps a widget the UI layer named that the kind does not imply.
    """

    kind: str
    name: str
    label: str = ""
    help: str = ""
    required: bool = False
    choices: list[str] = field(default_factory=list)
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: str = ""
    show_field: str = ""
    show_values: list[Any] = field(default_factory=list)
    children: list[Question] = field(default_factory=list)
    widget: str = ""


@dataclass(frozen=True)
class QuestionProblem:
    """A problem with a question: ``key`` locates it (``"3"``, ``"3.2"`` for a column of a
    table), ``title`` names it as the clerk sees it (第 3 题「居住情况」), ``part`` is the
    setting at fault (``label``, ``choices``, ``name``... or ``""``)."""

    key: str
    title: str
    part: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.title}：{self.message}" if self.title else self.message


def bounds_of(kind: str) -> tuple[str, str] | None:
    """What ``minimum`` and ``maximum`` bound for a kind, as labels: ``("最小值", "最大值")``."""
    if kind in ("integer", "number"):
        return ("最小值", "最大值")
    if kind in ("text", "long_text"):
        return ("最少字数", "最多字数")
    if kind == "multiple_choice":
        return ("最少选几项", "最多选几项")
    if kind in ("photos", "attachments"):
        return ("最少几个文件", "最多几个文件")
    if kind == "table":
        return ("最少几行", "最多几行")
    return None


def walk(questions: Sequence[Question], base: str = "") -> Iterator[tuple[str, Question]]:
    """Every question with its key (``"1"``, ``"1.2"``), nested ones after their parent."""
    for index, question in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)
        yield key, question
        yield from walk(question.children, key)


def number_of(key: str) -> str:
    """How a key reads: ``"3"`` is 第 3 题, ``"3.2"`` is 第 3 题第 2 列."""
    parts = key.split(".")
    return f"第 {parts[0]} 题" + "".join(f"第 {p} 项" for p in parts[1:])


def _title(key: str, question: Question) -> str:
    label = question.label.strip()
    return f"{number_of(key)}「{label[:30]}」" if label else number_of(key)


# -- writing the form ---------------------------------------------------------------------------


def _bounded(schema: dict[str, Any], low: str, high: str, q: Question) -> None:
    if q.minimum is not None:
        schema[low] = q.minimum
    if q.maximum is not None:
        schema[high] = q.maximum


def _field_schema(q: Question) -> dict[str, Any]:
    kind = q.kind
    if kind in ("text", "long_text"):
        schema: dict[str, Any] = {"type": "string"}
        _bounded(schema, "minLength", "maxLength", q)
        if kind == "text" and q.maximum is None:
            schema["maxLength"] = _TEXT_LIMIT  # without it, a text is a long text
        if q.pattern:
            schema["pattern"] = q.pattern
        return schema
    if kind in ("integer", "number"):
        schema = {"type": kind}
        _bounded(schema, "minimum", "maximum", q)
        return schema
    if kind == "single_choice":
        return {"type": "string", "enum": list(q.choices)}
    if kind == "multiple_choice":
        schema = {
            "type": "array",
            "items": {"enum": list(q.choices)},
            "uniqueItems": True,
        }
        _bounded(schema, "minItems", "maxItems", q)
        return schema
    if kind == "yes_no":
        return {"type": "boolean"}
    formats = {
        "date": "date",
        "datetime": "date-time",
        "phone": "phone",
        "id_number": "id-number",
        "email": "email",
        "photo": "attachment",
        "attachment": "attachment",
    }
    if kind in formats:
        return {"type": "string", "format": formats[kind]}
    if kind in ("photos", "attachments"):
        schema = {"type": "array", "items": {"type": "string", "format": "attachment"}}
        _bounded(schema, "minItems", "maxItems", q)
        return schema
    if kind == "address":
        return {
            "type": "object",
            "properties": {part: {"type": "string", "maxLength": 50} for part in ADDRESS_PARTS},
            "required": ["compound", "room"],
            "additionalProperties": False,
        }
    if kind == "group":
        return _object(q.children)
    if kind == "table":
        schema = {"type": "array", "items": _object(q.children)}
        _bounded(schema, "minItems", "maxItems", q)
        return schema
    raise ValueError(f"unknown kind {kind}")


def _object(questions: Sequence[Question]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {q.name: _field_schema(q) for q in questions},
    }
    required = [q.name for q in questions if q.required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _widget(q: Question) -> str:
    if q.widget:
        return q.widget
    if q.kind in ("photo", "photos"):
        return "photo"
    if q.kind == "long_text" and q.maximum is not None and q.maximum <= _TEXT_LIMIT:
        return "textarea"  # a short long text is still drawn as a text box
    return ""


def _ui_fields(questions: Sequence[Question], parent: str, out: dict[str, Any]) -> None:
    for q in questions:
        path = f"{parent}.{q.name}" if parent else q.name
        spec: dict[str, Any] = {"label": q.label}
        if q.help:
            spec["help"] = q.help
        widget = _widget(q)
        if widget:
            spec["widget"] = widget
        if q.show_field:
            target = f"{parent}.{q.show_field}" if parent else q.show_field
            values = list(q.show_values)
            spec["visible_if"] = (
                {"field": target, "equals": values[0]}
                if len(values) == 1
                else {"field": target, "in": values}
            )
        out[path] = spec
        if q.kind == "address":
            for part, label in ADDRESS_PARTS.items():
                out[f"{path}.{part}"] = {"label": label}
        _ui_fields(q.children, path, out)


def to_form(questions: Sequence[Question]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema and UI layer of the questions (check them with :func:`check` first)."""
    ui_fields: dict[str, Any] = {}
    _ui_fields(questions, "", ui_fields)
    return _object(questions), {"order": [q.name for q in questions], "fields": ui_fields}


# -- reading a stored form ------------------------------------------------------------------------


def from_form(schema: Mapping[str, Any], ui: Mapping[str, Any] | None) -> list[Question]:
    """The questions of a stored form version; :class:`NotBuildable` when it has settings the
    questions cannot hold (the form is then edited as JSON)."""
    ui = ui or {}
    specs = ui.get("fields") if isinstance(ui.get("fields"), Mapping) else {}
    assert isinstance(specs, Mapping)
    if "$defs" in schema or "$ref" in schema:
        raise NotBuildable("表单用到了 $defs/$ref 引用")
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        raise NotBuildable("表单最外层没有 properties")
    given = ui.get("order")
    order: list[Any] = given if isinstance(given, list) else []
    names = [n for n in order if n in properties] + [n for n in properties if n not in order]
    return _read_object(schema, names, "", specs, top=True)


def _read_object(
    schema: Mapping[str, Any],
    names: Sequence[str],
    parent: str,
    specs: Mapping[str, Any],
    *,
    top: bool = False,
) -> list[Question]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    found = []
    for name in names:
        path = f"{parent}.{name}" if parent else name
        found.append(_read_field(name, path, properties[name], name in required, specs, top))
    return found


def _read_field(
    name: str,
    path: str,
    schema: Mapping[str, Any],
    required: bool,
    specs: Mapping[str, Any],
    top: bool,
) -> Question:
    spec = specs.get(path) if isinstance(specs.get(path), Mapping) else {}
    assert isinstance(spec, Mapping)
    kind = fields.kind_of(schema)
    widget = str(spec.get("widget") or "")
    if kind == "list" or kind == "other":
        raise NotBuildable(f"字段 {path} 的类型构建器不支持")
    if "const" in schema or ("enum" in schema and kind == "yes_no"):
        raise NotBuildable(f"字段 {path} 用了 const 或布尔选项")
    if widget == "photo" and kind in ("attachment", "attachments"):
        kind = "photo" if kind == "attachment" else "photos"
        widget = ""
    elif kind == "text" and widget == "textarea":
        kind, widget = "long_text", ""
    question = Question(
        kind=kind,
        name=name,
        label=str(spec.get("label") or schema.get("title") or name),
        help=str(spec.get("help") or schema.get("description") or ""),
        required=required,
        widget=widget,
    )
    if kind in CHOICE_KINDS:
        items = schema.get("items") if kind == "multiple_choice" else schema
        values = items.get("enum") if isinstance(items, Mapping) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise NotBuildable(f"字段 {path} 的选项不全是文字")
        question.choices = list(values)
    bounds = {
        "text": ("minLength", "maxLength"),
        "long_text": ("minLength", "maxLength"),
        "integer": ("minimum", "maximum"),
        "number": ("minimum", "maximum"),
        "multiple_choice": ("minItems", "maxItems"),
        "photos": ("minItems", "maxItems"),
        "attachments": ("minItems", "maxItems"),
        "table": ("minItems", "maxItems"),
    }.get(kind)
    if bounds:
        question.minimum = schema.get(bounds[0])
        question.maximum = schema.get(bounds[1])
    question.pattern = str(schema.get("pattern") or "")
    condition = spec.get("visible_if")
    if isinstance(condition, Mapping) and isinstance(condition.get("field"), str):
        question.show_field = condition["field"].rsplit(".", 1)[-1]
        values = condition.get("in", [condition.get("equals")])
        question.show_values = list(values) if isinstance(values, list) else []
    if kind == "group":
        question.children = _read_object(schema, list(schema.get("properties") or {}), path, specs)
    elif kind == "table":
        items = schema.get("items")
        assert isinstance(items, Mapping)
        question.children = _read_object(items, list(items.get("properties") or {}), path, specs)
    if kind in NESTED_KINDS and not top:
        raise NotBuildable(f"字段 {path}：表格或分组里不能再套表格或分组")
    return question


# -- what a clerk can get wrong ----------------------------------------------------------------


def check(questions: Sequence[Question]) -> list[QuestionProblem]:
    """Every problem of the questions, in their order, before :func:`to_form` writes them."""
    problems: list[QuestionProblem] = []
    if not questions:
        problems.append(QuestionProblem("", "", "", "表单至少需要一道题"))
    _check_level(questions, "", problems, top=True)
    return problems


def _check_level(
    questions: Sequence[Question], base: str, problems: list[QuestionProblem], *, top: bool
) -> None:
    seen: dict[str, str] = {}
    earlier: dict[str, Question] = {}
    for index, q in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)

        def add(part: str, message: str, key: str = key, q: Question = q) -> None:
            problems.append(QuestionProblem(key, _title(key, q), part, message))

        if q.kind not in KIND_TITLES:
            add("kind", "请选择题型")
            continue
        if not q.label.strip():
            add("label", "请填写题目")
        elif len(q.label) > 100:
            add("label", "题目不能超过 100 个字")
        if len(q.help) > 1000:
            add("help", "说明不能超过 1000 个字")
        if not SAFE_NAME.fullmatch(q.name):
            add("name", "导出列名只能用英文字母、数字和 _，不以数字开头，最长 64 个字符")
        elif q.name in seen:
            add("name", f"导出列名 {q.name} 与{number_of(seen[q.name])}重复")
        else:
            seen[q.name] = key
        if q.kind in NESTED_KINDS and not top:
            add("kind", "表格或分组里不能再放表格或分组")
        _check_choices(q, add)
        _check_bounds(q, add)
        if q.pattern and q.kind in ("text", "long_text"):
            problem = pattern_problem(q.pattern, 200)
            if problem:
                add("pattern", problem)
        _check_condition(q, earlier, add)
        earlier[q.name] = q
        if q.kind in NESTED_KINDS:
            if not q.children:
                add("children", "表格至少需要一列" if q.kind == "table" else "分组至少需要一道题")
            _check_level(q.children, key, problems, top=False)


def _check_choices(q: Question, add: Any) -> None:
    if q.kind not in CHOICE_KINDS:
        return
    if not q.choices:
        add("choices", "请至少写一个选项（每行一个）")
    duplicates = sorted({c for c in q.choices if q.choices.count(c) > 1})
    if duplicates:
        add("choices", f"选项重复：{'、'.join(duplicates)}")
    if any(len(c) > 100 for c in q.choices):
        add("choices", "每个选项不能超过 100 个字")


def _check_bounds(q: Question, add: Any) -> None:
    names = bounds_of(q.kind)
    if names is None:
        return
    counted = q.kind not in ("integer", "number")
    for value, label in ((q.minimum, names[0]), (q.maximum, names[1])):
        if value is None:
            continue
        if counted and (not isinstance(value, int) or value < 0):
            add("bounds", f"{label}应为不小于 0 的整数")
            return
        if q.kind == "integer" and not isinstance(value, int):
            add("bounds", f"{label}应为整数")
            return
    if q.minimum is not None and q.maximum is not None and q.minimum > q.maximum:
        add("bounds", f"{names[0]}大于{names[1]}，没有答案能通过")
    if q.kind == "text" and q.maximum is not None and q.maximum > _TEXT_LIMIT:
        add("bounds", f"单行文字最多 {_TEXT_LIMIT} 个字，更长的请选“多行文字”")
    if q.kind == "multiple_choice" and q.maximum is not None and q.maximum > len(q.choices):
        add("bounds", f"{names[1]}超过了选项的个数（{len(q.choices)} 个）")


def _check_condition(q: Question, earlier: Mapping[str, Question], add: Any) -> None:
    if not q.show_field:
        return
    target = earlier.get(q.show_field)
    if target is None:
        add("condition", "显示条件只能依据同一层中排在它前面的题目")
        return
    if target.kind not in CONDITION_KINDS:
        add("condition", f"显示条件依据的「{target.label}」不是单选、多选或是／否题")
        return
    if not q.show_values:
        add("condition", f"请选择「{target.label}」为哪些答案时显示本题")
        return
    allowed = [True, False] if target.kind == "yes_no" else target.choices
    wrong = [v for v in q.show_values if not any(v == a and type(v) is type(a) for a in allowed)]
    if wrong:
        add(
            "condition",
            f"{'、'.join(fields.describe(v) for v in wrong)} 不是「{target.label}」的选项",
        )


# -- the question a problem of the engine is about ----------------------------------------------

_PROPERTY = re.compile(r"/properties/([^/]+)")


def owner_of(pointer: str, questions: Sequence[Question]) -> str:
    """The key of the question an engine problem points at (``schema/properties/a/items/...``
    or ``ui/fields/a.b/...``), or ``""`` when it is about the whole form."""
    if pointer.startswith("ui/fields/"):
        names = pointer.removeprefix("ui/fields/").split("/", 1)[0].split(".")
    else:
        names = _PROPERTY.findall(pointer)
    key = ""
    level: Sequence[Question] = questions
    for name in names:
        name = name.replace("~1", "/").replace("~0", "~")
        found = next((i for i, q in enumerate(level, start=1) if q.name == name), None)
        if found is None:
            break
        key = f"{key}.{found}" if key else str(found)
        level = level[found - 1].children
    return key
