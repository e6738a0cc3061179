"""Importing residents in bulk from a CSV or XLSX file (批量导入).

One engine serves the API and the CLI. :func:`plan_import` (the dry run) checks every row and
writes nothing; :func:`apply_import` checks every row again while writing, in one transaction
that commits only when the whole file is good. Rows go through :func:`clean_resident`, the
check every input path shares; a row whose ID number is already registered becomes an update of
that record when the actor may import into its committee, and an error otherwise, so nobody is
ever registered twice. Creates are written in batches with bulk inserts (a million rows through
the per-row ORM path would take hours); updates go through :meth:`ResidentService.update`, so
their history and events are exactly those of an edit in the portal.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from shequyun_sdk import ApiError, Conflict, Forbidden, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import Integer, String, any_, bindparam, insert
from sqlalchemy import select as core_select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..events import EventDelivery, OutboxEvent
from ..identity import audit, scope
from ..identity.models import OrgUnit
from .idnumber import mask_id, mask_phone
from .models import Address, Household, Resident, ResidentChange, ResidentTag
from .validation import clean_resident
from .vocabulary import AttributeSpec

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = [
    "HEADERS",
    "IMPORT",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "ImportReport",
    "ImportTable",
    "RowError",
    "among",
    "apply_import",
    "plan_import",
]

IMPORT = "residents.import"
SOURCE = "import"

#: Bounds on one file. A 200,000-row CSV of residents is about 21 MB.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
MAX_COLUMNS = 60
#: A report listing more errors than this helps nobody; the total is still counted.
MAX_REPORTED_ERRORS = 10_000
BATCH_SIZE = 2000

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
_ENGLISH = {
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
_LOOSE_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TAG_SPLIT = re.compile(r"[、,，;；]")
_TRUE = {"是", "true", "1", "y", "yes", "有"}
_FALSE = {"否", "false", "0", "n", "no", "无"}

Progress = Callable[[int], None]


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


def _file_error(message: str) -> ValidationFailed:
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
            raise _file_error(f"文件不能超过 {max_bytes // (1024 * 1024)} MB，请拆分后导入")
        if not data.strip():
            raise _file_error("文件是空的")
        if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
            raise _file_error("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV（UTF-8）")
        self.data = data
        self.max_rows = max_rows
        self.kind = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
        self._text = "" if self.kind == "xlsx" else _decode(data)
        self._delimiter = "\t" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ","

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` of every non-blank row, the header first."""
        source = self._xlsx_rows() if self.kind == "xlsx" else self._csv_rows()
        seen = 0
        for number, cells in enumerate(source, start=1):
            if any(c is not None and str(c).strip() for c in cells):
                seen += 1
                if seen > self.max_rows + 1:
                    raise _file_error(f"一次最多导入 {self.max_rows} 行，请拆分文件")
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
            raise _file_error(f"CSV 格式错误：{exc}") from None

    def _open_xlsx(self) -> Any:
        from openpyxl import load_workbook

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
                return load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of error on a damaged file
            raise _file_error("无法读取 XLSX 文件，请确认文件未损坏") from None

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
                    raise _file_error("无法读取 XLSX 文件，请确认文件未损坏") from None
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


def _decode(data: bytes) -> str:
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
    raise _file_error("无法识别文件编码，请使用 UTF-8 或 GBK 编码的 CSV，或 XLSX")


def _text(value: Any) -> str:
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


def _padded_date(text: str) -> str:
    """``1950/3/8`` (how Chinese Excel writes dates into CSV) as ``1950-03-08``."""
    match = _LOOSE_DATE.match(text)
    if match is None:
        return text
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


# -- the header -----------------------------------------------------------------------------


@dataclass
class _Columns:
    """Which cell holds which field, and the header the file gives it."""

    index: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    headless: list[int] = field(default_factory=list)  # header cells left empty
    width: int = 0

    def title(self, field_name: str) -> str:
        return self.titles.get(field_name) or TITLES.get(field_name) or field_name


def _normalize_header(raw: Any) -> str:
    return re.sub(r"\s+", "", _text(raw)).strip("*＊")


def _read_header(
    number: int,
    cells: Sequence[Any],
    attributes: Sequence[AttributeSpec],
    report: ImportReport,
    *,
    unit_required: bool,
) -> _Columns:
    by_title: dict[str, str] = {}
    for spec in attributes:
        by_title[f"attributes.{spec.key}"] = f"attributes.{spec.key}"
        by_title[spec.key] = f"attributes.{spec.key}"
        if spec.attribute.title not in HEADERS:
            by_title.setdefault(spec.attribute.title, f"attributes.{spec.key}")
    columns = _Columns(attributes={f"attributes.{s.key}": s for s in attributes})
    if len(cells) > MAX_COLUMNS:
        report.add(number, "", f"列数不能超过 {MAX_COLUMNS}")
        return columns
    columns.width = len(cells)
    for index, raw in enumerate(cells):
        title = _normalize_header(raw)
        if not title:
            columns.headless.append(index)
        if not title or title in IGNORED_HEADERS:
            continue
        name = HEADERS.get(title) or _ENGLISH.get(title.lower()) or by_title.get(title)
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
class _Row:
    number: int
    data: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    unit: UnitRef | None = None
    unit_given: bool = False
    id_hash: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    existing: tuple[int, int, int] | None = None  # resident id, unit id, version
    sealed: tuple[Any, ...] = ()  # ID and phone, encrypted, hashed and masked


class _Units:
    """Every org unit by code and id, and the committees the actor may import into by name."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.by_code: dict[str, UnitRef] = {}
        self.by_id: dict[int, UnitRef] = {}
        self.by_name: dict[str, list[UnitRef]] = {}
        table = OrgUnit.__table__  # type: ignore[attr-defined]
        rows = session.execute(
            core_select(
                table.c.id,
                table.c.code,
                table.c.name,
                table.c.level,
                table.c.path,
                table.c.closed_on,
            )
        )
        for unit_id, code, name, level, path, closed_on in rows:
            assert unit_id is not None
            ref = UnitRef(unit_id, code, name, level, path, closed_on is not None)
            self.by_code[code] = ref
            self.by_id[unit_id] = ref
            if level == "committee" and scope.can(actor, IMPORT, ref):
                self.by_name.setdefault(name, []).append(ref)

    def resolve(self, actor: Actor, text: str) -> tuple[UnitRef | None, str | None]:
        """The committee ``text`` (a code, or a name within the actor's scope) names."""
        unit = self.by_code.get(text)
        if unit is None:
            named = self.by_name.get(text, [])
            if len(named) == 1:
                unit = named[0]
            elif len(named) > 1:
                return None, f"有多个名为“{text}”的居委，请填写 12 位居委编码"
            else:
                return None, f"找不到编码或名称为“{text}”的居委会"
        if not scope.can(actor, IMPORT, unit):
            return None, f"{unit.name}（{unit.code}）不在您的导入权限范围内"
        if unit.level != "committee":
            return None, f"{unit.name}不是居委会或村委会，居民只能登记在居村委"
        if unit.closed:
            return None, f"{unit.name}已撤销，不能再登记居民"
        return unit, None


class _Importer:
    """Checks rows batch by batch and, when writing, writes each batch while all is well."""

    def __init__(
        self, kernel: Kernel, session: Session, actor: Actor, report: ImportReport, write: bool
    ) -> None:
        self.kernel = kernel
        self.service = kernel.residents
        self.session = session
        self.actor = actor
        self.report = report
        self.write = write
        self.units = _Units(session, actor)
        self.default_unit = (
            actor.unit if actor.unit is not None and actor.unit.level == "committee" else None
        )
        self.columns = _Columns()
        self.seen: dict[str, int] = {}  # ID hash → first row holding it
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.locking = write and self.postgres
        self.writer = _Writer(session)
        self.places = _Places(session, self.writer)

    def run(self, table: ImportTable, progress: Progress | None) -> None:
        rows = table.rows()
        first = next(rows, None)
        if first is None:
            raise _file_error("文件是空的")
        self.columns = _read_header(
            first[0],
            first[1],
            self.service.vocabulary.active_attributes(),
            self.report,
            unit_required=self.default_unit is None,
        )
        if self.report.error_count:
            return
        for batch in self._parsed(rows):
            self.report.rows += len(batch)
            self._finish(batch)
            if progress is not None:
                progress(len(batch))
        if self.report.rows == 0:
            raise _file_error("文件只有表头，没有数据行")

    def _error(self, row: _Row, field_name: str, message: str) -> None:
        row.problems.append((self.columns.title(field_name), message))

    # rows, without the database

    def _parsed(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[list[_Row]]:
        batch: list[_Row] = []
        for number, cells in rows:
            batch.append(self._parse(number, cells))
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    def _parse(self, number: int, cells: Sequence[Any]) -> _Row:
        columns = self.columns
        row = _Row(number, {})
        texts = {
            name: _text(cells[i]) if i < len(cells) else "" for name, i in columns.index.items()
        }
        for index in (*columns.headless, *range(columns.width, len(cells))):
            if index < len(cells) and _text(cells[index]):
                row.problems.append((f"第 {index + 1} 列", "这一列没有表头"))
        data = row.data
        for name in ("name", "id_number"):
            data[name] = texts.get(name, "")
        data["gender"] = texts.get("gender", "")  # empty: taken from the ID number
        data["birth_date"] = _padded_date(texts.get("birth_date", ""))
        if texts.get("registration"):
            data["registration"] = texts["registration"]
        elif "registration" in columns.index:
            self._error(row, "registration", "不能为空")
        if texts.get("phone"):
            data["phone"] = texts["phone"]
        if any(texts.get(f"address.{part}") for part in ADDRESS_PARTS):
            data["address"] = {part: texts.get(f"address.{part}", "") for part in ADDRESS_PARTS}
        if texts.get("household_number"):
            data["household_number"] = texts["household_number"]
        if texts.get("tags"):
            data["tags"] = [t.strip() for t in _TAG_SPLIT.split(texts["tags"]) if t.strip()]
        attributes: dict[str, Any] = {}
        for name, spec in columns.attributes.items():
            if texts.get(name):
                try:
                    attributes[spec.key] = _attribute_value(spec, texts[name])
                except ValueError as exc:
                    self._error(row, name, str(exc))
        if attributes:
            data["attributes"] = attributes
        cleaned = clean_resident(data, self.service.vocabulary, partial=True)
        for problem in cleaned.errors:
            message = problem["message"]
            if problem["field"] == "id_number" and _looks_numeric(cells, columns, "id_number"):
                message += "（该单元格是数字，Excel 会丢掉身份证号的末几位，请把这一列设为文本）"
            self._error(row, problem["field"], message)
        row.values = cleaned.values
        code = texts.get("unit_code")
        if code:
            row.unit_given = True
            row.unit, problem_text = self.units.resolve(self.actor, code)
            if problem_text:
                self._error(row, "unit_code", problem_text)
        elif "unit_code" in columns.index and self.default_unit is None:
            self._error(row, "unit_code", "不能为空")
        else:
            row.unit = self.default_unit
        id_number = cleaned.values.get("id_number")
        if id_number:
            row.id_hash = self.service.cipher.lookup_hash(id_number)
            first = self.seen.setdefault(row.id_hash, number)
            if first != number:
                self._error(row, "id_number", f"与第 {first} 行的身份证号重复")
                row.id_hash = None
        if self.write and id_number and not row.problems:
            cipher = self.service.cipher
            phone = cleaned.values.get("phone")
            row.sealed = (
                cipher.encrypt(id_number),
                mask_id(id_number),
                cipher.encrypt(phone) if phone else None,
                cipher.lookup_hash(phone) if phone else None,
                mask_phone(phone) if phone else None,
            )
        return row

    # a batch, against the database

    def _finish(self, batch: list[_Row]) -> None:
        hashes = [row.id_hash for row in batch if row.id_hash]
        existing: dict[str, tuple[int, int, int]] = {}
        if hashes:
            query = select(
                Resident.id_number_hash, Resident.id, Resident.unit_id, Resident.version
            ).where(
                among(col(Resident.id_number_hash), hashes, self.postgres),
                Resident.status == "active",
            )
            if self.locking:  # matched records stay as read until the import commits
                query = query.with_for_update(of=Resident)  # type: ignore[arg-type]
            for id_hash, resident_id, unit_id, version in self.session.exec(query):
                assert resident_id is not None
                existing[id_hash] = (resident_id, unit_id, version)
        for row in batch:
            found = existing.get(row.id_hash or "")
            if found is None:
                continue
            unit = self.units.by_id[found[1]]
            if not scope.can(self.actor, IMPORT, unit):
                self._error(row, "id_number", "该身份证号已在您的导入权限范围以外登记，不能导入")
            elif row.unit_given and row.unit is not None and row.unit.id != unit.id:
                self._error(row, "unit_code", f"该居民已登记在{unit.name}，更换居委请办理迁移")
            else:
                row.existing = found
                row.unit = unit
        for row in batch:
            for column, message in row.problems:
                self.report.add(row.number, column, message)
        good = [row for row in batch if not row.problems]
        self.report.valid += len(good)
        creates = [row for row in good if row.existing is None]
        updates = [row for row in good if row.existing is not None]
        self.report.created += len(creates)
        self.report.updated += len(updates)
        # After the first error the import cannot commit: keep checking, stop writing.
        if self.write and not self.report.error_count:
            if creates:
                self._create(creates)
            for row in updates:
                self._update(row)

    # writing

    def _update(self, row: _Row) -> None:
        assert row.existing is not None
        resident_id, _, version = row.existing
        changes = {k: v for k, v in row.data.items() if v not in ("", None)}
        try:
            resident = self.service.update(
                self.session, self.actor, resident_id, changes, version=version, source=SOURCE
            )
        except ApiError as exc:  # changed by someone else meanwhile: nothing will be written
            self.report.add(row.number, self.columns.title(exc.field or "id_number"), exc.message)
            self.report.valid -= 1
            self.report.updated -= 1
            return
        if resident.version == version:
            self.report.unchanged += 1

    def _create(self, rows: list[_Row]) -> None:
        now = datetime.now(UTC)
        places = self.places
        places.prepare(rows, now)
        resident_rows: list[tuple[Any, ...]] = []
        for row in rows:
            assert row.unit is not None and row.id_hash is not None
            values = row.values
            id_enc, id_masked, phone_enc, phone_hash, phone_masked = row.sealed
            resident_rows.append(
                (
                    row.unit.id,
                    values["name"],
                    values["gender"],
                    values["birth_date"],
                    id_enc,
                    row.id_hash,
                    id_masked,
                    phone_enc,
                    phone_hash,
                    phone_masked,
                    values["registration"],
                    places.address_id(row),
                    places.household_id(row),
                    _extra(values.get("attributes", {})),
                    "active",
                    1,
                    now,
                    now,
                )
            )
        writer = self.writer
        ids = writer.insert(
            Resident, _RESIDENT_COLUMNS, resident_rows, ids=True, json_columns=("extra",)
        )
        writer.insert(
            ResidentTag,
            ("resident_id", "tag"),
            [
                (resident_id, tag)
                for row, resident_id in zip(rows, ids, strict=True)
                for tag in row.values.get("tags", ())
            ],
        )
        actor = self.actor
        writer.insert(
            ResidentChange,
            _CHANGE_COLUMNS,
            [
                (
                    resident_id,
                    1,
                    now,
                    actor.user_id,
                    actor.username,
                    actor.grant_id,
                    row.unit.id if row.unit else None,
                    SOURCE,
                    "(created)",
                    None,
                    row.values["name"],
                )
                for row, resident_id in zip(rows, ids, strict=True)
            ],
        )
        self._publish(
            "resident.created",
            [
                {"resident_id": resident_id, "unit_code": row.unit.code, "version": 1}
                for row, resident_id in zip(rows, ids, strict=True)
                if row.unit is not None
            ],
            now,
        )

    def _publish(self, event_type: str, payloads: list[dict[str, Any]], now: datetime) -> None:
        """Add the events and their deliveries, as ``EventBus.publish`` does one by one."""
        ids = self.writer.insert(
            OutboxEvent,
            ("type", "payload", "created_at"),
            [(event_type, payload, now) for payload in payloads],
            ids=True,
            json_columns=("payload",),
        )
        bus = self.service.events
        names = [name for name, sub in bus.subscribers.items() if sub.matches(event_type)]
        self.writer.insert(
            EventDelivery,
            ("event_id", "subscriber", "status", "attempts", "next_attempt_at"),
            [(event_id, name, "pending", 0, now) for event_id in ids for name in names],
        )


_RESIDENT_COLUMNS = (
    "unit_id",
    "name",
    "gender",
    "birth_date",
    "id_number_enc",
    "id_number_hash",
    "id_number_masked",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "registration",
    "address_id",
    "household_id",
    "extra",
    "status",
    "version",
    "created_at",
    "updated_at",
)
_CHANGE_COLUMNS = (
    "resident_id",
    "version",
    "at",
    "actor_user_id",
    "actor_username",
    "grant_id",
    "unit_id",
    "source",
    "field",
    "old_value",
    "new_value",
)
_ADDRESS_COLUMNS = ("unit_id", *ADDRESS_PARTS)


class _Writer:
    """Bulk inserts in the import's transaction: ``COPY`` on PostgreSQL (ids drawn from the
    table's sequence first), ``executemany`` elsewhere."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._sequences: dict[str, str] = {}

    def insert(
        self,
        model: Any,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        ids: bool = False,
        json_columns: Sequence[str] = (),
    ) -> list[int]:
        """Insert ``rows`` (values in ``columns`` order); with ``ids``, return their new ids."""
        if not rows:
            return []
        table = model.__table__
        if self.postgres:
            return self._copy(
                table.name, columns, rows, ids, [columns.index(c) for c in json_columns]
            )
        params = [dict(zip(columns, row, strict=True)) for row in rows]
        if not ids:
            self.session.execute(insert(table), params)
            return []
        result = self.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), params
        )
        return [row[0] for row in result]

    def _copy(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        ids: bool,
        json_indexes: Sequence[int],
    ) -> list[int]:
        new_ids: list[int] = []
        if ids:
            sequence = self._sequences.get(table)
            if sequence is None:
                sequence = self.session.execute(
                    sql_text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
                ).scalar_one()
                self._sequences[table] = sequence
            new_ids = list(
                self.session.execute(
                    sql_text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                    {"s": sequence, "n": len(rows)},
                ).scalars()
            )
            columns = ("id", *columns)
            json_indexes = [i + 1 for i in json_indexes]
            rows = [(i, *row) for i, row in zip(new_ids, rows, strict=True)]
        if json_indexes:
            rows = [_with_json(row, json_indexes) for row in rows]
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return new_ids


def _with_json(row: tuple[Any, ...], indexes: Sequence[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in indexes:
        values[i] = json.dumps(values[i], ensure_ascii=False)
    return tuple(values)


class _Places:
    """The addresses and households rows point to, created when missing.

    Each compound's addresses and each committee's households are read once per import and
    then kept, so a batch costs no lookups for the places earlier batches have seen.
    """

    def __init__(self, session: Session, writer: _Writer) -> None:
        self.session = session
        self.writer = writer
        self.addresses: dict[tuple[int, str], dict[tuple[str, str, str], int]] = {}
        self.households: dict[int, dict[str, int]] = {}

    def prepare(self, rows: Sequence[_Row], now: datetime) -> None:
        """Make sure every address and household of ``rows`` exists."""
        self._load_addresses(rows)
        missing: dict[tuple[Any, ...], None] = {}
        for row in rows:
            key = _address_key(row)
            if key is not None and key[2:] not in self.addresses[key[:2]]:
                missing[key] = None
        keys = list(missing)
        for key, address_id in zip(
            keys, self.writer.insert(Address, _ADDRESS_COLUMNS, keys, ids=True), strict=True
        ):
            self.addresses[key[:2]][key[2:]] = address_id
        self._load_households(rows)
        new: dict[tuple[int, str], int | None] = {}
        for row in rows:
            household = _household_key(row)
            if household is not None and household[1] not in self.households[household[0]]:
                new.setdefault(household, self.address_id(row))
        households = list(new)
        ids = self.writer.insert(
            Household,
            ("unit_id", "number", "address_id", "created_at"),
            [(unit_id, number, new[(unit_id, number)], now) for unit_id, number in households],
            ids=True,
        )
        for (unit_id, number), household_id in zip(households, ids, strict=True):
            self.households[unit_id][number] = household_id

    def address_id(self, row: _Row) -> int | None:
        key = _address_key(row)
        return None if key is None else self.addresses[key[:2]][key[2:]]

    def household_id(self, row: _Row) -> int | None:
        key = _household_key(row)
        return None if key is None else self.households[key[0]][key[1]]

    def _load_addresses(self, rows: Sequence[_Row]) -> None:
        wanted = {
            key[:2] for row in rows if (key := _address_key(row)) is not None
        } - self.addresses.keys()
        if not wanted:
            return
        for pair in wanted:
            self.addresses[pair] = {}
        table = Address.__table__  # type: ignore[attr-defined]
        query = core_select(table.c.id, *(table.c[c] for c in _ADDRESS_COLUMNS)).where(
            table.c.unit_id.in_({unit_id for unit_id, _ in wanted}),
            table.c.compound.in_({compound for _, compound in wanted}),
        )
        for address_id, unit_id, compound, building, entrance, room in self.session.execute(query):
            known = self.addresses.get((unit_id, compound))
            if known is not None:
                known[(building, entrance, room)] = address_id

    def _load_households(self, rows: Sequence[_Row]) -> None:
        wanted = {
            key[0] for row in rows if (key := _household_key(row)) is not None
        } - self.households.keys()
        if not wanted:
            return
        for unit_id in wanted:
            self.households[unit_id] = {}
        table = Household.__table__  # type: ignore[attr-defined]
        query = (
            core_select(table.c.id, table.c.unit_id, table.c.number)
            .where(table.c.unit_id.in_(wanted))
            .order_by(table.c.id)
        )
        for household_id, unit_id, number in self.session.execute(query):
            self.households[unit_id].setdefault(number, household_id)


def among(column: Any, values: Sequence[Any], postgres: bool) -> Any:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter, not thousands."""
    if postgres:
        kind = String if values and isinstance(next(iter(values)), str) else Integer
        return column == any_(bindparam("among", list(values), type_=ARRAY(kind)))
    return column.in_(values)


def _address_key(row: _Row) -> tuple[Any, ...] | None:
    address = row.values.get("address")
    if not address or row.unit is None:
        return None
    return (row.unit.id, *(address[part] for part in ADDRESS_PARTS))


def _household_key(row: _Row) -> tuple[int, str] | None:
    number = row.values.get("household_number")
    if not number or row.unit is None:
        return None
    return (row.unit.id, number)


def _extra(attributes: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, dict[str, Any]] = {}
    for key, value in attributes.items():
        if value is not None:
            plugin, name = key.split(".", 1)
            extra.setdefault(plugin, {})[name] = value
    return extra


def _looks_numeric(cells: Sequence[Any], columns: _Columns, name: str) -> bool:
    index = columns.index.get(name)
    return (
        index is not None
        and index < len(cells)
        and isinstance(cells[index], int | float)
        and not isinstance(cells[index], bool)
    )


def _attribute_value(spec: AttributeSpec, text: str) -> Any:
    """A spreadsheet cell as the JSON value the attribute's schema expects."""
    return _typed(dict(spec.attribute.schema), text)


def _typed(schema: Mapping[str, Any], text: str) -> Any:
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
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("应为 是 或 否")
    if kind == "array":
        items = schema.get("items")
        parts = [p.strip() for p in _TAG_SPLIT.split(text) if p.strip()]
        return [_typed(items, p) if isinstance(items, Mapping) else p for p in parts]
    if kind == "object":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("应为 JSON 对象") from None
    return text


# -- the entry points -----------------------------------------------------------------------


def plan_import(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str = "",
    *,
    progress: Progress | None = None,
    max_rows: int = MAX_IMPORT_ROWS,
) -> ImportReport:
    """Check every row of the file (the dry run) and write nothing.

    Raises :class:`~shequyun_sdk.ValidationFailed` (field ``file``) when the file cannot be
    read at all; problems in rows are in the report.
    """
    return _run(kernel, actor, data, filename, write=False, progress=progress, max_rows=max_rows)


def apply_import(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str = "",
    *,
    progress: Progress | None = None,
    max_rows: int = MAX_IMPORT_ROWS,
    client_ip: str | None = None,
) -> ImportReport:
    """Check every row again and import the file all or nothing, in one transaction.

    When any row is bad, nothing is written and the report lists every problem
    (``applied`` false). Otherwise residents are created or updated, each with its history
    (source ``import``) and its ``resident.created`` / ``resident.updated`` event, and one
    ``resident.imported`` audit entry records the file.
    """
    return _run(
        kernel,
        actor,
        data,
        filename,
        write=True,
        progress=progress,
        max_rows=max_rows,
        client_ip=client_ip,
    )


def _run(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str,
    *,
    write: bool,
    progress: Progress | None,
    max_rows: int,
    client_ip: str | None = None,
) -> ImportReport:
    if not actor.has(IMPORT):
        raise Forbidden("您没有批量导入居民信息的权限")
    table = ImportTable(data, filename, max_rows=max_rows)
    report = ImportReport(dry_run=not write)
    with Session(kernel.engine, expire_on_commit=False) as session:
        try:
            importer = _Importer(kernel, session, actor, report, write)
            importer.run(table, progress)
            if not write or report.error_count:
                session.rollback()
                return report
            audit.record(
                session,
                "resident.imported",
                actor=actor,
                target_type="resident",
                detail={
                    "filename": filename[:200],
                    "format": table.kind,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated - report.unchanged,
                    "unchanged": report.unchanged,
                },
                client_ip=client_ip,
            )
            session.commit()
        except BaseException as exc:
            session.rollback()
            if _violates_a_constraint(exc):  # someone wrote the same address meanwhile
                raise Conflict(
                    "导入期间有其他人修改了相同的数据，未写入任何数据，请重新导入"
                ) from None
            raise
    report.applied = True
    return report


def _violates_a_constraint(exc: BaseException) -> bool:
    """An integrity error, whether SQLAlchemy wrapped it or psycopg raised it from a COPY."""
    if isinstance(exc, IntegrityError):
        return True
    return str(getattr(exc, "sqlstate", "") or "").startswith("23")
