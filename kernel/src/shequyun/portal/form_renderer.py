"""Collection forms in the portal: drawn from a JSON Schema and its UI layer, read back as JSON.

Every input is named by the path the validator reports errors on (``households``,
``address.building``, ``members[2].age``, and ``rows[3].living`` for roster rows, where
``rows[3].`` is the prefix), so an error lands next to the input of the same name and a
submitted form reads back into typed JSON without a mapping table.

The form works without JavaScript: repeating groups are table rows with submit buttons to add
a row (``_add``) or remove one (``_remove``) that re-render the form, and fields shown only on
a condition (``visible_if``) are all shown, then dropped from the answers when the condition is
not met (``collection.js`` only hides them while filling in).

An attachment question is a file input named by its path, beside one hidden input (same name)
per file already attached and a ``_drop:<path>`` check box to remove it. The page handler
stores each uploaded file and puts its id where the upload was, so :meth:`FormLayout.parse`
reads ids only: those kept, then those just uploaded (the last wins for a single file).

:meth:`FormLayout.view` decides what each input holds and which error sits next to it; the
template ``collection/_fields.html`` draws the views.

Reading back, an empty input means "not answered" (the key is left out), so a required field
left empty is reported by the validator as missing; a number that does not parse is reported
here, and its text is kept for the form shown again.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..collection import fields
from ..collection.fields import ADDRESS_PARTS

__all__ = [
    "DROP",
    "FILE_KINDS",
    "Answer",
    "FieldSpec",
    "FieldView",
    "FileInfo",
    "FormLayout",
    "FormView",
    "Parsed",
    "display_value",
    "input_id",
]

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


def _types(schema: Mapping[str, Any]) -> list[str]:
    return sorted(fields.types_of(schema))


def _options(schema: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    if "const" in schema:
        return ((_display_scalar(schema["const"]), schema["const"]),)
    values = schema.get("enum")
    return tuple((_display_scalar(v), v) for v in values) if isinstance(values, list) else ()


def _subfields(
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
            specs.append(_spec(name, path, fields.resolve(child, root), root, ui, name in required))
    return tuple(specs)


def _spec(
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
        options = _options(schema)
    elif kind == "multiple":
        options = _options(items)
    elif kind == "object":
        children = _subfields(schema, root, ui, path)
    elif kind == "group":
        children = _subfields(items, root, ui, path)
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


def _input_value(value: Any) -> str:
    """How a JSON value is written into an input (and compared when read back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _display_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def display_value(spec: FieldSpec, value: Any) -> str:
    """An answer as a person reads it (choices by their labels, yes/no in Chinese)."""
    if value is None or value == "" or value == []:
        return ""
    if spec.kind in ("choice", "multiple"):
        labels = {_input_value(v): label for label, v in spec.options}
        items = value if isinstance(value, list) else [value]
        return "、".join(labels.get(_input_value(v), _display_scalar(v)) for v in items)
    if spec.kind == "object" and isinstance(value, Mapping):
        return " ".join(
            display_value(c, value.get(c.name)) for c in spec.children if value.get(c.name)
        )
    if spec.kind == "datetime" and isinstance(value, str):
        return _to_local(value).replace("T", " ")
    if isinstance(value, list):
        return "、".join(_display_scalar(v) for v in value)
    return _display_scalar(value)


def _sibling(spec: FieldSpec) -> str:
    """The name of the field a ``visible_if`` looks at (written as its dotted path)."""
    assert spec.visible_if is not None
    return str(spec.visible_if["field"]).rsplit(".", 1)[-1]


def _wanted(spec: FieldSpec) -> list[Any]:
    assert spec.visible_if is not None
    condition = spec.visible_if
    return (
        list(condition["in"])
        if isinstance(condition.get("in"), list)
        else [condition.get("equals")]
    )


def _shown(spec: FieldSpec, siblings: Mapping[str, Any], hidden: set[str]) -> bool:
    """Whether a field is shown: its sibling answered with a wanted value (as the validator
    decides it, ``1`` equal to ``1.0`` but not to ``true``)."""
    if spec.visible_if is None:
        return True
    name = _sibling(spec)
    if name in hidden or name not in siblings:
        return False
    wanted = {fields.tag(v) for v in _wanted(spec)}
    value = siblings[name]
    values = value if isinstance(value, list) else [value]
    return any(fields.tag(v) in wanted for v in values)


def _conditions_first(specs: Sequence[FieldSpec]) -> list[FieldSpec]:
    """Fields with a condition, each after the sibling it looks at (check_ui refused loops)."""
    pending = [s for s in specs if s.visible_if is not None]
    ordered: list[FieldSpec] = []
    while pending:
        placed = {s.name for s in ordered}
        ready = [
            s
            for s in pending
            if _sibling(s) in placed or _sibling(s) not in {p.name for p in pending}
        ]
        ordered += ready or pending
        pending = [s for s in pending if s not in ordered]
    return ordered


def _to_local(value: str) -> str:
    """A stored time (ISO with offset) as a ``datetime-local`` input shows it: Beijing time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _from_local(text: str) -> str:
    """A ``datetime-local`` value (Beijing time) as the ISO time with offset the form stores."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the validator says what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.isoformat()


def _number(text: str, integer: bool) -> int | float | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if integer:
        return int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else None
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d{1,18}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", text):
        return float(text)
    return None


# -- the layout --------------------------------------------------------------------------


class FormLayout:
    """A form version's fields, ready to be drawn and read back.

    ``FormLayout(schema, ui)``; then :meth:`view` for the form, :meth:`row_view` for a roster
    row, :meth:`parse` for a submitted form and :meth:`answers` for a read-only view.
    ``max_file_bytes`` and ``max_body_bytes`` are the limits the help of a file input states.
    """

    def __init__(
        self,
        schema: Mapping[str, Any],
        ui: Mapping[str, Any] | None = None,
        *,
        max_file_bytes: int = 8 * 1024 * 1024,
        max_body_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.schema = schema
        self.ui = ui or {}
        self.fields = _subfields(fields.resolve(schema, schema), schema, self.ui, "")
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_body_bytes

    @property
    def has_files(self) -> bool:
        """Whether any question, nested ones included, takes files (the form is multipart)."""
        pending = list(self.fields)
        while pending:
            spec = pending.pop()
            if spec.kind in FILE_KINDS:
                return True
            pending += spec.children
        return False

    @property
    def file_limits(self) -> str:
        """The limits of uploads, as the help of file inputs states them."""
        return (
            f"每个文件不超过 {_megabytes(self.max_file_bytes)}，"
            f"每次保存或提交的文件合计不超过 {_megabytes(self.max_body_bytes)}"
        )

    # -- reading back --------------------------------------------------------------------

    def parse(self, form: FormValues, *, prefix: str = "", remove: str | None = None) -> Parsed:
        """The answers in ``form`` under ``prefix``; ``remove`` names a group row to drop."""
        parsed = Parsed(data={})
        keys = list(form.keys())
        parsed.data = self._parse_object(self.fields, form, keys, prefix, remove, parsed)
        return parsed

    def _parse_object(
        self,
        specs: Sequence[FieldSpec],
        form: FormValues,
        keys: list[str],
        base: str,
        remove: str | None,
        parsed: Parsed,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in specs:
            present, value = self._parse_field(spec, form, keys, base + spec.name, remove, parsed)
            if present:
                out[spec.name] = value
        hidden: set[str] = set()
        for spec in _conditions_first(specs):  # answers of hidden fields are not kept
            if not _shown(spec, out, hidden):
                hidden.add(spec.name)
                out.pop(spec.name, None)
                path = base + spec.name
                below = (path + ".", path + "[")
                for bad in [p for p in parsed.errors if p == path or p.startswith(below)]:
                    del parsed.errors[bad]
        return out

    def _parse_field(
        self,
        spec: FieldSpec,
        form: FormValues,
        keys: list[str],
        path: str,
        remove: str | None,
        parsed: Parsed,
    ) -> tuple[bool, Any]:
        if spec.kind == "object":
            value = self._parse_object(spec.children, form, keys, path + ".", remove, parsed)
            return bool(value), value
        if spec.kind == "group":
            return self._parse_group(spec, form, keys, path, remove, parsed)
        if spec.kind == "multiple":
            chosen = {str(v) for v in form.getlist(path) if str(v) != ""}
            values = [v for _label, v in spec.options if _input_value(v) in chosen]
            return bool(values), values
        if spec.kind in FILE_KINDS:
            dropped = {str(v) for v in form.getlist(DROP + path)}
            ids = [
                v.strip()
                for v in form.getlist(path)
                if isinstance(v, str) and v.strip() and v.strip() not in dropped
            ]
            ids = list(dict.fromkeys(ids))
            if spec.kind == "attachment":
                return bool(ids), ids[-1] if ids else None
            return bool(ids), ids
        raw = next((str(v) for v in form.getlist(path)), "").strip()
        if spec.kind == "list":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            items = spec.schema.get("items")
            numeric = isinstance(items, Mapping) and _types(items)[:1] in (["integer"], ["number"])
            if numeric:
                assert isinstance(items, Mapping)
                numbers = [_number(line, _types(items)[0] == "integer") for line in lines]
                if any(n is None for n in numbers):
                    parsed.errors[path] = "每行应为一个数字"
                    parsed.raw[path] = raw
                    return False, None
                return bool(numbers), numbers
            return bool(lines), lines
        if raw == "":
            return False, None
        if spec.kind == "choice":
            for _label, option in spec.options:
                if _input_value(option) == raw:
                    return True, option
            return True, raw  # not an option: the validator says so in its own words
        if spec.kind == "boolean":
            if raw in ("true", "false"):
                return True, raw == "true"
            parsed.errors[path] = "请选择“是”或“否”"
            return False, None
        if spec.kind in ("integer", "number"):
            number = _number(raw, spec.kind == "integer")
            if number is None:
                parsed.errors[path] = "请填写整数" if spec.kind == "integer" else "请填写数字"
                parsed.raw[path] = raw
                return False, None
            return True, number
        if spec.kind == "datetime":
            return True, _from_local(raw)
        return True, raw

    def _parse_group(
        self,
        spec: FieldSpec,
        form: FormValues,
        keys: list[str],
        path: str,
        remove: str | None,
        parsed: Parsed,
    ) -> tuple[bool, Any]:
        pattern = re.compile(re.escape(path) + r"\[(\d{1,4})\]")
        indexes = sorted({int(m.group(1)) for k in keys if (m := pattern.match(k))})
        shown = form.getlist(f"_rows:{path}")
        rendered = int(shown[0]) if shown and str(shown[0]).isdigit() else len(indexes)
        rows: list[dict[str, Any]] = []
        for index in indexes[:MAX_ROWS]:
            row_path = f"{path}[{index}]"
            if row_path == remove:
                continue
            before = dict(parsed.errors)
            row = self._parse_object(spec.children, form, keys, row_path + ".", remove, parsed)
            # Row errors move with the row: rows are renumbered once blank ones are dropped.
            new = {k: v for k, v in parsed.errors.items() if k not in before}
            for k in new:
                del parsed.errors[k]
            new_raw = {k: v for k, v in parsed.raw.items() if k.startswith(row_path + ".")}
            for k in new_raw:
                del parsed.raw[k]
            if not row and not new:
                continue
            target = f"{path}[{len(rows)}]"
            parsed.errors.update({target + k[len(row_path) :]: v for k, v in new.items()})
            parsed.raw.update({target + k[len(row_path) :]: v for k, v in new_raw.items()})
            rows.append(row)
        removed = 1 if remove and remove.startswith(path + "[") else 0
        parsed.rows[path] = max(rendered - len(rows) - removed, 0)
        return bool(rows), rows

    # -- drawing (the template collection/_fields.html draws the views) ------------------

    def view(
        self,
        data: Mapping[str, Any] | None = None,
        errors: Mapping[str, str] | None = None,
        *,
        prefix: str = "",
        raw: Mapping[str, str] | None = None,
        blank_rows: Mapping[str, int] | None = None,
        readonly: bool = False,
        files: Mapping[str, FileInfo] | None = None,
    ) -> FormView:
        """The fields filled with ``data``, each with its error; unplaced errors in the summary.

        ``blank_rows`` says how many empty rows each repeating group offers (one when it has no
        rows yet, none otherwise); ``files`` describes the attached files by id (an id not in
        it is shown as unavailable).
        """
        builder = _Builder(dict(errors or {}), dict(raw or {}), dict(blank_rows or {}), readonly)
        builder.files = dict(files or {})
        builder.limits = self.file_limits
        fields = [builder.field(s, (data or {}).get(s.name), prefix, None) for s in self.fields]
        return FormView(fields, builder.finish())

    def row_view(
        self,
        data: Mapping[str, Any] | None,
        errors: Mapping[str, str] | None,
        *,
        prefix: str,
        row_label: str,
        raw: Mapping[str, str] | None = None,
        readonly: bool = False,
        files: Mapping[str, FileInfo] | None = None,
    ) -> FormView:
        """The fields of one roster row as compact table cells (labels in ``aria-label``)."""
        builder = _Builder(dict(errors or {}), dict(raw or {}), {}, readonly)
        builder.files = dict(files or {})
        builder.limits = self.file_limits
        fields = [
            builder.field(s, (data or {}).get(s.name), prefix, row_label) for s in self.fields
        ]
        return FormView(fields, builder.finish())

    def answers(
        self, data: Mapping[str, Any] | None, files: Mapping[str, FileInfo] | None = None
    ) -> list[Answer]:
        """The answers as a person reads them (for reviewers and submitted tasks); ``files``
        describes the attached files by id, as for :meth:`view`."""
        known = files or {}
        found = []
        for spec in self.fields:
            value = (data or {}).get(spec.name)
            if spec.kind in FILE_KINDS:
                found.append(Answer(spec.label, "", files=_files(value, known)))
                continue
            if spec.kind != "group":
                found.append(Answer(spec.label, display_value(spec, value)))
                continue
            rows = [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
            found.append(
                Answer(
                    spec.label,
                    "",
                    [c.label for c in spec.children],
                    [
                        [
                            _files(r.get(c.name), known)
                            if c.kind in FILE_KINDS
                            else display_value(c, r.get(c.name))
                            for c in spec.children
                        ]
                        for r in rows
                    ],
                )
            )
        return found


def _files(value: Any, known: Mapping[str, FileInfo]) -> list[FileInfo]:
    """The files an answer refers to, described (an unknown id as unavailable)."""
    ids = value if isinstance(value, list) else [value]
    return [known.get(v) or FileInfo(v, available=False) for v in ids if isinstance(v, str) and v]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


@dataclass
class Option:
    label: str
    value: str
    checked: bool


@dataclass
class FieldView:
    """One field as the template draws it: ``spec`` plus where it is and what it holds."""

    spec: FieldSpec
    path: str
    id: str
    error: str | None
    readonly: bool
    #: The row it sits in (compact cell: no visible label, ``aria_label`` instead).
    row_label: str | None = None
    text: str = ""
    options: list[Option] = field(default_factory=list)
    select: bool = False
    children: list[FieldView] = field(default_factory=list)
    rows: list[RowView] = field(default_factory=list)
    show_field: str | None = None
    show_values: str | None = None
    #: A part of a compound field (an address) in a table cell: its label is a placeholder.
    in_object: bool = False
    #: The files attached to an attachment question, and the limits its help states.
    files: list[FileInfo] = field(default_factory=list)
    limits: str = ""

    @property
    def aria_label(self) -> str | None:
        return f"{self.spec.label}（{self.row_label}）" if self.row_label else None

    @property
    def describedby(self) -> str | None:
        ids = [f"{self.id}-error"] if self.error else []
        if self.spec.help and not self.row_label:
            ids.append(f"{self.id}-help")
        if self.limits and not self.row_label:
            ids.append(f"{self.id}-limits")
        return " ".join(ids) or None


@dataclass
class RowView:
    number: int
    path: str
    id: str
    label: str
    error: str | None
    cells: list[FieldView]


@dataclass
class FormView:
    fields: list[FieldView]
    #: Errors in page order: (label, message, id of the input to jump to, or "").
    summary: list[tuple[str, str, str]]


class _Builder:
    def __init__(
        self, errors: dict[str, str], raw: dict[str, str], blank: dict[str, int], readonly: bool
    ) -> None:
        self.errors = errors
        self.raw = raw
        self.blank = blank
        self.readonly = readonly
        self.summary: list[tuple[str, str, str]] = []
        self.files: dict[str, FileInfo] = {}
        self.limits = ""

    def take(self, path: str, label: str, *, below: bool) -> str | None:
        """The errors for ``path`` (and, for a leaf, for anything below it): shown here."""
        under = (path + ".", path + "[")
        keys = [k for k in self.errors if k == path or (below and k.startswith(under))]
        messages = list(dict.fromkeys(self.errors.pop(k) for k in keys))
        if not messages:
            return None
        text = "；".join(messages)
        self.summary.append((label, text, input_id(path)))
        return text

    def finish(self) -> list[tuple[str, str, str]]:
        leftover = [(k or "（整张表）", m, "") for k, m in self.errors.items()]
        self.errors.clear()
        return self.summary + leftover

    def field(self, spec: FieldSpec, value: Any, base: str, row_label: str | None) -> FieldView:
        path = base + spec.name
        label = f"{spec.label}（{row_label}）" if row_label else spec.label
        leaf = spec.kind not in ("object", "group")
        view = FieldView(
            spec=spec,
            path=path,
            id=input_id(path),
            error=self.take(path, label, below=leaf),
            readonly=self.readonly,
            row_label=row_label,
        )
        if spec.visible_if:
            view.show_field = base + _sibling(spec)
            wanted = [_input_value(v) for v in _wanted(spec)]
            view.show_values = json.dumps(wanted, ensure_ascii=False)
        if spec.kind == "object":
            inner = value if isinstance(value, Mapping) else {}
            view.children = [
                self.field(c, inner.get(c.name), path + ".", row_label) for c in spec.children
            ]
            for child in view.children:
                child.in_object = True
        elif spec.kind == "group":
            view.rows = self.rows(spec, value, path)
        elif spec.kind in FILE_KINDS:
            view.files = _files(value, self.files)
            view.limits = "" if self.readonly else self.limits
        elif spec.kind in ("choice", "multiple", "boolean"):
            options = spec.options if spec.kind != "boolean" else (("是", True), ("否", False))
            chosen = (
                {_input_value(v) for v in value}
                if isinstance(value, list)
                else ({_input_value(value)} if value is not None else set())
            )
            view.options = [
                Option(lbl, _input_value(v), _input_value(v) in chosen) for lbl, v in options
            ]
            view.select = spec.kind != "multiple" and (
                row_label is not None or spec.widget == "select" or len(options) > RADIO_LIMIT
            )
        elif path in self.raw:
            view.text = self.raw[path]
        elif spec.kind == "datetime" and isinstance(value, str):
            view.text = _to_local(value)
        elif spec.kind == "list" and isinstance(value, list):
            view.text = "\n".join(_input_value(v) for v in value)
        elif isinstance(value, (dict, list)):
            view.text = json.dumps(value, ensure_ascii=False)
        else:
            view.text = _input_value(value)
        return view

    def rows(self, spec: FieldSpec, value: Any, path: str) -> list[RowView]:
        given = (
            [r if isinstance(r, Mapping) else {} for r in value] if isinstance(value, list) else []
        )
        blank = self.blank.get(path, 0 if given else 1)
        rows = []
        for index in range(min(len(given) + blank, MAX_ROWS)):
            row = given[index] if index < len(given) else {}
            row_path = f"{path}[{index}]"
            label = f"第 {index + 1} 行"
            rows.append(
                RowView(
                    number=index + 1,
                    path=row_path,
                    id=input_id(row_path),
                    label=label,
                    error=self.take(row_path, f"{spec.label} {label}", below=False),
                    cells=[
                        self.field(c, row.get(c.name), row_path + ".", label) for c in spec.children
                    ],
                )
            )
        return rows
