"""What the template ``collection/_fields.html`` draws: one view per input, with its value, its
error and the ids that tie a label, a help text and an error message to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .form_fields import (
    FILE_KINDS,
    MAX_ROWS,
    RADIO_LIMIT,
    FieldSpec,
    FileInfo,
    input_id,
    input_value,
    sibling_path,
    to_local,
    wanted_values,
)


def files_of(value: Any, known: Mapping[str, FileInfo]) -> list[FileInfo]:
    """The files an answer refers to, described (an unknown id as unavailable)."""
    ids = value if isinstance(value, list) else [value]
    return [known.get(v) or FileInfo(v, available=False) for v in ids if isinstance(v, str) and v]


def megabytes(size: int) -> str:
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


class ViewBuilder:
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
            view.show_field = base + sibling_path(spec)
            wanted = [input_value(v) for v in wanted_values(spec)]
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
            view.files = files_of(value, self.files)
            view.limits = "" if self.readonly else self.limits
        elif spec.kind in ("choice", "multiple", "boolean"):
            options = spec.options if spec.kind != "boolean" else (("是", True), ("否", False))
            chosen = (
                {input_value(v) for v in value}
                if isinstance(value, list)
                else ({input_value(value)} if value is not None else set())
            )
            view.options = [
                Option(lbl, input_value(v), input_value(v) in chosen) for lbl, v in options
            ]
            view.select = spec.kind != "multiple" and (
                row_label is not None or spec.widget == "select" or len(options) > RADIO_LIMIT
            )
        elif path in self.raw:
            view.text = self.raw[path]
        elif spec.kind == "datetime" and isinstance(value, str):
            view.text = to_local(value)
        elif spec.kind == "list" and isinstance(value, list):
            view.text = "\n".join(input_value(v) for v in value)
        elif isinstance(value, (dict, list)):
            view.text = json.dumps(value, ensure_ascii=False)
        else:
            view.text = input_value(value)
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
