"""The kernel side of :meth:`shequyun_sdk.Platform.resident_population`.

Maps the SDK's published column names onto the resident tables, with the kernel's scope filter
as the condition every query carries. Household facts are one aggregate over the active members
of the households in scope, joined only when a query asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shequyun_sdk.identity import Actor, UnitRef
from shequyun_sdk.population import Population
from sqlalchemy import and_, exists, func, select
from sqlmodel import Session, col

from ..identity import scope
from ..identity.models import OrgUnit
from .models import Resident, ResidentTag
from .service import ResidentFilters, ResidentService

__all__ = ["resident_population", "resident_views"]

_JSON_READERS = {
    "string": lambda element: element.as_string(),
    "integer": lambda element: element.as_integer(),
    "number": lambda element: element.as_float(),
    "boolean": lambda element: element.as_boolean(),
}


def resident_population(
    actor: Actor | None, permission: str, within: UnitRef | None = None
) -> Population:
    """The active residents ``actor`` reaches with ``permission`` (and inside ``within``)."""
    resident = Resident.__table__  # type: ignore[attr-defined]
    condition = and_(
        scope.scope_filter(actor, permission, resident.c.unit_id),
        resident.c.status == "active",
    )
    if within is not None:
        condition = and_(condition, _in_unit(resident.c.unit_id, within))
    member = Resident.__table__.alias("household_member")  # type: ignore[attr-defined]
    households = (
        select(
            member.c.household_id.label("household_id"),
            func.count().label("members"),
            func.max(member.c.birth_date).label("youngest_birth"),
            func.min(member.c.birth_date).label("oldest_birth"),
        )
        .where(
            member.c.status == "active",
            member.c.household_id.is_not(None),
            scope.scope_filter(actor, permission, member.c.unit_id),
        )
        .group_by(member.c.household_id)
        .subquery("household_facts")
    )
    tags = ResidentTag.__table__  # type: ignore[attr-defined]

    def has_tag(tag: str) -> Any:
        return exists().where(tags.c.resident_id == resident.c.id, tags.c.tag == tag)

    def attribute(key: str, as_type: str) -> Any:
        plugin, name = key.split(".", 1)
        return _JSON_READERS[as_type](resident.c.extra[(plugin, name)])

    return Population(
        resident_id=resident.c.id,
        unit_id=resident.c.unit_id,
        birth_date=resident.c.birth_date,
        gender=resident.c.gender,
        registration=resident.c.registration,
        household_id=resident.c.household_id,
        address_id=resident.c.address_id,
        household_members=households.c.members,
        household_youngest_birth=households.c.youngest_birth,
        household_oldest_birth=households.c.oldest_birth,
        scope=condition,
        _source=resident,
        _households=households,
        _has_tag=has_tag,
        _attribute=attribute,
        _in_unit=lambda unit: _in_unit(resident.c.unit_id, unit),
    )


def _in_unit(unit_column: Any, unit: UnitRef) -> Any:
    if unit.level == "committee":
        return unit_column == unit.id
    return unit_column.in_(select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(unit.path)))


def resident_views(
    session: Session,
    service: ResidentService,
    actor: Actor | None,
    resident_ids: Iterable[int],
    permission: str,
) -> dict[int, dict[str, Any]]:
    """The API views of the active residents among ``resident_ids`` that ``actor`` reaches."""
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return {}
    query = service.scoped_query(actor, ResidentFilters(), permission)
    rows = list(session.exec(query.where(col(Resident.id).in_(ids))))
    return {view["id"]: view for view in service.views(session, rows)}
