"""Checking import rows, batch by batch: each through :func:`clean_resident`, the check every
input path shares, and each ID number against what is registered already.

A row whose ID number is already registered becomes an update of that record when the actor
may import into its committee, and an error otherwise, so nobody is ever registered twice;
updates go through :meth:`ResidentService.update`, so their history and events are exactly those
of an edit in the portal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shequyun_sdk import ApiError
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import select as core_select
from sqlmodel import Session

from ..events import EventDelivery, OutboxEvent
from ..identity import scope
from ..identity.models import OrgUnit
from . import tally
from .idnumber import mask_id, mask_phone
from .import_stream import CopyStream
from .import_table import (
    BATCH_SIZE,
    IMPORT,
    SOURCE,
    TAG_SPLIT,
    Columns,
    ImportReport,
    ImportTable,
    Row,
    attribute_value,
    cell_text,
    file_error,
    looks_numeric,
    read_header,
)
from .import_writer import CHANGE_COLUMNS, RESIDENT_COLUMNS, Places, Writer, among, read_ahead
from .models import Resident, ResidentChange, ResidentTag
from .validation import clean_resident

if TYPE_CHECKING:
    from ..kernel import Kernel

Progress = Callable[[int], None]
#: Rows in the first batch (the others hold ``BATCH_SIZE``).
FIRST_BATCH_SIZE = 500
_RESIDENTS: Any = Resident.__table__  # type: ignore[attr-defined]


class Units:
    """Every org unit by code and id, and the committees the actor may import into by name."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.by_code: dict[str, UnitRef] = {}
        self.by_id: dict[int, UnitRef] = {}
        self.by_name: dict[str, list[UnitRef]] = {}
        self._resolved: dict[str, tuple[UnitRef | None, str | None]] = {}
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
        """The committee ``text`` (a code, or a name within the actor's scope) names, and
        what is wrong with it (answers kept: a file names each committee many times)."""
        found = self._resolved.get(text)
        if found is None:
            found = self._resolved[text] = self._resolve(actor, text)
        return found

    def _resolve(self, actor: Actor, text: str) -> tuple[UnitRef | None, str | None]:
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
        self.stream: CopyStream | None = None

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
        # On PostgreSQL a batch's COPY statements run in a third thread (a stream) while the
        # next batch is looked up and prepared.
        if self.locking:
            self.stream = CopyStream(self.writer.driver_connection())
            self.writer.deferred = True
        try:
            with contextlib.closing(read_ahead(self._parsed(rows))) as batches:
                for batch in batches:
                    self.report.rows += len(batch)
                    self._finish(batch)
                    if progress is not None:
                        progress(len(batch))
            if not self.report.error_count:
                self._hand_over()
            self._own_connection()
        finally:
            if self.stream is not None:
                self.stream.close()
                self.stream = None
        if self.report.rows == 0:
            raise file_error("文件只有表头，没有数据行")

    def _error(self, row: Row, field_name: str, message: str) -> None:
        row.problems.append((self.columns.title(field_name), message))

    # rows, without the database

    def _parsed(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[list[Row]]:
        batch: list[Row] = []
        # Nothing is written before the first batch is checked: a small one starts sooner.
        size = min(FIRST_BATCH_SIZE, BATCH_SIZE)
        for number, cells in rows:
            batch.append(self._parse(number, cells))
            if len(batch) >= size:
                self._seal(batch)
                yield batch
                batch = []
                size = BATCH_SIZE
        if batch:
            self._seal(batch)
            yield batch

    def _seal(self, batch: list[Row]) -> None:
        """Encrypt, hash and mask the ID and phone numbers of the good rows, when writing."""
        if not self.write:
            return
        good = [row for row in batch if not row.problems and row.values.get("id_number")]
        cipher = self.service.cipher
        numbers = cipher.encrypt_many([row.values["id_number"] for row in good])
        # In the order of the rows that have one.
        phones = iter(
            cipher.encrypt_many([r.values["phone"] for r in good if r.values.get("phone")])
        )
        for row, sealed_number in zip(good, numbers, strict=True):
            phone = row.values.get("phone")
            row.sealed = (
                sealed_number,
                mask_id(row.values["id_number"]),
                next(phones) if phone else None,
                cipher.lookup_hash(phone) if phone else None,
                mask_phone(phone) if phone else None,
            )

    def _parse(self, number: int, cells: Sequence[Any]) -> Row:
        columns = self.columns
        row = Row(number, {})
        width = len(cells)
        texts: dict[str, str] = {}  # the non-empty cells, by field
        for name, i in columns.index.items():
            if i < width:
                cell = cells[i]
                text = cell.strip() if type(cell) is str else cell_text(cell)
                if text:
                    texts[name] = text
        if columns.headless or width > columns.width:
            for index in (*columns.headless, *range(columns.width, width)):
                if index < width and cell_text(cells[index]):
                    row.problems.append((f"第 {index + 1} 列", "这一列没有表头"))
        get = texts.get
        data = row.data
        data["name"] = get("name", "")
        data["id_number"] = get("id_number", "")
        data["gender"] = get("gender", "")  # empty: taken from the ID number
        born = get("birth_date")
        data["birth_date"] = born or ""  # read by clean_resident, as the API's
        if "registration" in texts:
            data["registration"] = texts["registration"]
        elif "registration" in columns.index:
            self._error(row, "registration", "不能为空")
        if "phone" in texts:
            data["phone"] = texts["phone"]
        compound, building = get("address.compound", ""), get("address.building", "")
        entrance, room = get("address.entrance", ""), get("address.room", "")
        if compound or building or entrance or room:
            data["address"] = {
                "compound": compound,
                "building": building,
                "entrance": entrance,
                "room": room,
            }
        if "household_number" in texts:
            data["household_number"] = texts["household_number"]
        if "tags" in texts:
            data["tags"] = [t.strip() for t in TAG_SPLIT.split(texts["tags"]) if t.strip()]
        if columns.attributes:
            attributes: dict[str, Any] = {}
            for name, spec in columns.attributes.items():
                if name in texts:
                    try:
                        attributes[spec.key] = attribute_value(spec, texts[name])
                    except ValueError as exc:
                        self._error(row, name, str(exc))
            if attributes:
                data["attributes"] = attributes
        cleaned = clean_resident(data, self.service.vocabulary, partial=True)
        for problem in cleaned.errors:
            message = problem["message"]
            if problem["field"] == "id_number" and looks_numeric(cells, columns, "id_number"):
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
        return row

    # a batch, against the database

    def _own_connection(self) -> None:
        """Wait until the stream has written what it was handed: the connection is ours."""
        if self.stream is not None:
            self.stream.wait()

    def _hand_over(self) -> None:
        """Have the stream write the inserts kept so far (those of the batch before)."""
        if self.stream is not None:
            self.stream.send(self.writer.take_pending())

    def _finish(self, batch: list[Row]) -> None:
        self._own_connection()
        hashes = [row.id_hash for row in batch if row.id_hash]
        existing: dict[str, tuple[int, int, int]] = {}
        if hashes:
            r = _RESIDENTS.c
            query = core_select(r.id_number_hash, r.id, r.unit_id, r.version).where(
                among(r.id_number_hash, hashes, self.postgres), r.status == "active"
            )
            if self.locking:  # matched records stay as read until the import commits
                query = query.with_for_update(of=_RESIDENTS)
            for id_hash, resident_id, unit_id, version in self.session.execute(query):
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
                self._look_up(creates)
            # The batch before is written while this one is prepared (nothing here needs its
            # rows: a file names each ID number once, and known places are kept in memory).
            self._hand_over()
            if creates:
                self._create(creates)
            if updates:
                # Through the service, which may read what the creates wrote (a household).
                self._hand_over()
                self._own_connection()
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

    def _look_up(self, rows: list[Row]) -> None:
        """What writing ``rows`` needs of the database: their places, and the ids of what they
        add (so that :meth:`_create` runs no statement and a stream writes its inserts)."""
        self.places.look_up(rows)
        self.writer.draw(Resident, len(rows))
        if self._subscribers(_CREATED):
            self.writer.draw(OutboxEvent, sum(1 for row in rows if row.unit is not None))

    def _create(self, rows: list[Row]) -> None:
        writer = self.writer
        now = writer.time(datetime.now(UTC))
        as_date = writer.date
        places = self.places
        places.create(now)
        no_extra = writer.json({})
        resident_rows: list[tuple[Any, ...]] = []
        for row in rows:
            assert row.unit is not None and row.id_hash is not None
            values = row.values
            id_enc, id_masked, phone_enc, phone_hash, phone_masked = row.sealed
            attributes = values.get("attributes")
            resident_rows.append(
                (
                    row.unit.id,
                    values["name"],
                    values["gender"],
                    as_date(values["birth_date"]),
                    id_enc,
                    row.id_hash,
                    id_masked,
                    phone_enc,
                    phone_hash,
                    phone_masked,
                    values["registration"],
                    places.address_id(row),
                    places.household_id(row),
                    writer.json(_extra(attributes)) if attributes else no_extra,
                    "active",
                    1,
                    now,
                    now,
                )
            )
        ids = writer.insert(Resident, RESIDENT_COLUMNS, resident_rows, ids=True)
        writer.insert(
            ResidentTag,
            ("resident_id", "tag"),
            [
                (resident_id, tag)
                for row, resident_id in zip(rows, ids, strict=True)
                for tag in row.values.get("tags", ())
            ],
        )
        # Inserted without the ORM: counted here, from the values just written.
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
        user_id, username, grant_id = actor.user_id, actor.username, actor.grant_id
        writer.insert(
            ResidentChange,
            CHANGE_COLUMNS,
            [
                (
                    resident_id,
                    1,
                    now,
                    user_id,
                    username,
                    grant_id,
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
            _CREATED,
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

    def _publish(self, event_type: str, payloads: list[dict[str, Any]], now: Any) -> None:
        """Add the events and their deliveries, as ``EventBus.publish`` does one by one."""
        bus = self.service.events
        stored = [bus.stored(event_type, payload) for payload in payloads]  # checked, sealed
        json = self.writer.json
        names = self._subscribers(event_type)
        ids = self.writer.insert(
            OutboxEvent,
            ("type", "payload", "created_at"),
            [(event_type, json(payload), now) for payload in stored],
            ids=bool(names),  # only deliveries need them: without, the table's default draws
        )
        self.writer.insert(
            EventDelivery,
            ("event_id", "subscriber", "status", "attempts", "next_attempt_at"),
            [(event_id, name, "pending", 0, now) for event_id in ids for name in names],
        )

    def _subscribers(self, event_type: str) -> list[str]:
        subscribers = self.service.events.subscribers
        return [name for name, sub in subscribers.items() if sub.matches(event_type)]


_CREATED = "resident.created"


def _extra(attributes: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, dict[str, Any]] = {}
    for key, value in attributes.items():
        if value is not None:
            plugin, name = key.split(".", 1)
            extra.setdefault(plugin, {})[name] = value
    return extra
