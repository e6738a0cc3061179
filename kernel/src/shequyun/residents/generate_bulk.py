"""Writing synthetic residents straight into the tables: batched inserts, ``COPY`` on PostgreSQL.

Encrypts and hashes exactly as the service does: a million residents in minutes. It writes no
outbox events; history rows (one ``(created)`` row per resident, as the service writes) only
when asked.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from . import tally
from .crypto import FieldCipher
from .generate import Committee, Home, Person, generate_homes
from .idnumber import mask_id, mask_phone
from .models import Address, Household, Resident, ResidentChange, ResidentTag

# -- the fast path --------------------------------------------------------------------------


@dataclass
class BulkStats:
    """What :func:`bulk_load` wrote, and how long it took."""

    residents: int = 0
    households: int = 0
    addresses: int = 0
    tags: int = 0
    seconds: float = 0.0


class _Unit(Committee, Protocol):
    @property
    def id(self) -> int | None: ...


_RESIDENT_COLUMNS = (
    "id", "unit_id", "name", "gender", "birth_date", "id_number_enc", "id_number_hash",
    "id_number_masked", "phone_enc", "phone_hash", "phone_masked", "registration", "address_id",
    "household_id", "extra", "status", "version", "created_at", "updated_at",
)  # fmt: skip
_CHANGE_COLUMNS = (
    "resident_id", "version", "at", "unit_id", "source", "field", "old_value", "new_value",
)  # fmt: skip


def bulk_load(
    engine: Engine,
    cipher: FieldCipher,
    committees: Sequence[_Unit],
    count: int | Mapping[str, int],
    seed: int | str,
    *,
    history: bool = False,
    interleave: bool = True,
    today: date | None = None,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> BulkStats:
    """Write generated residents straight into the tables, in one transaction.

    ``count`` is the total, spread unevenly (deterministically) over ``committees``, or a
    mapping from committee code to its number of residents. ID numbers and phones are
    encrypted, hashed and masked exactly as :class:`~.service.ResidentService` does; ID numbers
    already in the table are never issued again. No outbox events are written (subscribers
    would otherwise receive a million ``resident.created``); with ``history`` each resident gets
    the ``(created)`` history row the service writes, with source ``import``.

    With ``interleave`` the new residents' ids are shuffled (seeded) over their range, as years
    of registrations would leave them: a committee's residents do not lie together by id, so
    no query benchmarked on the data profits from an order real data would not have.

    PostgreSQL gets ``COPY`` (the tables are locked against other writers meanwhile, and the id
    sequences moved past the new rows); SQLite gets ``executemany`` in the same transaction.
    ``progress(n)`` is called with the number of residents written after each batch.
    """
    began = time.perf_counter()
    sizes = count if not isinstance(count, int) else spread(committees, count, seed)
    stats = BulkStats()
    with engine.connect() as connection:
        writer = _writer(connection)
        try:
            existing = writer.existing_hashes()
            homes = generate_homes(
                committees,
                sizes,
                seed,
                today=today,
                taken=(lambda number: cipher.lookup_hash(number) in existing) if existing else None,
            )
            rows = _Rows(cipher, writer.now, writer.json_empty, history)
            unit_ids = {unit.code: unit.id for unit in committees}
            order: list[int] | None = None
            if interleave:
                order = list(range(sum(sizes.get(unit.code, 0) for unit in committees)))
                random.Random(f"{seed}:order").shuffle(order)
            last_ids = _write(writer, rows, homes, unit_ids, order, batch, stats, progress)
            writer.finish(last_ids)
            # Written without the ORM: the units' tallies are counted again, in the same
            # transaction, so that they never show the residents half loaded.
            with Session(bind=connection) as session:
                tally.rebuild(session)
            connection.commit()
        finally:
            writer.close()
    stats.seconds = time.perf_counter() - began
    return stats


def _write(
    writer: _Writer,
    rows: _Rows,
    homes: Iterable[Home],
    unit_ids: Mapping[str, int | None],
    order: Sequence[int] | None,
    batch: int,
    stats: BulkStats,
    progress: Callable[[int], None] | None,
) -> tuple[int, int, int]:
    """Number the rows of ``homes`` after the tables' last ids and write them in batches;
    the k-th resident gets id ``last + 1 + order[k]`` when an order is given.

    A committee that has addresses and households already keeps them: a generated address
    that exists is used as it is, and household numbers continue after the existing ones.
    """
    known, numbered = writer.existing_places({i for i in unit_ids.values() if i is not None})
    address_id, household_id, last_resident = writer.next_ids()
    written = 0
    for home in homes:
        unit_id = unit_ids[home.unit_code]
        assert unit_id is not None
        place = known.get((unit_id, *home.address)) if known else None
        if place is None:
            address_id += 1
            place = address_id
            rows.addresses.append((address_id, unit_id, *home.address))
        number = home.number
        if numbered.get(unit_id):
            number = f"H{int(number[1:]) + numbered[unit_id]:05d}"
        household_id += 1
        rows.households.append((household_id, unit_id, place, number, writer.now))
        for person in home.members:
            offset = order[written] if order is not None else written
            rows.resident(last_resident + 1 + offset, unit_id, place, household_id, person)
            written += 1
        if len(rows.residents) >= batch:
            _flush(writer, rows, stats, progress)
    _flush(writer, rows, stats, progress)
    return address_id, household_id, last_resident + written


def spread(committees: Sequence[Committee], total: int, seed: int | str) -> dict[str, int]:
    """``total`` people over the committees, some twice as populous as others, exactly."""
    rng = random.Random(f"{seed}:spread")
    weights = [rng.uniform(0.5, 1.5) for _ in committees]
    scale = total / sum(weights) if weights else 0.0
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return {unit.code: share for unit, share in zip(committees, shares, strict=True)}


class _Rows:
    """Rows waiting to be written, built the way the service builds them."""

    def __init__(self, cipher: FieldCipher, now: Any, json_empty: Any, history: bool) -> None:
        self.cipher = cipher
        self.now = now
        self.json_empty = json_empty
        self.history = history
        self.addresses: list[tuple[Any, ...]] = []
        self.households: list[tuple[Any, ...]] = []
        self.residents: list[tuple[Any, ...]] = []
        self.tags: list[tuple[int, str]] = []
        self.changes: list[tuple[Any, ...]] = []

    def resident(
        self, resident_id: int, unit_id: int, address_id: int, household_id: int, p: Person
    ) -> None:
        cipher = self.cipher
        phone = p.phone
        self.residents.append(
            (
                resident_id,
                unit_id,
                p.name,
                p.gender,
                p.birth_date,
                cipher.encrypt(p.id_number),
                cipher.lookup_hash(p.id_number),
                mask_id(p.id_number),
                cipher.encrypt(phone) if phone else None,
                cipher.lookup_hash(phone) if phone else None,
                mask_phone(phone) if phone else None,
                p.registration,
                address_id,
                household_id,
                self.json_empty,
                "active",
                1,
                self.now,
                self.now,
            )
        )
        for tag in p.tags:
            self.tags.append((resident_id, tag))
        if self.history:
            self.changes.append(
                (resident_id, 1, self.now, unit_id, "import", "(created)", None, p.name)
            )

    def clear(self) -> None:
        for rows in (self.addresses, self.households, self.residents, self.tags, self.changes):
            rows.clear()


def _flush(
    writer: _Writer, rows: _Rows, stats: BulkStats, progress: Callable[[int], None] | None
) -> None:
    writer.write(_table(Address), ("id", "unit_id", "compound", "building", "entrance", "room"),
                 rows.addresses)  # fmt: skip
    writer.write(_table(Household), ("id", "unit_id", "address_id", "number", "created_at"),
                 rows.households)  # fmt: skip
    rows.residents.sort()  # by id: the order of the primary key
    writer.write(_table(Resident), _RESIDENT_COLUMNS, rows.residents)
    writer.write(_table(ResidentTag), ("resident_id", "tag"), rows.tags)
    if rows.changes:
        writer.write(_table(ResidentChange), _CHANGE_COLUMNS, rows.changes)
    stats.addresses += len(rows.addresses)
    stats.households += len(rows.households)
    stats.residents += len(rows.residents)
    stats.tags += len(rows.tags)
    rows.clear()
    if progress is not None:
        progress(stats.residents)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_TABLES = ("kernel_address", "kernel_household", "kernel_resident")


class _Writer:
    """Batched writes on one connection, in the database's fastest ordinary way."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw: Any = connection.connection.driver_connection  # the DB-API connection
        self.now: Any = datetime.now(UTC)
        self.json_empty: Any = "{}"

    def existing_hashes(self) -> set[str]:
        rows = self.connection.execute(
            text("SELECT id_number_hash FROM kernel_resident WHERE status = 'active'")
        )
        return {row[0] for row in rows}

    def existing_places(
        self, unit_ids: set[int]
    ) -> tuple[dict[tuple[Any, ...], int], dict[int, int]]:
        """The addresses of these committees, and the highest ``H00000`` household number
        of each (by committee id)."""
        addresses = {
            (unit_id, compound, building, entrance, room): address_id
            for address_id, unit_id, compound, building, entrance, room in self.connection.execute(
                text("SELECT id, unit_id, compound, building, entrance, room FROM kernel_address")
            )
            if unit_id in unit_ids
        }
        numbered: dict[int, int] = {}
        for unit_id, number in self.connection.execute(
            text("SELECT unit_id, number FROM kernel_household")
        ):
            if unit_id in unit_ids:
                serial = int(number[1:]) if number[:1] == "H" and number[1:].isdigit() else 0
                numbered[unit_id] = max(numbered.get(unit_id, 0), serial)
        return addresses, numbered

    def next_ids(self) -> tuple[int, int, int]:
        """The largest id of each table, after which the new rows are numbered."""
        found = [
            self.connection.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0
            for table in _TABLES
        ]
        return (found[0], found[1], found[2])

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self, last_ids: tuple[int, int, int]) -> None:
        """After the last write, before the commit."""

    def close(self) -> None:
        """After the commit or the rollback."""


class _SQLiteWriter(_Writer):
    #: Page cache while loading (KiB): the indexes on random hashes otherwise thrash it.
    CACHE_KIB = 256 * 1024

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        columns = _table(Resident).c
        created = columns.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        extra = columns.extra.type.dialect_impl(dialect).bind_processor(dialect)
        self.now = created(self.now) if created else self.now
        self.json_empty = extra({}) if extra else "{}"
        self.cache_size = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute(f"PRAGMA cache_size=-{self.CACHE_KIB}")

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if table.name == "kernel_resident":  # dates as SQLAlchemy stores them on SQLite
            rows = [(*r[:4], r[4].isoformat(), *r[5:]) for r in rows]
        marks = ", ".join("?" for _ in columns)
        self.raw.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def close(self) -> None:
        self.raw.execute(f"PRAGMA cache_size={int(self.cache_size)}")


class _PostgresWriter(_Writer):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        # Other writers wait until we commit; readers do not.
        connection.execute(
            text(f"LOCK TABLE {', '.join(_TABLES)}, kernel_resident_tag IN EXCLUSIVE MODE")
        )

    def next_ids(self) -> tuple[int, int, int]:
        """Past the largest id and past the sequence, whichever is further."""
        largest = super().next_ids()
        found = []
        for table, biggest in zip(_TABLES, largest, strict=True):
            sequence = self._sequence(table)
            last, called = self.connection.execute(
                text(f"SELECT last_value, is_called FROM {sequence}")
            ).one()
            found.append(max(biggest, last if called else last - 1))
        return (found[0], found[1], found[2])

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self, last_ids: tuple[int, int, int]) -> None:
        for table, last in zip(_TABLES, last_ids, strict=True):
            if last > 0:
                self.connection.execute(
                    text(f"SELECT setval('{self._sequence(table)}', :v)"), {"v": last}
                )
        # Fresh statistics, or the planner treats a million rows as a handful.
        self.connection.execute(text(f"ANALYZE {', '.join(_TABLES)}, kernel_resident_tag"))

    def _sequence(self, table: str) -> str:
        name: str = self.connection.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar_one()
        return name


def _writer(connection: Connection) -> _Writer:
    if connection.dialect.name == "postgresql":
        return _PostgresWriter(connection)
    return _SQLiteWriter(connection)
