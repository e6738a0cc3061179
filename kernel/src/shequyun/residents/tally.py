"""Resident tallies: the counts the top levels show, kept current as residents change.

Counting the residents of a district or the city on every page view reads every record of it
(the city workbench took seconds on the demo's 280,000 residents). Instead every unit, from
the committee up to the city, keeps its subtree's counts in ``kernel_resident_tally``: active
residents in all and by tag, and, above the committees, by gender and month of birth. A page
then reads a few hundred rows whatever the level. A committee's ages are not kept: its few
thousand residents are counted live from its index as fast as its rows would be read, and its
months of birth were about one row per resident, the bulk of what an import wrote here.

The counts change in the transaction that changes a resident. When a session flushes
residents or their tags, it reads what those residents counted for before the flush and after
it (from the database, so every ORM write is covered: the service's, a merge's, a plugin's
through the Platform); just before the commit it adds the difference to the rows of each
resident's committee and of every unit above it, in one fixed order, so that the city's rows are
locked only for the moment of the commit and two writers never wait for each other in a cycle.
Writes that bypass the ORM (the bulk paths of imports and generators) tell :func:`note_added`
or :func:`note_new` what they inserted, or :func:`rebuild` afterwards. On PostgreSQL the
differences are spread to the units above and added in one statement, by the database.

The rows follow the org tree as it stood at the last :func:`rebuild`: once a unit is moved (an
org change ``moved`` newer than ``kernel_resident_tally_state.tree_stamp``) they are stale and
readers count live until the ``residents.tally`` job rebuilds them. Ages: a month of birth
falls in one five-year band except the month holding a band's boundary; the residents born
in those (at most 17) part-months are counted live, from the birth-date index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk.identity import Actor
from sqlalchemy import case, delete, event, func, insert, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from ..identity import scope
from ..identity.models import OrgUnit, OrgUnitChange
from .models import Resident, ResidentTag, ResidentTally, ResidentTallyState

__all__ = [
    "Key",
    "fresh",
    "note_added",
    "note_new",
    "read",
    "read_bands",
    "rebuild",
    "scope_unit",
    "tree_stamp",
]

#: ``(unit_id, measure, key)``: one row of the tallies.
Key = tuple[int, str, str]
TOTAL, AGE, TAG = "total", "age", "tag"
#: Fields whose change moves a resident between counts.
COUNTED = ("unit_id", "status", "gender", "birth_date")
CHUNK = 500
_PENDING = "shequyun.resident_tally"  # session.info: committee-level differences to write
_BEFORE = "shequyun.resident_tally.before"
_UNKNOWN = "shequyun.resident_tally.unknown"  # a savepoint rolled back: rebuild instead
_FRESH = "shequyun.resident_tally.fresh"  # fresh()'s answer in this transaction

TALLY: Any = ResidentTally.__table__  # type: ignore[attr-defined]
# Core columns: the counting statements read columns, never objects.
R: Any = Resident.__table__.c  # type: ignore[attr-defined]
T: Any = ResidentTag.__table__.c  # type: ignore[attr-defined]
U: Any = OrgUnit.__table__.c  # type: ignore[attr-defined]
STATE: Any = ResidentTallyState.__table__  # type: ignore[attr-defined]


# -- what a resident counts for --------------------------------------------------------------


def month_key(gender: str, born: date) -> str:
    return f"{gender}:{born.year:04d}-{born.month:02d}"


def _counts(session: OrmSession, ids: Iterable[int]) -> Counter[Key]:
    """What the residents ``ids`` count for now, at their committee only."""
    counts: Counter[Key] = Counter()
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        units: dict[int, int] = {}
        for rid, unit_id, gender, born in session.execute(
            select(R.id, R.unit_id, R.gender, R.birth_date).where(
                R.id.in_(chunk), R.status == "active"
            )
        ):
            units[rid] = unit_id
            counts[(unit_id, TOTAL, "")] += 1
            counts[(unit_id, AGE, month_key(gender, born))] += 1
        if units:
            for rid, tag in session.execute(
                select(T.resident_id, T.tag).where(T.resident_id.in_(list(units)))
            ):
                counts[(units[rid], TAG, tag)] += 1
    return counts


def _touched(session: OrmSession) -> tuple[set[int], list[Resident]]:
    """Residents whose counts this flush may change (persistent ids; new objects apart)."""
    ids: set[int] = set()
    new: list[Resident] = []
    for obj in session.new:
        if isinstance(obj, Resident):
            new.append(obj)
        elif isinstance(obj, ResidentTag):
            ids.add(obj.resident_id)
    for obj in session.deleted:
        if isinstance(obj, Resident) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, ResidentTag):
            ids.add(obj.resident_id)
    for obj in session.dirty:
        if isinstance(obj, Resident) and obj.id is not None:
            if session.is_modified(obj) and _changes_counts(obj):
                ids.add(obj.id)
        elif isinstance(obj, ResidentTag):
            ids.add(obj.resident_id)
    return ids, new


def _changes_counts(obj: Resident) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in COUNTED)


# -- keeping them current: session events ---------------------------------------------------


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, flush_context: Any, instances: Any) -> None:
    ids, new = _touched(session)
    if not ids and not new:
        return
    with session.no_autoflush:
        before = _counts(session, ids) if ids else Counter()
    session.info[_BEFORE] = (ids, new, before)


@event.listens_for(OrmSession, "after_flush_postexec")
def _after_flush(session: OrmSession, flush_context: Any) -> None:
    noted = session.info.pop(_BEFORE, None)
    if noted is None:
        return
    ids, new, before = noted
    ids = set(ids) | {obj.id for obj in new if obj.id is not None}
    after = _counts(session, ids)
    pending: Counter[Key] = session.info.setdefault(_PENDING, Counter())
    pending.update(after)
    pending.subtract(before)


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the last changes' differences, before they are written
    pending: Counter[Key] | None = session.info.pop(_PENDING, None)
    if session.info.pop(_UNKNOWN, False):
        # Part of this transaction's differences were rolled back with a savepoint and
        # cannot be told apart: let readers count live until the next rebuild.
        session.execute(delete(STATE))
        session.info.pop(_FRESH, None)
        return
    if pending:
        _write(session, pending)


@event.listens_for(OrmSession, "after_soft_rollback")
def _after_rollback(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested:
        if session.info.get(_PENDING):
            session.info[_UNKNOWN] = True
        return
    for name in (_PENDING, _BEFORE, _UNKNOWN, _FRESH):
        session.info.pop(name, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _after_transaction(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next transaction may see another tree
        session.info.pop(_FRESH, None)


def note_added(session: OrmSession, resident_ids: Sequence[int]) -> None:
    """Count residents a bulk path inserted without the ORM (written at the commit)."""
    pending: Counter[Key] = session.info.setdefault(_PENDING, Counter())
    pending.update(_counts(session, resident_ids))


def note_new(
    session: OrmSession, residents: Iterable[tuple[int, str, date, Iterable[str]]]
) -> None:
    """Count new active residents a bulk path inserted without the ORM, from the values it
    wrote (committee id, gender, birth date, tags): what :func:`note_added` would read back
    from the database, without reading it (an import's 200,000 rows and their tags). Counted
    at the committee only, a key per resident and measure. On PostgreSQL an import once had the
    database read its new rows back at the commit instead: per 50,000 residents that cost the
    database 0.2-0.3 s of CPU more and this process about as much less, and its plan scanned
    every active resident's index entry while the table's statistics were fresh; the database is
    the one server every worker shares."""
    pending: Counter[Key] = session.info.setdefault(_PENDING, Counter())
    keys: list[Key] = []
    add = keys.append
    for unit_id, gender, born, tags in residents:
        add((unit_id, TOTAL, ""))
        add((unit_id, AGE, month_key(gender, born)))
        for tag in tags:
            add((unit_id, TAG, tag))
    pending.update(keys)  # counted in C, not by one addition each


def _write(session: OrmSession, committee_counts: Counter[Key]) -> None:
    """Add committee-level differences to each committee's and every ancestor's rows."""
    changed = [(u, m, k, n) for (u, m, k), n in committee_counts.items() if n]
    if not changed:
        return
    if session.get_bind().dialect.name == "postgresql":
        units, measures, keys, counts = zip(*changed, strict=True)
        session.execute(
            _UPSERT_SPREAD,
            {
                "units": _integers(units),
                "measures": _texts(measures),
                "keys": _texts(keys),
                "counts": _integers(counts),
            },
        )
        return
    committees = {unit_id for unit_id, _, _, _ in changed}
    paths: dict[int, str] = dict(
        session.execute(select(U.id, U.path).where(U.id.in_(committees))).all()
    )
    above = {unit_id: _path_ids(paths.get(unit_id), unit_id) for unit_id in committees}
    rows: Counter[Key] = Counter()
    for unit_id, measure, key, n in changed:
        for ancestor in _kept_at(above[unit_id], unit_id, measure):
            rows[(ancestor, measure, key)] += n
    ordered = [(u, m, k, n) for (u, m, k), n in sorted(rows.items()) if n]
    if ordered:
        session.execute(
            _upsert(session),
            [{"unit_id": u, "measure": m, "key": k, "n": n} for u, m, k, n in ordered],
        )


# One statement: the committee-level differences (four arrays, written as array literals:
# psycopg's array dumper cost five times as much) spread up each committee's path (no ages at
# the committee itself, as _kept_at), summed, and added in the order Python sorts (unit,
# measure, key) — ``COLLATE "C"`` compares code points as Python's ``sorted`` does — so that
# every writer locks the rows in the same order and none waits for another in a cycle.
_UPSERT_SPREAD = text(
    """
WITH committee (u, m, k, n) AS (
    SELECT u, m, k, n FROM unnest(CAST(:units AS integer[]), CAST(:measures AS varchar[]),
        CAST(:keys AS varchar[]), CAST(:counts AS integer[])) AS t(u, m, k, n)
), spread (u, m, k, n) AS (
    SELECT CAST(above AS integer), c.m, c.k, c.n FROM committee AS c
    LEFT JOIN kernel_org_unit AS o ON o.id = c.u
    CROSS JOIN LATERAL unnest(
        string_to_array(trim(BOTH '/' FROM coalesce(o.path, '/' || c.u || '/')), '/')
    ) AS above
    WHERE c.m <> 'age' OR CAST(above AS integer) <> c.u
)
INSERT INTO kernel_resident_tally (unit_id, measure, key, n)
SELECT u, m, k, CAST(sum(n) AS integer) FROM spread GROUP BY u, m, k HAVING sum(n) <> 0
ORDER BY u, m COLLATE "C", k COLLATE "C"
ON CONFLICT (unit_id, measure, key) DO UPDATE SET n = kernel_resident_tally.n + excluded.n
"""
)


def _integers(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of ``values`` (joined here: psycopg's array dumper costs five
    times as much on an import's tens of thousands)."""
    return "{" + ",".join(map(str, values)) + "}"


def _texts(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of ``values``, each quoted (escaped only when one holds a
    quote or a backslash)."""
    joined = '","'.join(values)
    if "\\" in joined or joined.count('"') != 2 * (len(values) - 1):
        joined = '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + joined + '"}' if values else "{}"


def _path_ids(path: str | None, unit_id: int) -> list[int]:
    if not path:
        return [unit_id]
    return [int(part) for part in path.strip("/").split("/")]


def _kept_at(path_ids: list[int], unit_id: int, measure: str) -> list[int]:
    """The units of ``path_ids`` (a committee ``unit_id`` and the units above it) that keep
    ``measure``: all of them, but the committee itself keeps no ages."""
    if measure == AGE and path_ids and path_ids[-1] == unit_id:
        return path_ids[:-1]
    return path_ids


def _upsert(session: OrmSession) -> Any:
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = maker(TALLY)
    return stmt.on_conflict_do_update(
        index_elements=["unit_id", "measure", "key"], set_={"n": TALLY.c.n + stmt.excluded.n}
    )


# -- counting from scratch ---------------------------------------------------------------------


def tree_stamp(session: OrmSession) -> int:
    """The newest unit move: tallies built before it count on an older tree."""
    found = session.execute(
        select(func.max(OrgUnitChange.__table__.c.id)).where(  # type: ignore[attr-defined]
            OrgUnitChange.__table__.c.action == "moved"  # type: ignore[attr-defined]
        )
    ).scalar()
    return int(found or 0)


def rebuild(session: OrmSession) -> int:
    """Count every unit's tallies again from the residents; the rows written.

    The rows are emptied first: on PostgreSQL the table is locked against writers' additions
    (a writer that added before waits to commit and is then counted; one after adds to the
    new rows); on SQLite the first write makes this the one writer and its reads current.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE kernel_resident_tally IN EXCLUSIVE MODE"))
    session.info.pop(_FRESH, None)
    session.execute(delete(TALLY))
    session.execute(delete(STATE))
    stamp = tree_stamp(session)
    paths: dict[int, str] = dict(session.execute(select(U.id, U.path)).all())
    committee: Counter[Key] = Counter()
    year = func.extract("year", R.birth_date)
    month = func.extract("month", R.birth_date)
    active = R.status == "active"
    for unit_id, gender, y, m, n in session.execute(
        select(R.unit_id, R.gender, year, month, func.count())
        .where(active)
        .group_by(R.unit_id, R.gender, year, month)
    ):
        committee[(unit_id, AGE, f"{gender}:{int(y):04d}-{int(m):02d}")] += n
        committee[(unit_id, TOTAL, "")] += n
    for unit_id, tag, n in session.execute(
        select(R.unit_id, T.tag, func.count())
        .select_from(ResidentTag.__table__.join(Resident.__table__, R.id == T.resident_id))  # type: ignore[attr-defined]
        .where(active)
        .group_by(R.unit_id, T.tag)
    ):
        committee[(unit_id, TAG, tag)] += n
    rows: Counter[Key] = Counter()
    for (unit_id, measure, key), n in committee.items():
        for above in _kept_at(_path_ids(paths.get(unit_id), unit_id), unit_id, measure):
            rows[(above, measure, key)] += n
    values = [{"unit_id": u, "measure": m, "key": k, "n": n} for (u, m, k), n in rows.items()]
    for start in range(0, len(values), 5000):
        session.execute(insert(TALLY), values[start : start + 5000])
    session.execute(insert(STATE).values(id=1, tree_stamp=stamp, built_at=datetime.now(UTC)))
    return len(values)


# -- reading -----------------------------------------------------------------------------------


def scope_unit(actor: Actor | None, permission: str) -> int | None:
    """The unit whose subtree ``actor`` reaches with ``permission`` (the kernel's scope)."""
    prefix = scope.grant_prefix(actor, permission)
    if not prefix:
        return None
    return int(prefix.strip("/").split("/")[-1])


def fresh(session: OrmSession) -> bool:
    """Whether the tallies are counted on today's tree (else count live).

    Asked once per transaction: a page's figures all come from the same answer.
    """
    known = session.info.get(_FRESH)
    if known is None:
        state = session.execute(select(STATE.c.tree_stamp)).scalar()
        known = session.info[_FRESH] = state is not None and state == tree_stamp(session)
    return bool(known)


def read(session: OrmSession, unit_id: int, measure: str) -> dict[str, int]:
    """``key -> count`` of ``measure`` over ``unit_id``'s subtree (non-zero ones)."""
    rows = session.execute(
        select(TALLY.c.key, TALLY.c.n).where(
            TALLY.c.unit_id == unit_id, TALLY.c.measure == measure, TALLY.c.n > 0
        )
    )
    return {str(key): int(n) for key, n in rows}


def read_bands(
    session: OrmSession, unit_id: int, last_months: Sequence[str]
) -> list[tuple[str, int, int]]:
    """``(gender, band, count)`` of ``unit_id``'s subtree from the months of birth, each month
    in the band of its last day: band ``k`` holds the months after ``last_months[k]`` and up
    to ``last_months[k - 1]`` (``YYYY-MM``, oldest band's boundary last), summed by the
    database rather than sent row by row.
    """
    key = TALLY.c.key  # "gender:YYYY-MM"
    month = func.substr(key, func.length(key) - 6)
    band = case(*[(month > last, k) for k, last in enumerate(last_months)], else_=len(last_months))
    inner = (
        select(
            func.substr(key, 1, func.length(key) - 8).label("gender"),
            band.label("band"),
            TALLY.c.n,
        )
        .where(TALLY.c.unit_id == unit_id, TALLY.c.measure == AGE, TALLY.c.n > 0)
        .subquery()
    )
    rows = session.execute(
        select(inner.c.gender, inner.c.band, func.sum(inner.c.n)).group_by(
            inner.c.gender, inner.c.band
        )
    )
    return [(str(gender), int(b), int(n)) for gender, b, n in rows]
