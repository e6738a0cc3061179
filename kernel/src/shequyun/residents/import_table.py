"""Reading an import file: CSV or XLSX into rows, its header into columns, and the row report."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import UnitRef

from ..spreadsheets import OVERPACKED_MESSAGE, overpacked_xlsx
from .vocabulary import AttributeSpec

IMPORT = "residents.import"
SOURCE = "import"

#: Bounds on one file. A 200,000-row CSV of residents is about 21 MB.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
MAX_COLUMNS = 60
#: Rows read, blank ones too, before a file is refused: blank rows are skipped without being
#: counted as data, and a file of millions of them would otherwise be read to the end.
MAX_BLANK_ROWS = 100_000
#: A report listing more errors than this helps nobody; the total is still counted.
MAX_REPORTED_ERRORS = 10_000
BATCH_SIZE = 5000

#: Header → field. Fields are named as :func:`clean_resident` names them in its errors.
HEADERS: dict[str, str] = {
    "姓名": "name",
    "性别": "gender",
    "出生日期": "birth_date",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "联系电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "电话": "phone",
    "户籍类型": "registration",
    "人员类型": "registration",
    "所属居委编码": "unit_code",
    "居委编码": "unit_code",
    "所属居委": "unit_code",
    "小区": "address.compound",
    "楼栋": "address.building",
    "楼号": "address.building",
    "单元": "address.entrance",
    "室": "address.room",
    "室号": "address.room",
    "房号": "address.room",
    "户号": "household_number",
    "标签": "tags",
}
ENGLISH_HEADERS = {
    "name": "name",
    "gender": "gender",
    "birth_date": "birth_date",
    "id_number": "id_number",
    "phone": "phone",
    "registration": "registration",
    "unit_code": "unit_code",
    "compound": "address.compound",
    "building": "address.building",
    "entrance": "address.entrance",
    "room": "address.room",
    "household_number": "household_number",
    "tags": "tags",
}
#: The header shown for a field in messages about a column missing from the file.
TITLES = {
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "phone": "联系电话",
    "registration": "户籍类型",
    "unit_code": "所属居委编码",
    "address.compound": "小区",
    "address.building": "楼栋",
    "address.entrance": "单元",
    "address.room": "室",
    "household_number": "户号",
    "tags": "标签",
}
#: Columns of our own export that cannot be imported (derived) and row counters; skipped.
IGNORED_HEADERS = {"序号", "年龄"}
REQUIRED = ("name", "id_number", "registration")
ADDRESS_PARTS = ("compound", "building", "entrance", "room")
TAG_SPLIT = re.compile(r"[、,，;；]")
TRUE_WORDS = {"是", "true", "1", "y", "yes", "有"}
FALSE_WORDS = {"否", "false", "0", "n", "no", "无"}


# -- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` as the spreadsheet shows it (the header is row 1), ``column`` as
    headed in the file, ``message`` in Chinese."""

    row: int
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """What a file holds and what importing it does (or did, when ``dry_run`` is false).

    ``updated`` counts rows matched by ID number to records already registered; after an
    apply, ``unchanged`` says how many of them already held the file's values.
    """

    dry_run: bool = True
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    def add(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "applied": self.applied,
            "rows": self.rows,
            "valid": self.valid,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": self.error_count,
            "errors_truncated": self.error_count > len(self.errors),
            "errors": [e.to_dict() for e in self.errors],
        }


def file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


# -- reading the file -----------------------------------------------------------------------


class ImportTable:
    """The rows of a CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16) or XLSX file.

    Rows are read lazily, numbered as a spreadsheet numbers them; blank rows are skipped but
    keep their number.
    """

    def __init__(
        self,
        data: bytes,
        filename: str = "",
        *,
        max_bytes: int = MAX_IMPORT_BYTES,
        max_rows: int = MAX_IMPORT_ROWS,
    ) -> None:
        if len(data) > max_bytes:
            raise file_error(f"文件不能超过 {max_bytes // (1024 * 1024)} MB，请拆分后导入")
        if not data.strip():
            raise file_error("文件是空的")
        if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
            raise file_error("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV（UTF-8）")
        self.data = data
        self.max_rows = max_rows
        self.kind = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
        if self.kind == "xlsx" and overpacked_xlsx(data):
            raise file_error(OVERPACKED_MESSAGE)
        self._text = "" if self.kind == "xlsx" else decode_text(data)
        self._delimiter = "\t" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ","

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` of every non-blank row, the header first."""
        source = self._xlsx_rows() if self.kind == "xlsx" else self._csv_rows()
        # A CSV row's cells are all text: joined, one C call tells a blank row.
        filled = _filled_csv if self.kind == "csv" else _filled
        seen = 0
        most = self.max_rows + 1 + MAX_BLANK_ROWS
        for number, cells in enumerate(source, start=1):
            if number > most:
                raise file_error(f"表格超过 {most} 行（含空行），请删去多余的空行")
            if filled(cells):
                seen += 1
                if seen > self.max_rows + 1:
                    raise file_error(f"一次最多导入 {self.max_rows} 行，请拆分文件")
                yield number, cells

    def count(self) -> int:
        """How many data rows (not counting the header) the file has, for progress bars."""
        if self.kind == "xlsx":
            size = self._xlsx_size()
            if size is not None:
                return max(size - 1, 0)
        return max(sum(1 for _ in self.rows()) - 1, 0)

    def _csv_rows(self) -> Iterator[list[Any]]:
        try:
            yield from csv.reader(io.StringIO(self._text, newline=""), delimiter=self._delimiter)
        except csv.Error as exc:
            raise file_error(f"CSV 格式错误：{exc}") from None

    def _open_xlsx(self) -> Any:
        from openpyxl import load_workbook

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
                return load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of error on a damaged file
            raise file_error("无法读取 XLSX 文件，请确认文件未损坏") from None

    def _xlsx_rows(self) -> Iterator[list[Any]]:
        workbook = self._open_xlsx()
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
            while True:
                try:
                    cells = next(rows)
                except StopIteration:
                    return
                except Exception:
                    raise file_error("无法读取 XLSX 文件，请确认文件未损坏") from None
                row = list(cells)
                while row and (row[-1] is None or row[-1] == ""):
                    row.pop()  # read-only sheets pad rows with empty cells up to max_col
                yield row
        finally:
            workbook.close()

    def _xlsx_size(self) -> int | None:
        workbook = self._open_xlsx()
        try:
            size = workbook.worksheets[0].max_row
            return size if isinstance(size, int) else None
        except Exception:  # no dimension recorded in the file
            return None
        finally:
            workbook.close()


def _filled(cells: Sequence[Any]) -> bool:
    return any(c is not None and str(c).strip() for c in cells)


def _filled_csv(cells: list[str]) -> bool:
    joined = "".join(cells)
    return bool(joined) and not joined.isspace()


def decode_text(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text"
    else:
        encodings = ("utf-8-sig", "gb18030")  # Chinese Excel saves CSV as GBK
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise file_error("无法识别文件编码，请使用 UTF-8 或 GBK 编码的 CSV，或 XLSX")


def cell_text(value: Any) -> str:
    if type(value) is str:  # every CSV cell: the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or phone number typed into a spreadsheet
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# -- the header -----------------------------------------------------------------------------


@dataclass
class Columns:
    """Which cell holds which field, and the header the file gives it."""

    index: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    headless: list[int] = field(default_factory=list)  # header cells left empty
    width: int = 0

    def title(self, field_name: str) -> str:
        return self.titles.get(field_name) or TITLES.get(field_name) or field_name


def normalize_header(raw: Any) -> str:
    return re.sub(r"\s+", "", cell_text(raw)).strip("*＊")


def read_header(
    number: int,
    cells: Sequence[Any],
    attributes: Sequence[AttributeSpec],
    report: ImportReport,
    *,
    unit_required: bool,
) -> Columns:
    by_title: dict[str, str] = {}
    for spec in attributes:
        by_title[f"attributes.{spec.key}"] = f"attributes.{spec.key}"
        by_title[spec.key] = f"attributes.{spec.key}"
        if spec.attribute.title not in HEADERS:
            by_title.setdefault(spec.attribute.title, f"attributes.{spec.key}")
    columns = Columns(attributes={f"attributes.{s.key}": s for s in attributes})
    if len(cells) > MAX_COLUMNS:
        report.add(number, "", f"列数不能超过 {MAX_COLUMNS}")
        return columns
    columns.width = len(cells)
    for index, raw in enumerate(cells):
        title = normalize_header(raw)
        if not title:
            columns.headless.append(index)
        if not title or title in IGNORED_HEADERS:
            continue
        name = HEADERS.get(title) or ENGLISH_HEADERS.get(title.lower()) or by_title.get(title)
        if name is None:
            report.add(number, title, f"未知的列“{title}”")
        elif name in columns.index:
            report.add(number, title, f"与“{columns.titles[name]}”是同一列，重复")
        else:
            columns.index[name] = index
            columns.titles[name] = title
    for name in (*REQUIRED, "unit_code") if unit_required else REQUIRED:
        if name not in columns.index:
            report.add(number, TITLES[name], f"缺少必填列“{TITLES[name]}”")
    return columns


# -- checking rows --------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    data: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    unit: UnitRef | None = None
    unit_given: bool = False
    id_hash: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    existing: tuple[int, int, int] | None = None  # resident id, unit id, version
    sealed: tuple[Any, ...] = ()  # ID and phone, encrypted, hashed and masked
    # Where a new resident lives, once its committee is known: (unit id, compound, building,
    # entrance, room) and (unit id, household number), each None when the row has none.
    place: tuple[Any, ...] | None = None
    household: tuple[int, str] | None = None


# -- cells as attribute values ---------------------------------------------------------------


def looks_numeric(cells: Sequence[Any], columns: Columns, name: str) -> bool:
    """Whether the cell of field ``name`` holds a number (a spreadsheet's, not text)."""
    index = columns.index.get(name)
    return (
        index is not None
        and index < len(cells)
        and isinstance(cells[index], int | float)
        and not isinstance(cells[index], bool)
    )


def attribute_value(spec: AttributeSpec, text: str) -> Any:
    """A spreadsheet cell as the JSON value the attribute's schema expects."""
    return typed_value(dict(spec.attribute.schema), text)


def typed_value(schema: Mapping[str, Any], text: str) -> Any:
    """``text`` as a value of the JSON type ``schema`` names; ValueError (Chinese) if not."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("应为整数") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("应为数字") from None
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValueError("应为 是 或 否")
    if kind == "array":
        items = schema.get("items")
        parts = [p.strip() for p in TAG_SPLIT.split(text) if p.strip()]
        return [typed_value(items, p) if isinstance(items, Mapping) else p for p in parts]
    if kind == "object":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("应为 JSON 对象") from None
    return text
