"""The resident list's page as one statement of plain columns (see
:meth:`.reading.ResidentReader.search`): what the API view shows of each resident, its
committee, address, household and tags, joined in the database, no ORM object built."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Text, bindparam, cast, func
from sqlmodel import col, select

from ..identity.models import OrgUnit
from ..identity.scope import reach_filter
from .models import Address, Household, Resident, ResidentTag

__all__ = ["PAGE_FROM", "page_columns", "plain_page"]

PAGE_FROM = (
    Resident.__table__.join(  # type: ignore[attr-defined]
        OrgUnit.__table__,  # type: ignore[attr-defined]
        col(OrgUnit.id) == col(Resident.unit_id),
    )
    .outerjoin(Address.__table__, col(Address.id) == col(Resident.address_id))  # type: ignore[attr-defined]
    .outerjoin(Household.__table__, col(Household.id) == col(Resident.household_id))  # type: ignore[attr-defined]
)


@functools.cache
def page_columns(postgres: bool) -> tuple[Any, ...]:
    """What a list page shows of each resident, its unit, address, household and tags, as
    plain columns of one statement: a page is one query, and no ORM object is built for it
    (at a million residents the objects and the two follow-up queries cost a committee's
    page several times its SQL). The tags come as a JSON array text per resident."""
    tag = col(ResidentTag.tag)
    gathered = cast(func.json_agg(tag), Text) if postgres else func.json_group_array(tag)
    tags = (
        select(gathered)
        .where(col(ResidentTag.resident_id) == col(Resident.id))
        .correlate(Resident.__table__)  # type: ignore[attr-defined]
        .scalar_subquery()
    )
    return (
        col(Resident.id),
        col(Resident.name),
        col(Resident.gender),
        col(Resident.birth_date),
        col(Resident.id_number_masked),
        col(Resident.phone_masked),
        col(Resident.registration),
        col(Resident.extra),
        col(Resident.status),
        col(Resident.version),
        col(Resident.updated_at),
        col(Resident.address_id),
        col(Resident.household_id),
        col(OrgUnit.code).label("unit_code"),
        col(OrgUnit.name).label("unit_name"),
        col(Address.compound),
        col(Address.building),
        col(Address.entrance),
        col(Address.room),
        col(Household.number).label("household_number"),
        tags.label("tags"),
    )


@functools.cache
def plain_page(postgres: bool, reach: str, status: str, after: bool) -> Any:
    """The page statement of a list with no filter but the status, built once per reach of
    :func:`~shequyun.identity.scope.scope_reach` and executed with the values bound:
    ``scope`` (the reach's value), ``status`` (unless ``"any"``), ``after`` (the last id of
    the previous page, when ``after``) and ``limit``. The statement :meth:`.reading.
    ResidentReader.search` builds for the same list, without rebuilding it (and working out
    its cache key) on every request: a committee's first page is the hottest read there is."""
    query = (
        select(*page_columns(postgres))
        .select_from(PAGE_FROM)
        .where(reach_filter(reach, col(Resident.unit_id), bindparam("scope")))
    )
    if status != "any":
        query = query.where(col(Resident.status) == bindparam("status"))
    if after:
        query = query.where(col(Resident.id) > bindparam("after"))
    return query.order_by(col(Resident.id)).limit(bindparam("limit"))
