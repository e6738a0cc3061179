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

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..collection import fields
from .form_fields import (
    DROP,
    FILE_KINDS,
    MAX_ROWS,
    Answer,
    FieldSpec,
    FileInfo,
    FormValues,
    Parsed,
    conditions_first,
    display_value,
    from_local,
    input_id,
    input_value,
    is_shown,
    parse_number,
    schema_types,
    subfields,
)
from .form_views import FieldView, FormView, ViewBuilder, files_of, megabytes

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
        self.fields = subfields(fields.resolve(schema, schema), schema, self.ui, "")
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
            f"每个文件不超过 {megabytes(self.max_file_bytes)}，"
            f"每次保存或提交的文件合计不超过 {megabytes(self.max_body_bytes)}"
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
        for spec in conditions_first(specs):  # answers of hidden fields are not kept
            if not is_shown(spec, out, hidden):
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
            values = [v for _label, v in spec.options if input_value(v) in chosen]
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
            numeric = isinstance(items, Mapping) and schema_types(items)[:1] in (
                ["integer"],
                ["number"],
            )
            if numeric:
                assert isinstance(items, Mapping)
                numbers = [
                    parse_number(line, schema_types(items)[0] == "integer") for line in lines
                ]
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
                if input_value(option) == raw:
                    return True, option
            return True, raw  # not an option: the validator says so in its own words
        if spec.kind == "boolean":
            if raw in ("true", "false"):
                return True, raw == "true"
            parsed.errors[path] = "请选择“是”或“否”"
            return False, None
        if spec.kind in ("integer", "number"):
            number = parse_number(raw, spec.kind == "integer")
            if number is None:
                parsed.errors[path] = "请填写整数" if spec.kind == "integer" else "请填写数字"
                parsed.raw[path] = raw
                return False, None
            return True, number
        if spec.kind == "datetime":
            return True, from_local(raw)
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
        builder = ViewBuilder(dict(errors or {}), dict(raw or {}), dict(blank_rows or {}), readonly)
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
        builder = ViewBuilder(dict(errors or {}), dict(raw or {}), {}, readonly)
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
                found.append(Answer(spec.label, "", files=files_of(value, known)))
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
                            files_of(r.get(c.name), known)
                            if c.kind in FILE_KINDS
                            else display_value(c, r.get(c.name))
                            for c in spec.children
                        ]
                        for r in rows
                    ],
                )
            )
        return found
