"""A form as a list of questions, the way a bureau clerk thinks of it, and back.

The portal's form builder and the XLSX forms (``form_sheets``) both edit a list of
:class:`Question`; :func:`to_form` writes it as the JSON Schema and UI layer the engine
validates (``schema_check``, ``ui_check``), and :func:`from_form` reads a stored version back.
A form the questions cannot say (a ``$ref``, a list of numbers...) is refused by
:func:`from_form` with the reason, and stays editable as JSON.

:func:`check` finds what a clerk can get wrong before the engine's checks run, each problem
naming the question by its number and label in Chinese; :func:`owner_of` finds the question an
engine problem (a JSON pointer) is about. Both live in :mod:`.question_checks`, the question
itself in :mod:`.question_model`; this module re-exports them, so callers import one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import fields
from .fields import ADDRESS_PARTS
from .question_checks import check, owner_of
from .question_model import (
    CHOICE_KINDS,
    CONDITION_KINDS,
    DEFAULT_BOUNDS,
    FILE_KINDS,
    KIND_TITLES,
    NESTED_KINDS,
    TEXT_LIMIT,
    NotBuildable,
    Question,
    QuestionProblem,
    bounds_of,
    number_of,
    walk,
)

__all__ = [
    "CHOICE_KINDS",
    "CONDITION_KINDS",
    "DEFAULT_BOUNDS",
    "FILE_KINDS",
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
            schema["maxLength"] = TEXT_LIMIT  # without it, a text is a long text
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
    if q.kind == "long_text" and q.maximum is not None and q.maximum <= TEXT_LIMIT:
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
