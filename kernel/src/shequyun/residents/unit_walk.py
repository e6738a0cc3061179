"""A list above a committee sorted by name or age, read unit by unit (PostgreSQL).

A committee's page sorted by name walks the index ``(unit_id, name COLLATE kernel_pinyin,
id)`` and stops after the page; by age, ``(unit_id, birth_date)``. A street's or a district's
cannot: the indexes are ordered by unit first, so PostgreSQL read every resident of the
subtree and sorted them all to show 50 (a district of the 277,000-resident demo: 0.4 s for
the portal's first page by name, 1.1 s for the API's, and growing with the district).

The first ``k`` residents of the whole subtree in such an order are among the first ``k`` of
each of its units, so a page can be read as each unit's first ``k`` from its index (a short
walk per unit, ``LATERAL``), merged, and cut to ``k``: about ``units × k`` index entries
instead of every resident in scope. Which is cheaper depends on the page's depth and on how
many residents the scope holds per unit, which the tallies tell; :func:`first_ids` answers
``None`` when reading the whole scope is the cheaper way (a deep page number of the portal,
a scope of few residents per unit, the whole city of the demo) and the caller sorts as
before. Lists narrowed by anything but the status are not walked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequyun_sdk.identity import Actor
from sqlalchemy import Select, func, true, tuple_
from sqlmodel import Session, col, select

from ..collation import pinyin
from ..identity import scope
from ..identity.models import OrgUnit
from . import tally
from .models import Resident

__all__ = ["ORDERS", "first_ids"]


#: What a walk may order by: key -> the column, as compared (each has an index that starts
#: with the unit: ``(unit_id, name COLLATE kernel_pinyin, id)``, ``(unit_id, birth_date)``).
ORDERS: dict[str, Callable[[Any], Any]] = {"name": pinyin, "age": lambda column: column}
_COLUMNS = {"name": "name", "age": "birth_date"}


def first_ids(
    session: Session,
    actor: Actor | None,
    permission: str,
    status: str,
    *,
    by: str = "name",
    through: int,
    descending: bool = False,
    ids_descending: bool | None = None,
    after: tuple[str, int] | None = None,
) -> Select[Any] | None:
    """The ids of the first ``through`` residents ``actor`` reaches with ``permission``
    whose status is ``status`` (``"any"``: every one), ordered ``by`` one of :data:`ORDERS`
    (``"name"``: in pinyin order; ``"age"``: by date of birth, oldest first), reversed when
    ``descending``, then by id (reversed when ``ids_descending``, by default as the first),
    beyond ``after`` (a value and an id, in the API's order: both reversed or neither) when
    given: a subquery that bounds a sorted page, or ``None`` when reading unit by unit does
    not pay.

    The caller still orders and limits its page; this only keeps the rows it sorts few.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None  # SQLite has no LATERAL, and an embedded register is small
    kind, _ = scope.scope_reach(actor, permission)
    if kind not in ("subtree", "city"):  # a committee's page is an index walk already
        return None
    units_in_scope: Select[Any] = select(col(OrgUnit.id).label("id")).where(
        scope.unit_scope_filter(actor, permission)
    )
    if not _pays(session, actor, permission, units_in_scope, through):
        return None
    units = units_in_scope.subquery("units")
    compared = ORDERS[by]
    column = getattr(Resident, _COLUMNS[by])
    value, rid = compared(col(column)), col(Resident.id)
    per_unit: Any = select(col(Resident.id).label("id"), col(column).label("value")).where(
        col(Resident.unit_id) == units.c.id
    )
    if status != "any":
        per_unit = per_unit.where(col(Resident.status) == status)
    if after is not None:
        here, there = tuple_(value, rid), tuple_(*after)
        per_unit = per_unit.where(here < there if descending else here > there)
    ids_descending = descending if ids_descending is None else ids_descending
    walked = (
        per_unit.order_by(*_order(value, rid, descending, ids_descending))
        .limit(through)
        .lateral("walked")
    )
    merged = _order(compared(walked.c.value), walked.c.id, descending, ids_descending)
    return (
        select(walked.c.id).select_from(units.join(walked, true())).order_by(*merged).limit(through)
    )


def _order(value: Any, rid: Any, descending: bool, ids_descending: bool) -> tuple[Any, Any]:
    return (value.desc() if descending else value, rid.desc() if ids_descending else rid)


def _pays(
    session: Session, actor: Actor | None, permission: str, units: Select[Any], through: int
) -> bool:
    """Whether about ``units × through`` index entries are fewer than the scope's residents
    (from the tallies; unknown when they are stale, and then the whole scope is read)."""
    unit_id = tally.scope_unit(actor, permission)
    if unit_id is None or not tally.fresh(session):
        return False
    residents = tally.read(session, unit_id, tally.TOTAL).get("", 0)
    if residents <= through:
        return False
    count = session.exec(select(func.count()).select_from(units.subquery())).one()
    return bool(count) and count * through < residents
