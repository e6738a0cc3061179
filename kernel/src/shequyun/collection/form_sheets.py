"""Forms written as Excel workbooks, in the spirit of XLSForm (ODK, Kobo), and back.

Sheet ``survey``: one row a question, with the columns ``type``, ``name``, ``label``, ``hint``,
``required``, ``relevant``, ``min``, ``max``, ``constraint``, ``appearance`` (Chinese headers
work too: 题型, 列名, 题目, 说明, 必填, 显示条件, 最小值, 最大值, 格式, 控件). Sheet ``choices``:
``list_name``, ``name``, ``label``, one row an option of a ``select_one``/``select_multiple``
list. Sheet ``settings`` (optional): ``form_title``, ``description``. Tables are rows between
``begin_repeat`` and ``end_repeat``, groups between ``begin_group`` and ``end_group``.
docs/bureaus.md shows an example sheet.

:func:`read_workbook` reports every problem with its sheet, row and column, as the resident
import does, and returns questions only when there is none; ``form_sheets_write.write_workbook``
writes any form the builder can hold, so that reading the download gives the same schema back.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..spreadsheets import OVERPACKED_MESSAGE, overpacked_xlsx
from .questions import (
    CHOICE_KINDS,
    NESTED_KINDS,
    Question,
    check,
    owner_of,
    to_form,
    walk,
)

__all__ = [
    "MAX_SHEET_BYTES",
    "SheetForm",
    "SheetProblem",
    "read_workbook",
]

MAX_SHEET_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
#: Rows read from one sheet, blank ones too: blank rows are skipped, and a sheet of millions
#: of them would otherwise be read to the end.
MAX_ROWS_READ = 10 * MAX_ROWS

SURVEY_HEADERS = {
    "type": "type",
    "题型": "type",
    "类型": "type",
    "name": "name",
    "列名": "name",
    "字段名": "name",
    "label": "label",
    "题目": "label",
    "hint": "hint",
    "说明": "hint",
    "required": "required",
    "必填": "required",
    "relevant": "relevant",
    "显示条件": "relevant",
    "min": "min",
    "最小值": "min",
    "max": "max",
    "最大值": "max",
    "constraint": "constraint",
    "格式": "constraint",
    "appearance": "appearance",
    "控件": "appearance",
}
CHOICE_HEADERS = {
    "list_name": "list_name",
    "选项表": "list_name",
    "name": "name",
    "label": "label",
    "选项": "label",
}
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "min",
    "max",
    "constraint",
    "appearance",
)

#: Types as the sheet writes them, XLSForm's own where it has one (decimal, image, file).
TYPES = {
    "text": "text",
    "long_text": "long_text",
    "integer": "integer",
    "number": "decimal",
    "yes_no": "yes_no",
    "date": "date",
    "datetime": "datetime",
    "phone": "phone",
    "id_number": "id_number",
    "email": "email",
    "address": "address",
    "photo": "image",
    "photos": "images",
    "attachment": "file",
    "attachments": "files",
}
ALIASES = {
    **{word: kind for kind, word in TYPES.items()},
    **{kind: kind for kind in TYPES},
    "datetime": "datetime",
    "datetime_local": "datetime",
    "boolean": "yes_no",
    "acknowledge": "yes_no",
    "photo": "photo",
    "photos": "photos",
    "image": "photo",
    "images": "photos",
    "file": "attachment",
    "files": "attachments",
    "note_text": "long_text",
}
TRUE_WORDS = {"yes", "true", "true()", "是", "1", "y", "必填"}
FALSE_WORDS = {"no", "false", "false()", "否", "0", "n", ""}

_TERM = re.compile(
    r"""\s*(?:
        \$\{(?P<field>\w+)\}\s*=\s*(?:'(?P<v1>[^']*)'|"(?P<v2>[^"]*)"|(?P<flag>true|false)\(\))
      | selected\(\s*\$\{(?P<sfield>\w+)\}\s*,\s*(?:'(?P<s1>[^']*)'|"(?P<s2>[^"]*)")\s*\)
    )\s*""",
    re.X,
)
_OR = re.compile(r"\s+or\s+")
_REGEX = re.compile(r"""\s*regex\(\s*\.\s*,\s*(?:'(?P<a>.*)'|"(?P<b>.*)")\s*\)\s*""", re.S)


@dataclass(frozen=True)
class SheetProblem:
    """One problem: the sheet, the row as Excel numbers it, the column as headed, why."""

    sheet: str
    row: int
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class SheetForm:
    """What a workbook says: the title and description from ``settings``, the questions, and
    every problem (``questions`` is empty when there is one)."""

    title: str = ""
    description: str = ""
    questions: list[Question] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]
    headers: dict[str, str]  # our column → the header as written

    def text(self, column: str) -> str:
        value = self.cells.get(column)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


class _TooManyRows(Exception):
    def __init__(self, sheet: str) -> None:
        super().__init__(sheet)
        self.sheet = sheet


def _rows(sheet: Any, known: dict[str, str]) -> tuple[dict[str, str], list[_Row]]:
    headers: dict[str, str] = {}
    rows: list[_Row] = []
    positions: dict[int, str] = {}
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS_READ:
            raise _TooManyRows(sheet.title)
        if not any(c is not None and str(c).strip() for c in cells):
            continue
        if not positions:
            for index, cell in enumerate(cells):
                written = str(cell or "").strip()
                key = written.lower().split("::", 1)[0].strip()
                column = known.get(key) or known.get(written)
                if column and column not in headers:
                    headers[column] = written
                    positions[index] = column
            if not positions:
                return {}, []
            continue
        values = {positions[i]: c for i, c in enumerate(cells) if i in positions}
        rows.append(_Row(number, values, headers))
        if len(rows) > MAX_ROWS:
            break
    return headers, rows


def _sheet(workbook: Any, *names: str) -> Any:
    for sheet in workbook.worksheets:
        if sheet.title.strip().lower() in names:
            return sheet
    return None


def read_workbook(data: bytes) -> SheetForm:
    """The form in an XLSX workbook, or every problem found in it (nothing half-read)."""
    result = SheetForm()
    if len(data) > MAX_SHEET_BYTES:
        result.problems.append(SheetProblem("", 0, "", "文件不能超过 5 MB"))
        return result
    if not data.startswith(b"PK\x03\x04"):
        result.problems.append(
            SheetProblem("", 0, "", "请上传 Excel 的 .xlsx 文件（旧版 .xls 请另存为 .xlsx）")
        )
        return result
    if overpacked_xlsx(data):
        result.problems.append(SheetProblem("", 0, "", OVERPACKED_MESSAGE))
        return result
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged file
        result.problems.append(SheetProblem("", 0, "", "无法读取该 XLSX 文件，请确认文件未损坏"))
        return result
    try:
        survey = _sheet(workbook, "survey", "题目")
        if survey is None:
            result.problems.append(
                SheetProblem("survey", 0, "", "缺少名为 survey 的工作表（每行一道题）")
            )
            return result
        headers, rows = _rows(survey, SURVEY_HEADERS)
        choices_sheet = _sheet(workbook, "choices", "选项")
        choice_headers, choice_rows = (
            _rows(choices_sheet, CHOICE_HEADERS) if choices_sheet is not None else ({}, [])
        )
        settings = _sheet(workbook, "settings", "设置")
        if settings is not None:
            _read_settings(settings, result)
    except _TooManyRows as exc:
        message = f"工作表超过 {MAX_ROWS_READ} 行（含空行），请删去多余的空行"
        result.problems.append(SheetProblem(exc.sheet, 0, "", message))
        return result
    finally:
        workbook.close()
    for column in ("type", "label"):
        if column not in headers:
            result.problems.append(SheetProblem("survey", 1, column, f"表头缺少 {column} 列"))
    if len(rows) > MAX_ROWS:
        result.problems.append(SheetProblem("survey", 0, "", f"一个表单最多 {MAX_ROWS} 行"))
    if result.problems:
        return result
    lists = _read_choices(choice_headers, choice_rows, result.problems)
    questions, rows_of = _Reader(lists, result.problems).read(rows)
    _check_questions(questions, rows_of, headers, result.problems)
    if not result.problems:
        result.questions = questions
    result.problems.sort(key=lambda p: (p.sheet != "survey", p.row))
    return result


def _read_settings(sheet: Any, result: SheetForm) -> None:
    known = {
        "form_title": "title",
        "标题": "title",
        "description": "description",
        "说明": "description",
    }
    _headers, rows = _rows(sheet, known)
    if rows:
        result.title = rows[0].text("title")
        result.description = rows[0].text("description")


def _read_choices(
    headers: dict[str, str], rows: list[_Row], problems: list[SheetProblem]
) -> dict[str, list[tuple[int, str]]]:
    lists: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        name = row.text("list_name")
        option = row.text("label") or row.text("name")
        if not name:
            problems.append(
                SheetProblem("choices", row.number, row.header("list_name"), "请填写选项表名")
            )
        elif not option:
            problems.append(SheetProblem("choices", row.number, row.header("label"), "选项为空"))
        else:
            lists.setdefault(name, []).append((row.number, option))
    return lists


class _Reader:
    """The survey rows into questions, tables and groups nested by their begin/end rows."""

    def __init__(
        self, lists: dict[str, list[tuple[int, str]]], problems: list[SheetProblem]
    ) -> None:
        self.lists = lists
        self.problems = problems

    def add(self, row: _Row, column: str, message: str) -> None:
        self.problems.append(SheetProblem("survey", row.number, row.header(column), message))

    def read(self, rows: list[_Row]) -> tuple[list[Question], dict[str, int]]:
        top: list[Question] = []
        stack: list[tuple[Question, _Row, str]] = []  # open tables and groups
        placed: dict[int, _Row] = {}  # id(question) → its row
        for row in rows:
            word = row.text("type")
            lowered = word.lower()
            level = stack[-1][0].children if stack else top
            if lowered in ("end_repeat", "end repeat", "end_group", "end group"):
                wanted = "table" if "repeat" in lowered else "group"
                if not stack or stack[-1][0].kind != wanted:
                    self.add(row, "type", f"{word} 没有对应的开始行")
                else:
                    stack.pop()
                continue
            question = self.question(row, word, level)
            if question is None:
                continue
            placed[id(question)] = row
            level.append(question)
            if question.kind in NESTED_KINDS:
                if stack:
                    self.add(row, "type", "表格或分组里不能再放表格或分组")
                stack.append((question, row, word))
        for question, row, word in stack:
            end = "end_repeat" if question.kind == "table" else "end_group"
            self.add(row, "type", f"{word} 缺少对应的 {end} 行")
        rows_of = {key: placed[id(q)].number for key, q in walk(top) if id(q) in placed}
        return top, rows_of

    def question(self, row: _Row, word: str, level: list[Question]) -> Question | None:
        kind, list_name = self.kind(row, word)
        if kind is None:
            return None
        name = row.text("name") or f"q{row.number}"
        question = Question(kind=kind, name=name, label=row.text("label"), help=row.text("hint"))
        required = row.text("required").lower()
        if required in TRUE_WORDS:
            question.required = True
        elif required not in FALSE_WORDS:
            self.add(row, "required", f"必填应写 yes 或 no（或 是、否），而不是 {required}")
        if kind in CHOICE_KINDS:
            options = self.lists.get(list_name)
            if options is None:
                self.add(row, "type", f"choices 工作表中没有名为 {list_name} 的选项表")
            else:
                question.choices = [option for _number, option in options]
        self.bounds(row, question)
        constraint = row.text("constraint")
        if constraint:
            found = _REGEX.fullmatch(constraint)
            if found is None or kind not in ("text", "long_text"):
                self.add(row, "constraint", "格式只支持文字题的 regex(., '正则表达式')")
            else:
                question.pattern = found["a"] if found["a"] is not None else found["b"]
        question.widget = row.text("appearance")
        relevant = row.text("relevant")
        if relevant:
            self.condition(row, relevant, question, level)
        return question

    def kind(self, row: _Row, word: str) -> tuple[str | None, str]:
        lowered = word.lower()
        first, _, rest = lowered.partition(" ")
        if first in ("begin_repeat", "begin_group") or lowered in ("begin repeat", "begin group"):
            return ("table" if "repeat" in lowered else "group"), ""
        if first in ("select_one", "select_multiple"):
            list_name = word.split(None, 1)[1].strip() if rest.strip() else ""
            if not list_name:
                self.add(row, "type", f"{first} 后面应写选项表名，如 {first} living")
                return None, ""
            return ("single_choice" if first == "select_one" else "multiple_choice"), list_name
        if not word:
            self.add(row, "type", "请填写题型")
            return None, ""
        kind = ALIASES.get(lowered)
        if kind is None:
            self.add(row, "type", f"不认识的题型 {word}（可用题型见使用说明）")
        return kind, ""

    def bounds(self, row: _Row, question: Question) -> None:
        for column in ("min", "max"):
            raw = row.cells.get(column)
            if raw is None or str(raw).strip() == "":
                continue
            value: int | float | None
            if isinstance(raw, bool):
                value = None
            elif isinstance(raw, int | float):
                value = int(raw) if float(raw).is_integer() else float(raw)
            else:
                text = str(raw).strip()
                try:
                    number = float(text)
                    value = int(number) if number.is_integer() and "." not in text else number
                except ValueError:
                    value = None
            if value is None:
                self.add(row, column, f"{row.text(column)} 不是数字")
            elif column == "min":
                question.minimum = value
            else:
                question.maximum = value

    def condition(self, row: _Row, text: str, question: Question, level: list[Question]) -> None:
        fields: set[str] = set()
        values: list[Any] = []
        for term in _OR.split(text.strip()):
            found = _TERM.fullmatch(term)
            if found is None:
                self.add(
                    row,
                    "relevant",
                    "显示条件应写成 ${题目列名} = '选项'，多个用 or 连接，多选题用 "
                    "selected(${列名}, '选项')",
                )
                return
            fields.add(found["field"] or found["sfield"])
            flag = found["flag"]
            values.append(
                (flag == "true")
                if flag
                else next(
                    v for v in (found["v1"], found["v2"], found["s1"], found["s2"]) if v is not None
                )
            )
        if len(fields) > 1:
            self.add(row, "relevant", "一道题的显示条件只能依据一道题")
            return
        (name,) = fields
        target = next((q for q in level if q.name == name), None)
        if target is None:
            self.add(row, "relevant", f"显示条件中的 {name} 不是同一层中排在前面的题目")
            return
        if target.kind == "yes_no":
            values = [_yes_no(v) for v in values]
        question.show_field = name
        question.show_values = values


def _yes_no(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("yes", "true", "是", "1"):
        return True
    if word in ("no", "false", "否", "0"):
        return False
    return value


_PART_COLUMNS = {
    "kind": "type",
    "label": "label",
    "help": "hint",
    "name": "name",
    "choices": "type",
    "bounds": "max",
    "pattern": "constraint",
    "condition": "relevant",
    "children": "type",
}


def _check_questions(
    questions: list[Question],
    rows_of: dict[str, int],
    headers: dict[str, str],
    problems: list[SheetProblem],
) -> None:
    reported = {p.row for p in problems}  # a row's own problem says it best: no echo of it
    for problem in check(questions):
        row = rows_of.get(problem.key, 0)
        if row not in reported:
            column = _PART_COLUMNS.get(problem.part, "")
            column = headers.get(column, column)
            problems.append(SheetProblem("survey", row, column, problem.message))
    if problems:
        return
    from .schema_check import check_schema
    from .ui_check import check_ui

    schema, ui = to_form(questions)
    found = [(f"schema{p.path}", p.message) for p in check_schema(schema)]
    found += [(f"ui{p.path}", p.message) for p in check_ui(ui, schema)] if not found else []
    for pointer, message in found:
        row = rows_of.get(owner_of(pointer, questions), 0)
        problems.append(SheetProblem("survey", row, "", message))
