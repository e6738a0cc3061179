"""The fields of a collection form as the portal sees them: each question's spec from its JSON
Schema and UI layer, and its values as inputs hold them (text, local times, numbers).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..collection import fields
from ..collection.fields import ADDRESS_PARTS

BEIJING = timezone(timedelta(hours=8))
#: A repeating group never grows past this many rows, whatever the form says.
MAX_ROWS = 500
#: A single choice with more options than this is a drop-down list rather than radios.
RADIO_LIMIT = 6
#: The renderer's kinds of attachment question (one file, or a list of files).
FILE_KINDS = frozenset({"attachment", "attachments"})
#: The prefix of the check boxes that remove an attached file (``_drop:photos``).
DROP = "_drop:"


class FormValues(Protocol):
    """A submitted form: Starlette's ``FormData`` or any multi-dict."""

    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form, with what the renderer needs to draw and read it."""

    name: str
    kind: str
    label: str
    help: str
    widget: str
    required: bool
    schema: Mapping[str, Any]
    options: tuple[tuple[str, Any], ...] = ()
    children: tuple[FieldSpec, ...] = ()
    visible_if: Mapping[str, Any] | None = None

    @property
    def photo(self) -> bool:
        """An attachment question taking photos only (``"widget": "photo"``)."""
        return self.kind in FILE_KINDS and self.widget == "photo"

    @property
    def accept(self) -> str:
        """The ``accept`` attribute of its file input: what the store takes."""
        return "image/*" if self.photo else "image/*,.pdf,.docx,.xlsx"


@dataclass(frozen=True)
class FileInfo:
    """An attached file as the portal shows it: a thumbnail for a photo, a link otherwise."""

    id: str
    filename: str = ""
    content_type: str = ""
    size: int = 0
    #: False for an id nobody may show here (not this task's, or gone): shown as unavailable.
    available: bool = True

    @property
    def url(self) -> str:
        return f"/attachments/{self.id}"

    @property
    def image(self) -> bool:
        """Whether browsers draw it (HEIC, a phone's own format, they do not)."""
        return self.available and self.content_type in (
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
        )

    @property
    def size_text(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / (1024 * 1024):.1f} MB"
        return f"{max(self.size // 1024, 1)} KB"


@dataclass
class Parsed:
    """What a submitted form says: typed answers, plus inputs that could not be read."""

    data: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


@dataclass
class Answer:
    """One answer as a person reads it; a repeating group has columns and rows instead.

    An attachment question has its ``files``; so does a table cell of one (a list of
    :class:`FileInfo` where the other cells are text).
    """

    label: str
    text: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    files: list[FileInfo] | None = None


def input_id(path: str) -> str:
    """The HTML id of the input named ``path`` (``members[2].age`` → ``f-members-2-age``)."""
    return "f-" + re.sub(r"[^0-9A-Za-z_\u4e00-\u9fff]+", "-", path).strip("-")


#: The kernel's field kinds (collection.fields.kind_of) as the renderer draws them.
KINDS = {
    "text": "text",
    "long_text": "textarea",
    "number": "number",
    "integer": "integer",
    "date": "date",
    "datetime": "datetime",
    "single_choice": "choice",
    "multiple_choice": "multiple",
    "yes_no": "boolean",
    "phone": "phone",
    "id_number": "id_number",
    "email": "email",
    "address": "object",
    "group": "object",
    "attachment": "attachment",
    "attachments": "attachments",
    "table": "group",
    "list": "list",
}


def schema_types(schema: Mapping[str, Any]) -> list[str]:
    return sorted(fields.types_of(schema))


def choice_options(schema: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    if "const" in schema:
        return ((display_scalar(schema["const"]), schema["const"]),)
    values = schema.get("enum")
    return tuple((display_scalar(v), v) for v in values) if isinstance(values, list) else ()


def subfields(
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    ui: Mapping[str, Any],
    parent: str,
) -> tuple[FieldSpec, ...]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ()
    names = list(properties)
    if not parent:  # only the top level has an order
        given = ui.get("order")
        order: list[Any] = given if isinstance(given, list) else []
        names = [n for n in order if n in properties] + [n for n in names if n not in order]
    required = set(schema.get("required") or [])
    specs = []
    for name in names:
        child = properties[name]
        if isinstance(child, Mapping):
            path = f"{parent}.{name}" if parent else name
            specs.append(
                field_spec(name, path, fields.resolve(child, root), root, ui, name in required)
            )
    return tuple(specs)


def field_spec(
    name: str,
    path: str,
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    ui: Mapping[str, Any],
    required: bool,
) -> FieldSpec:
    all_ui = ui.get("fields") if isinstance(ui.get("fields"), Mapping) else {}
    mine = all_ui.get(path) if isinstance(all_ui, Mapping) else None
    own: Mapping[str, Any] = mine if isinstance(mine, Mapping) else {}
    kind = KINDS.get(fields.kind_of(schema), "text")
    if kind == "text" and own.get("widget") == "textarea":
        kind = "textarea"
    items = schema.get("items")
    items = fields.resolve(items, root) if isinstance(items, Mapping) else {}
    options: tuple[tuple[str, Any], ...] = ()
    children: tuple[FieldSpec, ...] = ()
    if kind == "choice":
        options = choice_options(schema)
    elif kind == "multiple":
        options = choice_options(items)
    elif kind == "object":
        children = subfields(schema, root, ui, path)
    elif kind == "group":
        children = subfields(items, root, ui, path)
    condition = own.get("visible_if")
    return FieldSpec(
        name=name,
        kind=kind,
        label=str(own.get("label") or schema.get("title") or ADDRESS_PARTS.get(name, name)),
        help=str(own.get("help") or schema.get("description") or ""),
        widget=str(own.get("widget") or ""),
        required=required,
        schema=schema,
        options=options,
        children=children,
        visible_if=condition if isinstance(condition, Mapping) and "field" in condition else None,
    )


# -- values ------------------------------------------------------------------------------


def input_value(value: Any) -> str:
    """How a JSON value is written into an input (and compared when read back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def display_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def display_value(spec: FieldSpec, value: Any) -> str:
    """An answer as a person reads it (choices by their labels, yes/no in Chinese)."""
    if value is None or value == "" or value == []:
        return ""
    if spec.kind in ("choice", "multiple"):
        labels = {input_value(v): label for label, v in spec.options}
        items = value if isinstance(value, list) else [value]
        return "、".join(labels.get(input_value(v), display_scalar(v)) for v in items)
    if spec.kind == "object" and isinstance(value, Mapping):
        return " ".join(
            display_value(c, value.get(c.name)) for c in spec.children if value.get(c.name)
        )
    if spec.kind == "datetime" and isinstance(value, str):
        return to_local(value).replace("T", " ")
    if isinstance(value, list):
        return "、".join(display_scalar(v) for v in value)
    return display_scalar(value)


def sibling_path(spec: FieldSpec) -> str:
    """The name of the field a ``visible_if`` looks at (written as its dotted path)."""
    assert spec.visible_if is not None
    return str(spec.visible_if["field"]).rsplit(".", 1)[-1]


def wanted_values(spec: FieldSpec) -> list[Any]:
    assert spec.visible_if is not None
    condition = spec.visible_if
    return (
        list(condition["in"])
        if isinstance(condition.get("in"), list)
        else [condition.get("equals")]
    )


def is_shown(spec: FieldSpec, siblings: Mapping[str, Any], hidden: set[str]) -> bool:
    """Whether a field is shown: its sibling answered with a wanted value (as the validator
    decides it, ``1`` equal to ``1.0`` but not to ``true``)."""
    if spec.visible_if is None:
        return True
    name = sibling_path(spec)
    if name in hidden or name not in siblings:
        return False
    wanted = {fields.tag(v) for v in wanted_values(spec)}
    value = siblings[name]
    values = value if isinstance(value, list) else [value]
    return any(fields.tag(v) in wanted for v in values)


def conditions_first(specs: Sequence[FieldSpec]) -> list[FieldSpec]:
    """Fields with a condition, each after the sibling it looks at (check_ui refused loops)."""
    pending = [s for s in specs if s.visible_if is not None]
    ordered: list[FieldSpec] = []
    while pending:
        placed = {s.name for s in ordered}
        ready = [
            s
            for s in pending
            if sibling_path(s) in placed or sibling_path(s) not in {p.name for p in pending}
        ]
        ordered += ready or pending
        pending = [s for s in pending if s not in ordered]
    return ordered


def to_local(value: str) -> str:
    """A stored time (ISO with offset) as a ``datetime-local`` input shows it: Beijing time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def from_local(text: str) -> str:
    """A ``datetime-local`` value (Beijing time) as the ISO time with offset the form stores."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the validator says what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.isoformat()


def parse_number(text: str, integer: bool) -> int | float | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if integer:
        return int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else None
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d{1,18}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", text):
        return float(text)
    return None
