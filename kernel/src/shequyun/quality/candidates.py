"""Duplicate candidates of the residents just changed, found by index lookups (no scan).

The daily job (:meth:`.duplicates.Duplicates.find`) compares the whole base; between two nights
a record registered or corrected today would wait for it. :func:`pairs_for` runs in the
``resident.*`` subscriber's transaction and looks only at what can pair with the changed
records, by the indexes the residents table has:

- the same name (as written, or the changed record's folded key) and birth date, by the index
  on ``(name, birth_date)``;
- the same phone, by the index on ``phone_hash``;
- records whose name is written another way but folds to the same key (``陳麗華`` for
  ``陈丽华``), by :class:`.models.NameKey`, which keeps the key of each such (rare) record and
  is rewritten here for the changed records.

The reasons are those of the daily search (``name_birth``, ``missed_transfer``,
``name_phone``), and a pair already known — open, merged, or decided to be two people — is
never added again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from ..residents.models import Resident
from .models import DuplicatePair, NameKey
from .names import name_key, pairs_by_key

__all__ = ["keep_name_keys", "pairs_for"]

_R: Table = Resident.__table__  # type: ignore[attr-defined]
_PAIR: Table = DuplicatePair.__table__  # type: ignore[attr-defined]
_KEY: Table = NameKey.__table__  # type: ignore[attr-defined]
_FIELDS = ("id", "name", "gender", "birth_date", "unit_id", "phone_hash")
CHUNK = 500
#: Records looked up together: the name and birth-date lists are searched as their cross product
#: in the index, so the work per statement grows with the square of this (an import's batch of
#: 500 changes is 10 statements of 50, not one of 500 × 1,000 combinations).
NEAR = 50


def keep_name_keys(connection: Connection, ids: Iterable[int]) -> None:
    """Rewrite the kept keys of ``ids``: a row for each whose name is not its own key."""
    for part in _chunks(sorted(set(ids))):
        _sync_keys(connection, list(connection.execute(_with_keys(part))))


def pairs_for(connection: Connection, ids: Iterable[int]) -> int:
    """Add the candidate pairs that ``ids`` (residents just changed) are in; how many.

    Two statements for a change that pairs with nobody (the usual case): the changed records
    with their kept keys, and one ``UNION ALL`` of the three index lookups.
    """
    chosen = sorted(set(ids))
    changed: dict[int, Any] = {}
    for part in _chunks(chosen):
        rows = list(connection.execute(_with_keys(part)))
        _sync_keys(connection, rows)
        changed.update((row.id, row) for row in rows if row.status == "active")
    if not changed:
        return 0
    people = dict(changed)
    for mine in _chunks(list(changed.values()), NEAR):
        people.update((row.id, row) for row in connection.execute(_near(mine)))
    return _add(connection, _pairs(people.values(), set(changed)))


def _with_keys(part: list[int]) -> Any:
    fields = [_R.c[n] for n in _FIELDS]
    return (
        select(*fields, _R.c.status, _KEY.c.name_key)
        .select_from(_R.outerjoin(_KEY, _KEY.c.resident_id == _R.c.id))
        .where(_R.c.id.in_(part))
    )


def _sync_keys(connection: Connection, rows: list[Any]) -> None:
    """Write a kept key only where it differs from the record's name as it is now (rarely)."""
    for row in rows:
        key = name_key(row.name)
        wanted = key if key != row.name else None
        if wanted == row.name_key:
            continue
        if row.name_key is not None:
            connection.execute(delete(_KEY).where(_KEY.c.resident_id == row.id))
        if wanted is not None:
            connection.execute(insert(_KEY).values(resident_id=row.id, name_key=wanted))


def _near(mine: list[Any]) -> Any:
    """Active records that may pair with ``mine``, in one statement of three index lookups."""
    fields = [_R.c[n] for n in _FIELDS]
    active = _R.c.status == "active"
    keys = {name_key(row.name) for row in mine}
    names = sorted({row.name for row in mine} | keys)
    births = sorted({row.birth_date for row in mine})
    phones = sorted({row.phone_hash for row in mine if row.phone_hash is not None})
    # Two lists, not pairs of values: both databases then search the (name, birth_date) index
    # (SQLite scans the table for a list of row values). The few extra rows pair with nobody.
    lookups = [select(*fields).where(active, _R.c.name.in_(names), _R.c.birth_date.in_(births))]
    near: ColumnElement[bool] = _R.c.birth_date.in_(births)
    if phones:
        lookups.append(select(*fields).where(active, _R.c.phone_hash.in_(phones)))
        near = or_(near, _R.c.phone_hash.in_(phones))
    lookups.append(
        select(*fields)
        .select_from(_R.join(_KEY, _KEY.c.resident_id == _R.c.id))
        .where(active, _KEY.c.name_key.in_(sorted(keys)), near)
    )
    return union_all(*lookups)


def _pairs(rows: Iterable[Any], changed: set[int]) -> dict[tuple[int, int], str]:
    """The pairs with a changed record in them, by the daily search's reasons."""
    return pairs_by_key(rows, changed, lambda a, b: a.id != b.id)


def _add(connection: Connection, found: dict[tuple[int, int], str]) -> int:
    """Insert the pairs not known yet (whatever their status); how many were added.

    A known pair (open, merged, or decided to be two people) is the unique pair already: the
    insert leaves it as it is, and so does a pair the daily search added meanwhile.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_PAIR).on_conflict_do_nothing(
        index_elements=[_PAIR.c.resident_a, _PAIR.c.resident_b]
    )
    now = datetime.now(UTC)
    added = 0
    for (a, b), reason in sorted(found.items()):
        row = {"resident_a": a, "resident_b": b, "reason": reason, "status": "open"}
        added += max(connection.execute(statement, {**row, "found_at": now}).rowcount or 0, 0)
    return added


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
