"""Walking the org-unit tree for plugins: children, committees, ancestors, by id or code.

The answers are :class:`~shequyun_sdk.identity.UnitRef` values, sorted by code. The structure
of the hierarchy is not personal data, so these reads take no actor; what a plugin may *do*
in a unit is still decided by the scope checks.
"""

from __future__ import annotations

from collections.abc import Iterable

from shequyun_sdk.identity import UnitRef
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select, true

from .auth import unit_ref
from .models import OrgUnit
from .orgunits import open_on, shanghai_today

__all__ = ["ancestors", "by_codes", "by_id", "children", "committees"]


def by_id(session: Session, unit_id: int) -> UnitRef | None:
    row = session.get(OrgUnit, unit_id)
    return unit_ref(row) if row is not None else None


def by_codes(session: Session, codes: Iterable[str]) -> dict[str, UnitRef]:
    wanted = sorted({c for c in codes if isinstance(c, str)})
    refs: dict[str, UnitRef] = {}
    # Chunks keep the IN list within every database's bound-parameter limit.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in session.exec(select(OrgUnit).where(col(OrgUnit.code).in_(chunk))):
            refs[row.code] = unit_ref(row)
    return refs


def root(session: Session) -> UnitRef | None:
    """The unit without a parent (the city); the first by code should a tree have several."""
    row = session.exec(
        select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.code))
    ).first()
    return unit_ref(row) if row is not None else None


def children(session: Session, unit: UnitRef, *, include_closed: bool = False) -> list[UnitRef]:
    rows = session.exec(
        select(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, _open(include_closed))
        .order_by(col(OrgUnit.code))
    )
    return [unit_ref(row) for row in rows]


def committees(session: Session, unit: UnitRef, *, include_closed: bool = False) -> list[UnitRef]:
    rows = session.exec(
        select(OrgUnit)
        .where(
            col(OrgUnit.path).startswith(unit.path),
            OrgUnit.level == "committee",
            _open(include_closed),
        )
        .order_by(col(OrgUnit.code))
    )
    return [unit_ref(row) for row in rows]


def ancestors(session: Session, unit: UnitRef) -> list[UnitRef]:
    ids = [int(part) for part in unit.path.strip("/").split("/") if part][:-1]
    if not ids:
        return []
    rows = {row.id: row for row in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(ids)))}
    return [unit_ref(rows[i]) for i in ids if i in rows]


def _open(include_closed: bool) -> ColumnElement[bool]:
    return true() if include_closed else open_on(shanghai_today())
