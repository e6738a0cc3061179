"""Checking import rows, batch by batch: each through :func:`clean_resident`, the check every
input path shares, and each ID number against what is registered already.

A row whose ID number is already registered becomes an update of that record when the actor
may import into its committee, and an error otherwise, so nobody is ever registered twice;
updates go through :meth:`ResidentService.update`, so their history and events are exactly those
of an edit in the portal.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shequyun_sdk import ApiError
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from ..events import EventDelivery, OutboxEvent
from ..identity import scope
from ..identity.models import OrgUnit
from . import tally
from .idnumber import mask_id, mask_phone
from .import_table import (
    ADDRESS_PARTS,
    BATCH_SIZE,
    FALSE_WORDS,
    IMPORT,
    SOURCE,
    TAG_SPLIT,
    TRUE_WORDS,
    Columns,
    ImportReport,
    ImportTable,
    Row,
    cell_text,
    file_error,
    padded_date,
    read_header,
)
from .import_writer import CHANGE_COLUMNS, RESIDENT_COLUMNS, Places, Writer, among, read_ahead
from .models import Resident, ResidentChange, ResidentTag
from .validation import clean_resident
from .vocabulary import AttributeSpec

if TYPE_CHECKING:
    from ..kernel import Kernel

Progress = Callable[[int], None]


class Units:
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


class Importer:
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
        self.units = Units(session, actor)
        self.default_unit = (
            actor.unit if actor.unit is not None and actor.unit.level == "committee" else None
        )
        self.columns = Columns()
        self.seen: dict[str, int] = {}  # ID hash → first row holding it
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.locking = write and self.postgres
        self.writer = Writer(session)
        self.places = Places(session, self.writer)

    def run(self, table: ImportTable, progress: Progress | None) -> None:
        rows = table.rows()
        first = next(rows, None)
        if first is None:
            raise file_error("文件是空的")
        self.columns = read_header(
            first[0],
            first[1],
            self.service.vocabulary.active_attributes(),
            self.report,
            unit_required=self.default_unit is None,
        )
        if self.report.error_count:
            return
        # Batches are checked in a thread of their own while the previous one is written:
        # the checks (validation, sealing) are this process's work, the writes the database's.
        with contextlib.closing(read_ahead(self._parsed(rows))) as batches:
            for batch in batches:
                self.report.rows += len(batch)
                self._finish(batch)
                if progress is not None:
                    progress(len(batch))
        if self.report.rows == 0:
            raise file_error("文件只有表头，没有数据行")

    def _error(self, row: Row, field_name: str, message: str) -> None:
        row.problems.append((self.columns.title(field_name), message))

    # rows, without the database

    def _parsed(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[list[Row]]:
        batch: list[Row] = []
        for number, cells in rows:
            batch.append(self._parse(number, cells))
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    def _parse(self, number: int, cells: Sequence[Any]) -> Row:
        columns = self.columns
        row = Row(number, {})
        texts = {
            name: cell_text(cells[i]) if i < len(cells) else "" for name, i in columns.index.items()
        }
        for index in (*columns.headless, *range(columns.width, len(cells))):
            if index < len(cells) and cell_text(cells[index]):
                row.problems.append((f"第 {index + 1} 列", "这一列没有表头"))
        data = row.data
        for name in ("name", "id_number"):
            data[name] = texts.get(name, "")
        data["gender"] = texts.get("gender", "")  # empty: taken from the ID number
        data["birth_date"] = padded_date(texts.get("birth_date", ""))
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
            data["tags"] = [t.strip() for t in TAG_SPLIT.split(texts["tags"]) if t.strip()]
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

    def _finish(self, batch: list[Row]) -> None:
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

    def _update(self, row: Row) -> None:
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

    def _create(self, rows: list[Row]) -> None:
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
            Resident, RESIDENT_COLUMNS, resident_rows, ids=True, json_columns=("extra",)
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
        # Inserted without the ORM: counted here, from the values just written (reading
        # them back cost a sixth of the import's CPU).
        tally.note_new(
            self.session,
            (
                (
                    row.unit.id,
                    row.values["gender"],
                    row.values["birth_date"],
                    row.values.get("tags", ()),
                )
                for row in rows
                if row.unit is not None
            ),
        )
        actor = self.actor
        writer.insert(
            ResidentChange,
            CHANGE_COLUMNS,
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
                {
                    "resident_id": resident_id,
                    "unit_code": row.unit.code,
                    "unit_id": row.unit.id,
                    "version": 1,
                }
                for row, resident_id in zip(rows, ids, strict=True)
                if row.unit is not None
            ],
            now,
        )

    def _publish(self, event_type: str, payloads: list[dict[str, Any]], now: datetime) -> None:
        """Add the events and their deliveries, as ``EventBus.publish`` does one by one."""
        bus = self.service.events
        for payload in payloads:
            bus.check(event_type, payload)
        ids = self.writer.insert(
            OutboxEvent,
            ("type", "payload", "created_at"),
            [(event_type, payload, now) for payload in payloads],
            ids=True,
            json_columns=("payload",),
        )
        names = [name for name, sub in bus.subscribers.items() if sub.matches(event_type)]
        self.writer.insert(
            EventDelivery,
            ("event_id", "subscriber", "status", "attempts", "next_attempt_at"),
            [(event_id, name, "pending", 0, now) for event_id in ids for name in names],
        )


def _extra(attributes: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, dict[str, Any]] = {}
    for key, value in attributes.items():
        if value is not None:
            plugin, name = key.split(".", 1)
            extra.setdefault(plugin, {})[name] = value
    return extra


def _looks_numeric(cells: Sequence[Any], columns: Columns, name: str) -> bool:
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
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValueError("应为 是 或 否")
    if kind == "array":
        items = schema.get("items")
        parts = [p.strip() for p in TAG_SPLIT.split(text) if p.strip()]
        return [_typed(items, p) if isinstance(items, Mapping) else p for p in parts]
    if kind == "object":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("应为 JSON 对象") from None
    return text
