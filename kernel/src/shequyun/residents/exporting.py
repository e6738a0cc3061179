"""Downloading residents (下载): CSV and XLSX, chosen columns, a stated purpose, audited.

An export holds exactly the residents the actor may export (the kernel's scope filter, through
:meth:`ResidentService.scoped_query`), read in keyset batches so that neither the database nor
this process ever holds the whole set: CSV is produced batch by batch as it is sent; XLSX is
written row by row by openpyxl's write-only workbook into a temporary file and sent from there.
ID and phone numbers are masked unless the actor holds ``residents.reveal`` and asks for them in
full; the audit entry written when the export starts says which.

The rows (and their count) are read from ``reading``, a healthy read replica when the web layer
found one (see :mod:`shequyun.replicas`), so that a district's export does not load the
primary; the audit entry is always written to the primary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from shequyun_sdk import Forbidden, ValidationFailed
from shequyun_sdk.csvfiles import csv_chunks
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from ..spreadsheets import xlsx_chunks
from .idnumber import mask_id, mask_phone
from .importing import among
from .models import GENDERS, REGISTRATIONS, Address, Household, Resident, ResidentTag
from .reading import units_under
from .service import ResidentFilters
from .vocabulary import ResidentVocabulary

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = [
    "BASE_COLUMNS",
    "EXPORT",
    "FORMATS",
    "REVEAL",
    "ExportColumn",
    "ResidentExport",
    "check_purpose",
    "column_catalogue",
    "resolve_columns",
]

EXPORT = "residents.export"
REVEAL = "residents.reveal"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH_SIZE = 1000
CHUNK_BYTES = 64 * 1024
MASK = "******"


@dataclass(frozen=True)
class ExportColumn:
    """A column that may be exported: its key (``columns=``), Chinese header, sensitivity."""

    key: str
    title: str
    sensitive: bool = False


BASE_COLUMNS = (
    ExportColumn("name", "姓名"),
    ExportColumn("gender", "性别"),
    ExportColumn("birth_date", "出生日期"),
    ExportColumn("age", "年龄"),
    ExportColumn("id_number", "身份证号", sensitive=True),
    ExportColumn("phone", "电话", sensitive=True),
    ExportColumn("registration", "户籍类型"),
    ExportColumn("unit", "所属居委"),
    ExportColumn("unit_code", "所属居委编码"),
    ExportColumn("compound", "小区"),
    ExportColumn("building", "楼栋"),
    ExportColumn("entrance", "单元"),
    ExportColumn("room", "室"),
    ExportColumn("household_number", "户号"),
    ExportColumn("tags", "标签"),
)
_ADDRESS_KEYS = ("compound", "building", "entrance", "room")
_RESIDENT_FIELDS = (
    "id",
    "unit_id",
    "name",
    "gender",
    "birth_date",
    "id_number_enc",
    "id_number_masked",
    "phone_enc",
    "phone_masked",
    "registration",
    "address_id",
    "household_id",
    "extra",  # last: read only when plugin attributes are exported
)


class _Place(NamedTuple):
    """Where a resident lives and what they are tagged with, for one exported row."""

    address: tuple[str, str, str, str] | None
    household: str
    unit: tuple[str, str]  # code, name
    tags: Sequence[str]


_Cell = Callable[[Any, _Place], Any]
_BASE_KEYS = {c.key for c in BASE_COLUMNS}


def column_catalogue(vocabulary: ResidentVocabulary) -> list[ExportColumn]:
    """Every column an export may have: the base ones, then each active plugin attribute."""
    return [
        *BASE_COLUMNS,
        *(
            ExportColumn(spec.key, spec.attribute.title, spec.attribute.sensitive)
            for spec in vocabulary.active_attributes()
        ),
    ]


def resolve_columns(vocabulary: ResidentVocabulary, raw: str | None) -> list[ExportColumn]:
    """The columns named (by key or Chinese header, comma-separated); all when none are."""
    catalogue = column_catalogue(vocabulary)
    if raw is None or not raw.strip():
        return catalogue
    by_name = {c.title: c for c in catalogue}
    by_name.update({c.key: c for c in catalogue})
    chosen: list[ExportColumn] = []
    unknown: list[str] = []
    for name in (n.strip() for n in raw.replace("，", ",").split(",")):
        if not name:
            continue
        column = by_name.get(name)
        if column is None:
            unknown.append(name)
        elif column not in chosen:
            chosen.append(column)
    if unknown:
        raise ValidationFailed(
            f"没有这些列：{'、'.join(unknown[:10])}。可选的列："
            + "、".join(f"{c.key}（{c.title}）" for c in catalogue),
            field="columns",
        )
    if not chosen:
        raise ValidationFailed("请至少选择一列", field="columns")
    return chosen


def check_purpose(raw: str | None) -> str:
    """The stated purpose of an export (2 to 200 characters), or 422 naming ``purpose``."""
    purpose = (raw or "").strip()
    if not 2 <= len(purpose) <= 200:
        raise ValidationFailed("请说明下载用途（2-200 个字）", field="purpose")
    return purpose


class ResidentExport:
    """One export: :meth:`start` counts the rows and writes the audit entry; then
    :meth:`csv_chunks` or :meth:`xlsx_chunks` produce the file, batch by batch.

    Every database read happens inside these synchronous calls, each in its own short session,
    so the web layer runs them in a worker thread (Starlette iterates a synchronous body
    iterator in its thread pool).
    """

    def __init__(
        self,
        kernel: Kernel,
        actor: Actor,
        filters: ResidentFilters,
        columns: Sequence[ExportColumn],
        *,
        purpose: str,
        file_format: str,
        reveal: bool = False,
        reading: Engine | None = None,
    ) -> None:
        if file_format not in FORMATS:
            raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
        if not actor.has(EXPORT):
            raise Forbidden("您没有下载居民信息的权限")
        if reveal and not actor.has(REVEAL):
            raise Forbidden("您没有查看完整身份证号和电话的权限", field="include_sensitive")
        self.engine = kernel.engine
        #: Where the rows are read: a replica, or the primary (``engine``) when none is given.
        self.reading = reading if reading is not None else kernel.engine
        self.service = kernel.residents
        self.actor = actor
        self.filters = filters
        self.columns = list(columns)
        self.purpose = check_purpose(purpose)
        self.format = file_format
        self.reveal = reveal
        self.rows = 0
        self.unit_name = actor.unit.name if actor.unit else ""
        self.unit_code = actor.unit.code if actor.unit else ""
        self.keys = {c.key for c in self.columns}
        self.attributes = {spec.key: spec for spec in self.service.vocabulary.active_attributes()}
        self.postgres = kernel.engine.dialect.name == "postgresql"

    @property
    def revealed(self) -> list[str]:
        """The sensitive columns exported in full."""
        return [c.key for c in self.columns if c.sensitive] if self.reveal else []

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    def start(self, *, client_ip: str | None = None) -> int:
        """Count the rows and record the export in the audit log (committed); return the count."""
        query = self.service.scoped_query(self.actor, self.filters, EXPORT)
        with Session(self.reading) as session:
            self.rows = session.exec(select(func.count()).select_from(query.subquery())).one()
            if self.filters.unit_code:
                unit = session.exec(
                    select(OrgUnit).where(OrgUnit.code == self.filters.unit_code)
                ).first()
                # The file is named after the unit filtered on when it lies in the scope; a
                # street above a cadre's committee filters nothing out, the scope's name stays.
                if unit is not None and self.rows and scope.can(self.actor, EXPORT, unit_ref(unit)):
                    self.unit_name, self.unit_code = unit.name, unit.code
        with Session(self.engine) as session:
            audit.record(
                session,
                "resident.exported",
                actor=self.actor,
                target_type="resident",
                detail={
                    "purpose": self.purpose,
                    "format": self.format,
                    "columns": [c.key for c in self.columns],
                    "rows": self.rows,
                    "filters": _filters_detail(self.filters),
                    "include_sensitive": self.reveal,
                    "revealed": self.revealed,
                },
                client_ip=client_ip,
            )
            session.commit()
        return self.rows

    def filename(self, today: date | None = None) -> str:
        day = (today or date.today()).strftime("%Y%m%d")
        return f"居民信息_{self.unit_name}_{day}.{self.format}"

    def content_disposition(self, today: date | None = None) -> str:
        """``attachment`` with an ASCII fallback and the Chinese name per RFC 5987."""
        day = (today or date.today()).strftime("%Y%m%d")
        fallback = f"residents_{self.unit_code}_{day}.{self.format}"
        return (
            f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(self.filename(today), safe='')}"
        )

    # -- rows ------------------------------------------------------------------------------

    def batches(self) -> Iterator[list[list[Any]]]:
        """The rows, as lists of cell values in column order, a batch at a time: unit by unit
        (in the order of their ids), each unit's residents by id.

        One unit at a time, because a batch of a whole district's residents by id made the
        database read every remaining resident of the district to return the next thousand
        (it cannot tell how many units a subtree holds, and guessed a handful): each batch cost
        what the rest of the district held, the export what the district held squared. A batch
        of one unit's residents by id is a range of the ``(unit_id, id)`` index.
        """
        fields = _RESIDENT_FIELDS if self.keys - _BASE_KEYS else _RESIDENT_FIELDS[:-1]
        query = self.service.scoped_query(self.actor, self.filters, EXPORT).with_only_columns(
            *(getattr(Resident, name) for name in fields)
        )
        cells = self._cells(date.today())
        units: dict[int, tuple[str, str]] = {}
        with Session(self.reading) as session:
            reachable = self._reachable_units(session)
        for unit_id in reachable:
            last = 0
            while True:
                with Session(self.reading) as session:
                    residents = session.execute(
                        query.where(col(Resident.unit_id) == unit_id, col(Resident.id) > last)
                        .order_by(col(Resident.id))
                        .limit(BATCH_SIZE)
                    ).all()
                    if not residents:
                        break
                    rows = self._rows(session, residents, units, cells)
                last = residents[-1].id
                yield rows
                if len(residents) < BATCH_SIZE:
                    break

    def _reachable_units(self, session: Session) -> list[int]:
        """The ids of the units the actor may export from (within the filter's unit, if one),
        in id order; the query still holds the scope and every filter."""
        units: Any = select(col(OrgUnit.id)).where(
            scope.scope_filter(self.actor, EXPORT, col(OrgUnit.id))
        )
        if self.filters.unit_code:  # as the list: a street's or a district's code, its subtree
            units = units.where(col(OrgUnit.id).in_(units_under(self.filters.unit_code)))
        return list(session.exec(units.order_by(col(OrgUnit.id))))

    def _rows(
        self,
        session: Session,
        residents: Sequence[Any],
        units: dict[int, tuple[str, str]],
        cells: Sequence[_Cell],
    ) -> list[list[Any]]:
        tags: dict[int, list[str]] = {}
        if "tags" in self.keys:
            for resident_id, tag in session.exec(
                select(ResidentTag.resident_id, ResidentTag.tag).where(
                    among(col(ResidentTag.resident_id), [r.id for r in residents], self.postgres)
                )
            ):
                tags.setdefault(resident_id, []).append(tag)
        addresses: dict[int, tuple[str, str, str, str]] = {}
        wanted = {r.address_id for r in residents if r.address_id}
        if wanted and self.keys & set(_ADDRESS_KEYS):
            table = Address.__table__  # type: ignore[attr-defined]
            query = core_select(table.c.id, *(table.c[k] for k in _ADDRESS_KEYS))
            for address_id, *parts in session.execute(
                query.where(among(table.c.id, list(wanted), self.postgres))
            ):
                addresses[address_id] = tuple(parts)  # type: ignore[assignment]
        households: dict[int, str] = {}
        wanted = {r.household_id for r in residents if r.household_id}
        if wanted and "household_number" in self.keys:
            for household_id, number in session.exec(
                select(Household.id, Household.number).where(
                    among(col(Household.id), list(wanted), self.postgres)
                )
            ):
                assert household_id is not None
                households[household_id] = number
        missing = {r.unit_id for r in residents} - units.keys()
        if missing and self.keys & {"unit", "unit_code"}:
            for unit_id, code, name in session.exec(
                select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(col(OrgUnit.id).in_(missing))
            ):
                assert unit_id is not None
                units[unit_id] = (code, name)
        rows = []
        for r in residents:
            place = _Place(
                addresses.get(r.address_id) if r.address_id else None,
                households.get(r.household_id, "") if r.household_id else "",
                units.get(r.unit_id, ("", "")),
                tags.get(r.id, ()),
            )
            rows.append([cell(r, place) for cell in cells])
        return rows

    def _cells(self, today: date) -> list[_Cell]:
        """For each column, how to get its value from a resident row and its place."""
        return [self._cell(c.key, today) for c in self.columns]

    def _cell(self, key: str, today: date) -> _Cell:
        cipher = self.service.cipher
        reveal = self.reveal
        if key == "name":
            return lambda r, p: r.name
        if key == "gender":
            return lambda r, p: GENDERS.get(r.gender, r.gender)
        if key == "birth_date":
            return lambda r, p: r.birth_date.isoformat()
        if key == "age":
            return lambda r, p: _age(r.birth_date, today)
        if key == "id_number":
            if reveal:
                return lambda r, p: cipher.decrypt(r.id_number_enc)
            return lambda r, p: r.id_number_masked
        if key == "phone":
            if reveal:
                return lambda r, p: cipher.decrypt(r.phone_enc) if r.phone_enc else ""
            return lambda r, p: r.phone_masked or ""
        if key == "registration":
            return lambda r, p: REGISTRATIONS.get(r.registration, r.registration)
        if key == "unit":
            return lambda r, p: p.unit[1]
        if key == "unit_code":
            return lambda r, p: p.unit[0]
        if key in _ADDRESS_KEYS:
            index = _ADDRESS_KEYS.index(key)
            return lambda r, p: p.address[index] if p.address else ""
        if key == "household_number":
            return lambda r, p: p.household
        if key == "tags":
            return lambda r, p: "、".join(sorted(p.tags))
        spec = self.attributes[key]
        plugin, name = spec.plugin, spec.attribute.name
        masked = spec.attribute.sensitive and not reveal

        def attribute(r: Any, p: _Place) -> Any:
            value = (r.extra or {}).get(plugin, {}).get(name)
            if value is None:
                return ""
            return MASK if masked else _attribute_text(value)

        return attribute

    # -- files -----------------------------------------------------------------------------

    def csv_chunks(self) -> Iterator[bytes]:
        """The CSV file: UTF-8 with a BOM (so that Excel shows Chinese), sent as it is read."""
        rows = (row for batch in self.batches() for row in batch)
        return csv_chunks(rows, header=[c.title for c in self.columns])

    def xlsx_chunks(self) -> Iterator[bytes]:
        """The XLSX file, built in a temporary file (write-only workbook), then sent in chunks."""
        widths = [
            20 if column.key in {"id_number", "unit", "compound", "tags"} else 12
            for column in self.columns
        ]
        rows = (row for batch in self.batches() for row in batch)
        return xlsx_chunks("居民信息", [c.title for c in self.columns], rows, widths=widths)

    def chunks(self) -> Iterator[bytes]:
        return self.xlsx_chunks() if self.format == "xlsx" else self.csv_chunks()


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _attribute_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(_attribute_text(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _filters_detail(filters: ResidentFilters) -> dict[str, Any]:
    """The filters that narrowed the export, for the audit log (ID and phone masked)."""
    defaults = asdict(ResidentFilters())
    detail: dict[str, Any] = {}
    for key, value in asdict(filters).items():
        if value == defaults[key]:
            continue
        if key == "id_number" and isinstance(value, str):
            value = mask_id(value) if len(value) >= 8 else "***"
        elif key == "phone" and isinstance(value, str):
            value = mask_phone(value)
        elif isinstance(value, tuple):
            value = list(value)
        detail[key] = value
    return detail
