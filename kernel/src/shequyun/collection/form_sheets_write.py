"""Forms written back as the Excel workbooks :mod:`.form_sheets` reads (XLSForm's ``survey``,
``choices`` and ``settings`` sheets), so that reading a download gives the same schema back."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

from .form_sheets import SURVEY_COLUMNS, TYPES
from .questions import CHOICE_KINDS, NESTED_KINDS, Question, from_form

__all__ = ["write_workbook"]


def _relevant(question: Question, level: Sequence[Question]) -> str:
    if not question.show_field:
        return ""
    target = next((q for q in level if q.name == question.show_field), None)
    terms = []
    for value in question.show_values:
        if isinstance(value, bool):
            terms.append(f"${{{question.show_field}}} = {'true' if value else 'false'}()")
        elif target is not None and target.kind == "multiple_choice":
            terms.append(f"selected(${{{question.show_field}}}, '{value}')")
        else:
            terms.append(f"${{{question.show_field}}} = '{value}'")
    return " or ".join(terms)


def _survey_rows(
    questions: Sequence[Question], parent: str, lists: dict[str, list[str]]
) -> Iterator[list[Any]]:
    for question in questions:
        path = f"{parent}_{question.name}" if parent else question.name
        if question.kind in CHOICE_KINDS:
            list_name = path
            while list_name in lists:
                list_name += "_"
            lists[list_name] = question.choices
            prefix = "select_one" if question.kind == "single_choice" else "select_multiple"
            word = f"{prefix} {list_name}"
        elif question.kind in NESTED_KINDS:
            word = "begin_repeat" if question.kind == "table" else "begin_group"
        else:
            word = TYPES[question.kind]
        constraint = f"regex(., '{question.pattern}')" if question.pattern else ""
        yield [
            word,
            question.name,
            question.label,
            question.help,
            "yes" if question.required else "",
            _relevant(question, questions),
            question.minimum,
            question.maximum,
            constraint,
            question.widget,
        ]
        if question.kind in NESTED_KINDS:
            yield from _survey_rows(question.children, path, lists)
            yield ["end_repeat" if question.kind == "table" else "end_group"]


def write_workbook(
    title: str, description: str, schema: dict[str, Any], ui: dict[str, Any]
) -> bytes:
    """The form as an XLSX workbook; ``questions.NotBuildable`` when the form cannot be one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    questions = from_form(schema, ui)
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    lists: dict[str, list[str]] = {}
    survey.append(list(SURVEY_COLUMNS))
    for row in _survey_rows(questions, "", lists):
        _append(survey, row)
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for list_name, options in lists.items():
        for option in options:
            _append(choices, [list_name, option, option])
    settings = workbook.create_sheet("settings")
    settings.append(["form_title", "description"])
    _append(settings, [title, description])
    for sheet, widths in (
        (survey, (22, 16, 30, 30, 8, 34, 8, 8, 24, 12)),
        (choices, (20, 20, 20)),
        (settings, (30, 50)),
    ):
        for index, width in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + index)].width = width
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _append(sheet: Any, values: Sequence[Any]) -> None:
    """A row whose text stays text: a label starting with ``=`` is not a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cleaned = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
    sheet.append(cleaned)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
