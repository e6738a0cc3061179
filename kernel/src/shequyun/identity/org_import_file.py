"""Reading an org-unit roster: CSV or XLSX rows, the header's columns and the row report.

The file has the columns ``code, name, level, parent_code`` (or the Chinese headers 编码, 名称,
层级, 上级编码); levels may be written in English or as 市/区/街道/镇/乡/居委会/村委会.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shequyun_sdk import ValidationFailed

from ..spreadsheets import OVERPACKED_MESSAGE, overpacked_xlsx
from .models import LEVEL_NAMES, LEVELS

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
#: Rows read from a sheet, blank ones too (a sheet of millions of empty rows is refused).
MAX_SHEET_ROWS = 2 * MAX_IMPORT_ROWS

#: The columns: canonical name → Chinese header (both accepted, and a few synonyms).
COLUMNS = {"code": "编码", "name": "名称", "level": "层级", "parent_code": "上级编码"}
HEADER_ALIASES = {
    **{name: name for name in COLUMNS},
    **{title: name for name, title in COLUMNS.items()},
    "代码": "code",
    "区划代码": "code",
    "组织编码": "code",
    "单位名称": "name",
    "级别": "level",
    "parent": "parent_code",
    "上级代码": "parent_code",
    "上级组织编码": "parent_code",
}
#: How a level may be written in a file → the level it means.
LEVEL_ALIASES = {
    **{level: level for level in LEVELS},
    "市": "city",
    "区": "district",
    "县": "district",
    "街道": "street",
    "镇": "street",
    "乡": "street",
    "街镇": "street",
    "居委会": "committee",
    "村委会": "committee",
    "居委": "committee",
    "村委": "committee",
    "居村委": "committee",
}
LEVEL_HINT = "市、区、街道、镇、乡、居委会、村委会（或 city、district、street、committee）"
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` as a spreadsheet numbers it (the header is row 1), ``field`` the
    column as the file names it."""

    row: int
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"第 {self.row} 行 · {self.field}：{self.message}"


@dataclass(frozen=True)
class RawRow:
    """A row as read, by canonical column name, before any check."""

    row: int
    values: Mapping[str, str]
    #: The column headers as the file wrote them, to name columns in reports.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitRow:
    """A checked row."""

    row: int
    code: str
    name: str
    level: str
    parent_code: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
        }


@dataclass
class ImportReport:
    """What an import found: ``errors``, the units it would create (``new``), those already
    present (``unchanged``), and whether it wrote them (``applied``)."""

    filename: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    new: list[UnitRow] = field(default_factory=list)
    unchanged: list[UnitRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def new_by_level(self) -> dict[str, int]:
        counts = Counter(row.level for row in self.new)
        return {level: counts[level] for level in LEVELS if counts[level]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "applied": self.applied,
            "valid": self.valid,
            "rows": self.rows,
            "errors": [e.to_dict() for e in self.errors],
            "new": len(self.new),
            "new_by_level": self.new_by_level(),
            "unchanged": len(self.unchanged),
            "ignored_columns": self.ignored_columns,
        }

    def lines(self) -> list[str]:
        """The report in Chinese, one line each: the summary, then every problem."""
        out = [f"文件 {self.filename}：共 {self.rows} 行数据"]
        if self.ignored_columns:
            out.append(f"  忽略了无法识别的列：{'、'.join(self.ignored_columns)}")
        if self.errors:
            out.append(f"发现 {len(self.errors)} 处问题，未写入任何数据。请修正后重试：")
            out += [f"  {e}" for e in self.errors]
            return out
        if self.new:
            by_level = "、".join(f"{LEVEL_NAMES[lv]} {n}" for lv, n in self.new_by_level().items())
            verb = "新建" if self.applied else "将新建"
            out.append(f"  {verb} {len(self.new)} 个单位（{by_level}）")
        if self.unchanged:
            out.append(f"  已存在且一致、跳过 {len(self.unchanged)} 个")
        if not self.new:
            out.append("没有需要新建的单位，未作任何改动。")
        elif self.applied:
            out.append("已全部导入。")
        else:
            out.append("试运行：文件没有问题，未写入任何数据。确认后加 --apply 导入。")
        return out


# -- reading the file -------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> tuple[list[RawRow], list[str]]:
    """The data rows of a CSV (UTF-8 with or without BOM, GBK/GB18030) or XLSX file, and the
    names of columns it ignored. Raises :class:`ValidationFailed` (field ``file``) when the file
    as a whole cannot be read: too large, empty, unknown encoding, missing columns."""
    if len(data) > MAX_IMPORT_BYTES:
        raise _file_error(f"文件不能超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise _file_error("文件是空的")
    if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise _file_error("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV")
    table = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    header: list[str] | None = None
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    rows: list[RawRow] = []
    for number, cells in enumerate(table, start=1):
        values = [_cell(c) for c in cells]
        if not any(values):
            continue
        if header is None:
            header = values
            columns, ignored = _columns(values)
            headers = {n: values[i] for n, i in columns.items()}
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise _file_error(f"一次最多导入 {MAX_IMPORT_ROWS} 行，请拆分文件")
        cells_by_name = {n: values[i] if i < len(values) else "" for n, i in columns.items()}
        rows.append(RawRow(number, cells_by_name, headers))
    if header is None:
        raise _file_error("文件是空的")
    return rows, ignored


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise _file_error("无法识别文件编码，请使用 UTF-8 或 GBK 编码的 CSV，或 XLSX")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise _file_error(f"CSV 格式错误：{exc}") from None


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    if overpacked_xlsx(data):
        raise _file_error(OVERPACKED_MESSAGE)
    from openpyxl import load_workbook

    rows: list[list[Any]] = []
    too_long = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for cells in workbook.worksheets[0].iter_rows(values_only=True):
                    if len(rows) == MAX_SHEET_ROWS:
                        too_long = True
                        break
                    rows.append(list(cells))
            finally:
                workbook.close()
    except Exception:  # a damaged workbook raises many kinds of error
        raise _file_error("无法读取 XLSX 文件，请确认文件未损坏") from None
    if too_long:
        raise _file_error(f"表格超过 {MAX_SHEET_ROWS} 行（含空行），请删去多余的行")
    yield from rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed into a spreadsheet cell as a number
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        name = HEADER_ALIASES.get(title.strip().lower())
        if name is None:
            if title:
                ignored.append(title)
        elif name in columns:
            raise _file_error(f"列“{title}”与“{header[columns[name]]}”重复")
        else:
            columns[name] = index
    missing = [f"{COLUMNS[n]}（{n}）" for n in COLUMNS if n not in columns]
    if missing:
        raise _file_error(
            f"缺少列：{'、'.join(missing)}。表头应为 code,name,level,parent_code "
            "或 编码,名称,层级,上级编码"
        )
    return columns, ignored
