"""The field kinds of a collection form: how each is written in JSON Schema, and what it accepts.

Shared by ``schema_check`` (is this form acceptable?) and ``validator`` (is this submission?):
the custom formats and their Chinese messages, the kinds and the widgets each may use, how a
``pattern`` is matched, and JSON equality as JSON Schema defines it (``1 == 1.0``, ``true != 1``).
docs/collection/forms.md is the reference written from this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import Any, NamedTuple

import jsonschema

from ..residents.idnumber import IdNumberError, validate_id

try:  # linear-time matching; without it patterns fall back to Python's re (see forms.md)
    import re2 as _re2  # type: ignore[import-untyped, import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - google-re2 is a dependency of the kernel
    _re2 = None

__all__ = [
    "ADDRESS_PARTS",
    "DEFAULT_WIDGET",
    "FORMATS",
    "KINDS",
    "SAFE_NAME",
    "TYPE_NAMES",
    "WIDGETS",
    "FieldInfo",
    "Kind",
    "compile_pattern",
    "describe",
    "field_index",
    "format_checker",
    "kind_of",
    "resolve",
    "tag",
    "types_of",
    "unique",
]

SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)
"""A field name: it becomes an export column, so letters, digits and ``_`` only (fullmatch)."""

TYPE_NAMES = {
    "string": "文字",
    "number": "数字",
    "integer": "整数",
    "boolean": "“是”或“否”",
    "object": "一组字段",
    "array": "列表",
    "null": "空值",
}

ADDRESS_PARTS = {"compound": "小区", "building": "楼号", "entrance": "单元", "room": "室号"}
"""The parts of an address field, with the labels the portal shows by default."""

# -- formats --------------------------------------------------------------------------------

DATE_MESSAGE = "日期格式应为 2026-11-27"
DATETIME_MESSAGE = "时间格式应为 2026-11-27T09:30:00+08:00"
PHONE_MESSAGE = "电话号码应为 11 位手机号或带区号的固定电话"
ID_MESSAGE = "身份证号应为 18 位，前 17 位为数字，最后一位为数字或大写 X，不含空格"
ATTACHMENT_MESSAGE = "附件无效，请重新上传"
EMAIL_MESSAGE = "电子邮箱格式不正确"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))",
    re.ASCII,
)
# The rule of residents.idnumber.validate_phone, on the value as given: no trailing newline,
# ASCII digits only, nothing normalized away.
_PHONE = re.compile(r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}")
_ATTACHMENT = re.compile(r"att_[A-Za-z0-9_-]{16,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _date(value: str) -> str | None:
    if len(value) == 10 and _DATE.fullmatch(value):
        try:
            date(int(value[:4]), int(value[5:7]), int(value[8:]))
            return None
        except ValueError:
            pass
    return DATE_MESSAGE


def _datetime(value: str) -> str | None:
    found = _DATETIME.fullmatch(value)
    if found is None:
        return DATETIME_MESSAGE
    year, month, day, hour, minute, second, off_hour, off_minute = found.groups()
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return DATETIME_MESSAGE
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return DATETIME_MESSAGE
    if off_hour is not None and (int(off_hour) > 23 or int(off_minute) > 59):
        return DATETIME_MESSAGE
    return None


def _phone(value: str) -> str | None:
    return None if _PHONE.fullmatch(value) else PHONE_MESSAGE


def _id_number(value: str) -> str | None:
    if not value.isascii():
        return ID_MESSAGE
    try:
        normalized = validate_id(value)
    except IdNumberError as exc:
        return str(exc)
    return None if normalized == value else ID_MESSAGE


def _attachment(value: str) -> str | None:
    return None if _ATTACHMENT.fullmatch(value) else ATTACHMENT_MESSAGE


def _email(value: str) -> str | None:
    return None if _EMAIL.fullmatch(value) else EMAIL_MESSAGE


FORMATS: dict[str, Callable[[str], str | None]] = {
    "date": _date,
    "date-time": _datetime,
    "phone": _phone,
    "id-number": _id_number,
    "attachment": _attachment,
    "email": _email,
}
"""Each supported ``format``: a check of a string returning ``None`` or the Chinese message."""


def format_checker() -> jsonschema.FormatChecker:
    """A jsonschema ``FormatChecker`` asserting exactly our formats, as our validator does."""
    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(_asserting(check))
    return checker


def _asserting(check: Callable[[str], str | None]) -> Callable[[object], bool]:
    return lambda value: not isinstance(value, str) or check(value) is None


# -- kinds and widgets ----------------------------------------------------------------------


class Kind(NamedTuple):
    """A kind of field as cadres know it, and how a form author writes it.

    ``widget`` is set for the kinds the schema alone does not make, a photo question being
    an attachment question whose UI entry says ``"widget": "photo"``.
    """

    name: str
    title: str
    example: dict[str, Any]
    widget: str | None = None


KINDS = (
    Kind("text", "文字", {"type": "string", "maxLength": 50}),
    Kind("long_text", "长文字", {"type": "string", "maxLength": 2000}),
    Kind("number", "数字", {"type": "number", "minimum": 0}),
    Kind("integer", "整数", {"type": "integer", "minimum": 0}),
    Kind("date", "日期", {"type": "string", "format": "date"}),
    Kind("datetime", "日期时间", {"type": "string", "format": "date-time"}),
    Kind("single_choice", "单选", {"type": "string", "enum": ["是", "否"]}),
    Kind(
        "multiple_choice",
        "多选",
        {"type": "array", "items": {"enum": ["助餐", "助浴", "助医"]}, "uniqueItems": True},
    ),
    Kind("yes_no", "是否", {"type": "boolean"}),
    Kind("phone", "电话", {"type": "string", "format": "phone"}),
    Kind("id_number", "身份证号", {"type": "string", "format": "id-number"}),
    Kind("email", "电子邮箱", {"type": "string", "format": "email"}),
    Kind(
        "address",
        "地址",
        {
            "type": "object",
            "properties": {part: {"type": "string", "maxLength": 50} for part in ADDRESS_PARTS},
            "required": ["compound", "room"],
            "additionalProperties": False,
        },
    ),
    Kind("attachment", "附件", {"type": "string", "format": "attachment"}),
    Kind(
        "attachments",
        "多个附件",
        {"type": "array", "items": {"type": "string", "format": "attachment"}, "maxItems": 9},
    ),
    Kind("photo", "照片", {"type": "string", "format": "attachment"}, widget="photo"),
    Kind(
        "photos",
        "多张照片",
        {"type": "array", "items": {"type": "string", "format": "attachment"}, "maxItems": 9},
        widget="photo",
    ),
    Kind(
        "table",
        "表格（重复填写的一组字段）",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 20}},
                "required": ["name"],
                "additionalProperties": False,
            },
            "maxItems": 20,
        },
    ),
    Kind("group", "字段组", {"type": "object", "properties": {}}),
    Kind("list", "列表", {"type": "array", "items": {"type": "string"}}),
)

WIDGETS: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "long_text", "email"}),
    "textarea": frozenset({"text", "long_text"}),
    "number": frozenset({"number", "integer"}),
    "date": frozenset({"date", "datetime"}),
    "select": frozenset({"single_choice", "multiple_choice"}),
    "radio": frozenset({"single_choice", "yes_no"}),
    "checkbox": frozenset({"multiple_choice", "yes_no"}),
    "switch": frozenset({"yes_no"}),
    "phone": frozenset({"phone"}),
    "id-number": frozenset({"id_number"}),
    "address": frozenset({"address", "group"}),
    "file": frozenset({"attachment", "attachments"}),
    "photo": frozenset({"attachment", "attachments"}),
    "table": frozenset({"table"}),
}
"""Each widget of the UI layer and the kinds of field it can show.

``photo`` is ``file`` restricted to images: the portal offers the camera and photo library, and
answers referring to anything but an image (a PDF, say) are refused (see ``collection.files``).
"""

DEFAULT_WIDGET = {
    "text": "text",
    "long_text": "textarea",
    "number": "number",
    "integer": "number",
    "date": "date",
    "datetime": "date",
    "single_choice": "radio",
    "multiple_choice": "checkbox",
    "yes_no": "switch",
    "phone": "phone",
    "id_number": "id-number",
    "email": "text",
    "address": "address",
    "attachment": "file",
    "attachments": "file",
    "table": "table",
}
"""The widget the portal uses when the UI layer names none."""

_STRING_FORMAT_KINDS = {
    "date": "date",
    "date-time": "datetime",
    "phone": "phone",
    "id-number": "id_number",
    "attachment": "attachment",
    "email": "email",
}


def types_of(schema: Mapping[str, Any]) -> set[str]:
    """The declared types of a field, ``null`` left out (it only makes a field clearable)."""
    declared = schema.get("type")
    found = {declared} if isinstance(declared, str) else set(declared or ())
    return {t for t in found if isinstance(t, str)} - {"null"}


def kind_of(schema: Mapping[str, Any]) -> str:
    """The kind of a field (a name in :data:`KINDS`, or ``"other"``), ``$ref`` already resolved."""
    types = types_of(schema)
    if "enum" in schema or "const" in schema:
        return "yes_no" if types == {"boolean"} else "single_choice"
    if types == {"string"}:
        found = _STRING_FORMAT_KINDS.get(schema.get("format", ""))
        if found:
            return found
        longest = schema.get("maxLength")
        return "long_text" if not isinstance(longest, int) or longest > 200 else "text"
    if types == {"array"}:
        items = schema.get("items")
        items = items if isinstance(items, Mapping) else {}
        if types_of(items) == {"object"}:
            return "table"
        if "enum" in items:
            return "multiple_choice"
        return "attachments" if items.get("format") == "attachment" else "list"
    if types == {"object"}:
        properties = schema.get("properties")
        if (
            isinstance(properties, Mapping)
            and properties
            and set(properties) <= ADDRESS_PARTS.keys()
        ):
            return "address"
        return "group"
    simple = {"number": "number", "integer": "integer", "boolean": "yes_no"}
    return simple.get(next(iter(types)), "other") if len(types) == 1 else "other"


# -- patterns -------------------------------------------------------------------------------

_U_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|(.))", re.S)


def _for_re2(pattern: str) -> str:
    """``\\u4e00`` (ECMA-262 and Python) written as re2 writes it, ``\\x{4e00}``."""
    return _U_ESCAPE.sub(lambda m: f"\\x{{{m[1]}}}" if m[1] else m[0], pattern)


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A search function for ``pattern``: linear time in the text (re2), ``\\d`` is ``[0-9]``.

    Raises ``ValueError`` when the pattern cannot be compiled. Without google-re2 installed it
    falls back to Python's ``re`` with ASCII classes, as safe as ``schema_check`` makes it.
    """
    if _re2 is None:  # pragma: no cover
        try:
            return re.compile(pattern, re.ASCII).search  # type: ignore[return-value]
        except (re.error, OverflowError, RecursionError) as exc:
            raise ValueError(str(exc)) from None
    options = _re2.Options()
    options.log_errors = False
    options.never_capture = True
    try:
        compiled = _re2.compile(_for_re2(pattern), options=options)
    except _re2.error as exc:
        raise ValueError(str(exc)) from None
    low = getattr(compiled, "_regexp", None)
    anchor = getattr(getattr(_re2, "_Anchor", None), "UNANCHORED", None)
    if low is None or anchor is None:  # pragma: no cover - another google-re2 layout
        return lambda text: compiled.search(text) is not None
    match = low.Match

    # The wrapper's search() spends most of its ~3 µs in Python; the engine itself takes ~0.5.
    def search(text: str) -> bool:
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(match(anchor, encoded, 0, len(encoded))[0][0] >= 0)

    return search


# -- JSON values ----------------------------------------------------------------------------

_NO_MATCH = object()


def tag(value: object) -> Hashable:
    """A key equal for values JSON Schema calls equal: ``1`` and ``1.0``, but not ``true``.

    Strings are their own key; other scalars become tuples; lists and objects get a key that
    matches nothing (forms compare only scalars: choices, ``const``, ``visible_if``).
    """
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return ("b", value)
    if value is None:
        return ("z",)
    if isinstance(value, int | float):
        return ("n", value)
    return _NO_MATCH


def _freeze(value: object) -> Hashable:
    if isinstance(value, list):
        return ("a", tuple(_freeze(item) for item in value))
    if isinstance(value, dict):
        return ("o", frozenset((key, _freeze(item)) for key, item in value.items()))
    key = tag(value)
    return ("?", id(value)) if key is _NO_MATCH else key


def unique(items: list[Any]) -> bool:
    """``uniqueItems`` as JSON Schema means it (jsonschema's ``uniq``), in linear time."""
    if all(type(item) is str for item in items):
        return len(set(items)) == len(items)
    try:
        return len({_freeze(item) for item in items}) == len(items)
    except RecursionError:  # data nested deeper than Python recurses cannot be told apart
        return True


def describe(value: object) -> str:
    """A value as a cadre reads it in a message: ``是``, ``0.5``, ``独居``."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None:
        return "空"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# -- the fields of a form -------------------------------------------------------------------


class FieldInfo(NamedTuple):
    """A field of a form, nested ones too: ``members.age`` is ``age`` in the rows of ``members``."""

    path: str
    parent: str
    name: str
    schema: Mapping[str, Any]
    kind: str


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with its ``$ref`` chain followed and merged, to tell its kind and shape.

    Keywords beside a ``$ref`` win over the target's; validation applies both (not this).
    """
    merged: dict[str, Any] = {}
    definitions = root.get("$defs")
    definitions = definitions if isinstance(definitions, Mapping) else {}
    for _ in range(len(definitions) + 1):  # a chain longer than that is a cycle
        merged = {**{k: v for k, v in schema.items() if k != "$ref"}, **merged}
        ref = schema.get("$ref")
        target = definitions.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None
        if not isinstance(target, Mapping):
            break
        schema = target
    return merged


def field_index(schema: Mapping[str, Any]) -> dict[str, FieldInfo]:
    """Every field of a form that passed ``check_schema``, by dotted path, in schema order."""
    found: dict[str, FieldInfo] = {}
    pending: list[tuple[Mapping[str, Any], str]] = [(resolve(schema, schema), "")]
    while pending:
        node, parent = pending.pop(0)
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            continue
        for name, child in properties.items():
            if not isinstance(child, Mapping):
                continue
            resolved = resolve(child, schema)
            path = f"{parent}.{name}" if parent else name
            found[path] = FieldInfo(path, parent, name, resolved, kind_of(resolved))
            items = resolved.get("items")
            if types_of(resolved) == {"object"}:
                pending.append((resolved, path))
            elif isinstance(items, Mapping) and "array" in types_of(resolved):
                pending.append((resolve(items, schema), path))
    return found
