"""Writing an import in bulk: batched inserts of residents, their history, places and events.

A million rows through the per-row ORM path would take hours; these statements write a batch
at once, with the same rows an edit through the service would leave.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, String, any_, bindparam, insert
from sqlalchemy import select as core_select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from ..db import json_text
from .import_table import ADDRESS_PARTS, Row
from .models import Address, Household

RESIDENT_COLUMNS = (
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
CHANGE_COLUMNS = (
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
ADDRESS_COLUMNS = ("unit_id", *ADDRESS_PARTS)


class Writer:
    """Bulk inserts in the import's transaction: ``COPY`` on PostgreSQL (ids drawn from the
    table's sequence first), ``executemany`` elsewhere.

    With :attr:`deferred` (PostgreSQL), an insert only draws its ids and keeps its ``COPY`` in
    :attr:`pending` for a :class:`~.import_stream.CopyStream` to run; ids drawn beforehand
    with :meth:`draw` let it run no statement at all."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.deferred = False
        #: ``(table, columns, rows, ids)`` of the inserts kept for a stream, in order.
        self.pending: list[CopyJob] = []
        self._sequences: dict[str, str] = {}
        self._drawn: dict[str, list[int]] = {}

    def json(self, value: Any) -> Any:
        """``value`` as a JSON column takes it here: on PostgreSQL the text COPY writes (orjson,
        as the engine writes JSON columns), elsewhere the value itself for the column type."""
        if not self.postgres:
            return value
        return _EMPTY if value == {} else json_text(value)

    def time(self, value: datetime) -> Any:
        """``value`` as a timestamp column takes it here: on PostgreSQL the text COPY writes
        (formatted once for a batch's rows, not by psycopg once a row), elsewhere itself."""
        return value.isoformat() if self.postgres else value

    def date(self, value: date) -> Any:
        """``value`` as a date column takes it here, as :meth:`time`."""
        return value.isoformat() if self.postgres else value

    def draw(self, model: Any, count: int) -> None:
        """On PostgreSQL, draw now the ids of the next insert of ``count`` rows into ``model``'s
        table (elsewhere the insert returns them)."""
        if self.postgres and count:
            table = model.__table__.name
            self._drawn[table] = self._draw(table, count)

    def insert(
        self,
        model: Any,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        ids: bool = False,
    ) -> list[int]:
        """Insert ``rows`` (values in ``columns`` order, JSON values through :meth:`json`);
        with ``ids``, return their new ids."""
        if not rows:
            return []
        table = model.__table__
        if self.postgres:
            new_ids: list[int] = []
            if ids:
                new_ids = self._drawn.pop(table.name, [])
                if not new_ids:
                    if self.deferred:  # a stream may be using the connection
                        raise RuntimeError(f"no ids drawn for {table.name} before its insert")
                    new_ids = self._draw(table.name, len(rows))
                if len(new_ids) != len(rows):
                    raise RuntimeError(f"{len(new_ids)} ids drawn for {len(rows)} rows")
            job = (table.name, tuple(columns), rows, new_ids)
            if self.deferred:
                self.pending.append(job)
            else:
                copy_rows(self.driver_connection(), *job)
            return new_ids
        params = [dict(zip(columns, row, strict=True)) for row in rows]
        if not ids:
            self.session.execute(insert(table), params)
            return []
        result = self.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), params
        )
        return [row[0] for row in result]

    def take_pending(self) -> list[CopyJob]:
        """The kept inserts, handed over (and forgotten here)."""
        pending, self.pending = self.pending, []
        return pending

    def driver_connection(self) -> Any:
        """The psycopg connection of the import's transaction."""
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        return raw

    def _draw(self, table: str, count: int) -> list[int]:
        sequence = self._sequences.get(table)
        if sequence is None:
            sequence = self.session.execute(
                sql_text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
            ).scalar_one()
            self._sequences[table] = sequence
        # One row of text, split here: a row per id through the driver and SQLAlchemy
        # cost the import's writing thread a tenth of its time.
        drawn = self.session.execute(_DRAW, {"s": sequence, "n": count}).scalar_one()
        return list(map(int, drawn.split(",")))


#: An insert as :func:`copy_rows` takes it: table, columns, rows, and their ids (or none).
CopyJob = tuple[str, tuple[str, ...], Sequence[tuple[Any, ...]], list[int]]


def copy_rows(
    raw: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], ids: list[int]
) -> None:
    """``COPY`` ``rows`` into ``table`` on the psycopg connection ``raw``, each preceded by its
    id when ``ids`` are given."""
    if ids:
        columns = ("id", *columns)
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        if ids:
            for new_id, row in zip(ids, rows, strict=True):
                write((new_id, *row))
        else:
            for row in rows:
                write(row)


_EMPTY = "{}"
# ``n`` ids from sequence ``s`` in the order drawn, as one text.
_DRAW = sql_text(
    "SELECT string_agg(CAST(id AS text), ',' ORDER BY id) "
    "FROM (SELECT nextval(:s) AS id FROM generate_series(1, :n)) AS drawn"
)


class Places:
    """The addresses and households rows point to, created when missing.

    Each compound's addresses and each committee's households are read once per import and
    then kept, so a batch costs no lookups for the places earlier batches have seen (nor for
    those whose rows a stream has not written yet: no lookup can need them).
    """

    def __init__(self, session: Session, writer: Writer) -> None:
        self.session = session
        self.writer = writer
        self.addresses: dict[tuple[int, str], dict[tuple[str, str, str], int]] = {}
        self.households: dict[int, dict[str, int]] = {}
        self._missing: list[tuple[Any, ...]] = []
        self._new: dict[tuple[int, str], tuple[Any, ...] | None] = {}

    def look_up(self, rows: Sequence[Row]) -> None:
        """Read the addresses and households of ``rows`` that no earlier batch has seen and
        draw the ids of those missing: all :meth:`create` needs of the database."""
        for row in rows:
            row.place = address_key(row)
            row.household = household_key(row)
        self._load_addresses(rows)
        addresses = self.addresses
        missing: dict[tuple[Any, ...], None] = {}
        for row in rows:
            key = row.place
            if key is not None and key[2:] not in addresses[key[:2]]:
                missing[key] = None
        self._load_households(rows)
        households = self.households
        new: dict[tuple[int, str], tuple[Any, ...] | None] = {}
        for row in rows:
            household = row.household
            if household is not None and household[1] not in households[household[0]]:
                new.setdefault(household, row.place)
        self._missing = list(missing)
        self._new = new
        self.writer.draw(Address, len(self._missing))
        self.writer.draw(Household, len(new))

    def create(self, now: Any) -> None:
        """Insert what :meth:`look_up` found missing (``now`` as :meth:`Writer.time` gives
        it)."""
        addresses = self.addresses
        keys, self._missing = self._missing, []
        for key, address_id in zip(
            keys, self.writer.insert(Address, ADDRESS_COLUMNS, keys, ids=True), strict=True
        ):
            addresses[key[:2]][key[2:]] = address_id
        new, self._new = self._new, {}
        fresh = list(new)
        ids = self.writer.insert(
            Household,
            ("unit_id", "number", "address_id", "created_at"),
            [(unit, number, self._address_of(place), now) for (unit, number), place in new.items()],
            ids=True,
        )
        households = self.households
        for (unit_id, number), household_id in zip(fresh, ids, strict=True):
            households[unit_id][number] = household_id

    def address_id(self, row: Row) -> int | None:
        """The id of ``row``'s address (after :meth:`create`)."""
        return self._address_of(row.place)

    def _address_of(self, key: tuple[Any, ...] | None) -> int | None:
        return None if key is None else self.addresses[key[:2]][key[2:]]

    def household_id(self, row: Row) -> int | None:
        """The id of ``row``'s household (after :meth:`create`)."""
        key = row.household
        return None if key is None else self.households[key[0]][key[1]]

    def _load_addresses(self, rows: Sequence[Row]) -> None:
        wanted = {key[:2] for row in rows if (key := row.place) is not None} - self.addresses.keys()
        if not wanted:
            return
        for pair in wanted:
            self.addresses[pair] = {}
        table = Address.__table__  # type: ignore[attr-defined]
        # One array parameter each (``among``): an IN list of a batch's thousands of units
        # cost more to build and plan than the lookup itself.
        postgres = self.writer.postgres
        units = sorted({unit_id for unit_id, _ in wanted})
        compounds = sorted({compound for _, compound in wanted})
        query = core_select(table.c.id, *(table.c[c] for c in ADDRESS_COLUMNS)).where(
            among(table.c.unit_id, units, postgres),
            among(table.c.compound, compounds, postgres, name="among_compound"),
        )
        for address_id, unit_id, compound, building, entrance, room in self.session.execute(query):
            known = self.addresses.get((unit_id, compound))
            if known is not None:
                known[(building, entrance, room)] = address_id

    def _load_households(self, rows: Sequence[Row]) -> None:
        wanted = {
            key[0] for row in rows if (key := row.household) is not None
        } - self.households.keys()
        if not wanted:
            return
        for unit_id in wanted:
            self.households[unit_id] = {}
        table = Household.__table__  # type: ignore[attr-defined]
        query = (
            core_select(table.c.id, table.c.unit_id, table.c.number)
            .where(among(table.c.unit_id, sorted(wanted), self.writer.postgres))
            .order_by(table.c.id)
        )
        for household_id, unit_id, number in self.session.execute(query):
            self.households[unit_id].setdefault(number, household_id)


T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """``items``, produced in a thread of their own up to ``depth`` ahead of the consumer.

    An exception in the producer is raised in the consumer; a consumer that stops early (an
    error while writing) stops the producer at its next item."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over((_DONE, exc))

    producer = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        producer.join()


def among(column: Any, values: Sequence[Any], postgres: bool, *, name: str = "among") -> Any:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter, not thousands
    (``name`` tells two of them in one statement apart)."""
    if postgres:
        kind = String if values and isinstance(next(iter(values)), str) else Integer
        return column == any_(bindparam(name, list(values), type_=ARRAY(kind)))
    return column.in_(values)


def address_key(row: Row) -> tuple[Any, ...] | None:
    address = row.values.get("address")
    if not address or row.unit is None:
        return None
    return (
        row.unit.id,
        address["compound"],
        address["building"],
        address["entrance"],
        address["room"],
    )


def household_key(row: Row) -> tuple[int, str] | None:
    number = row.values.get("household_number")
    if not number or row.unit is None:
        return None
    return (row.unit.id, number)
