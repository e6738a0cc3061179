"""Picking residents, households and buildings in an actor's scope (the kernel side of
:meth:`shequyun_sdk.Platform.pick`, :meth:`~shequyun_sdk.Platform.resolve_picks` and
:meth:`~shequyun_sdk.Platform.households_by_unit`, documented in ``docs/plugins/platform.md``).

Every query starts from the kernel's scope filter on the object's committee, so a search and a
check of keys answer the same question: may this actor link a record to it?
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.picking import PICK_KINDS, Pick, building_key, parse_pick_key
from sqlalchemy import and_, distinct, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from ..collation import pinyin
from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .models import Address, Household, Resident
from .name_search import escape_like, name_contains

__all__ = ["MAX_PICKS", "households_by_unit", "pick", "resolve_picks"]

MAX_PICKS = 5000


def _within(
    session: Session, actor: Actor | None, permission: str, column: Any, code: str | None
) -> ColumnElement[bool]:
    """Scope of ``actor`` on ``column`` (a committee id), narrowed to unit ``code``'s subtree."""
    condition: ColumnElement[bool] = scope.scope_filter(actor, permission, column)
    if code:
        unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
        if unit is None:
            raise ValidationFailed("找不到该组织", field="unit_code")
        if unit.level == "committee":
            condition = and_(condition, column == unit.id)
        else:
            inside = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(unit.path))
            condition = and_(condition, column.in_(inside))
    return condition


def _units(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(wanted))).all()
    return {int(u.id or 0): unit_ref(u) for u in rows}


def _like(text: str) -> str:
    return f"%{escape_like(text)}%"


def pick(
    session: Session,
    actor: Actor | None,
    kind: str,
    *,
    q: str = "",
    unit_code: str | None = None,
    limit: int = 20,
    permission: str = "residents.read",
) -> list[Pick]:
    """Up to ``limit`` objects of ``kind`` in scope whose name or address contains ``q``."""
    if kind not in PICK_KINDS:
        raise ValidationFailed("类型应为 resident、household 或 building", field="kind")
    if not 1 <= limit <= MAX_PICKS:
        raise ValidationFailed(f"数量应为 1–{MAX_PICKS}", field="limit")
    q = (q or "").strip()
    if kind == "resident":
        return _residents(session, actor, q, unit_code, limit, permission)
    if kind == "household":
        return _households(session, actor, q, unit_code, limit, permission)
    return _buildings(session, actor, q, unit_code, limit, permission)


def _residents(
    session: Session, actor: Actor | None, q: str, code: str | None, limit: int, permission: str
) -> list[Pick]:
    query = (
        select(  # type: ignore[call-overload]
            Resident.id, Resident.name, Resident.unit_id, Resident.household_id, Address
        )
        .outerjoin(Address, col(Address.id) == Resident.address_id)
        .where(_within(session, actor, permission, Resident.unit_id, code))
        .where(Resident.status == "active")
    )
    if q:
        query = query.where(name_contains(col(Resident.name), q, literal=True))
    # Pinyin order, as the list's name order (collation.py): on PostgreSQL a committee's
    # picker walks ix_kernel_resident_unit_pinyin.
    order = (pinyin(col(Resident.name)), col(Resident.id))
    rows = session.exec(query.order_by(*order).limit(limit)).all()
    units = _units(session, (r[2] for r in rows))
    picks = []
    for resident_id, name, unit_id, household_id, address in rows:
        place = address.label() if address is not None else ""
        picks.append(
            Pick(
                kind="resident",
                key=f"resident:{resident_id}",
                label=f"{name} · {place}" if place else name,
                committee=units[unit_id],
                detail=units[unit_id].name,
                resident_id=resident_id,
                household_id=household_id,
                compound=address.compound if address is not None else None,
                building=(address.building or None) if address is not None else None,
            )
        )
    return picks


def _households(
    session: Session, actor: Actor | None, q: str, code: str | None, limit: int, permission: str
) -> list[Pick]:
    members = (
        select(Resident.household_id, func.count(col(Resident.id)).label("n"))
        .where(col(Resident.household_id).is_not(None), Resident.status == "active")
        .group_by(col(Resident.household_id))
        .subquery()
    )
    query = (
        select(Household, Address, members.c.n)
        .join(members, members.c.household_id == Household.id)
        .outerjoin(Address, col(Address.id) == Household.address_id)
        .where(_within(session, actor, permission, Household.unit_id, code))
    )
    if q:
        pattern = _like(q)
        named = select(Resident.household_id).where(
            name_contains(col(Resident.name), q, literal=True), Resident.status == "active"
        )
        query = query.where(
            or_(
                col(Household.number).like(pattern, escape="\\"),
                col(Address.compound).like(pattern, escape="\\"),
                (col(Address.compound) + col(Address.building) + "号楼").like(pattern, escape="\\"),
                col(Household.id).in_(named),
            )
        )
    query = query.order_by(
        col(Address.compound), col(Address.building), col(Address.room), col(Household.id)
    )
    rows = session.exec(query.limit(limit)).all()
    units = _units(session, (h.unit_id for h, _, _ in rows))
    picks = []
    for household, address, members_count in rows:
        place = address.label() if address is not None else f"户号 {household.number}"
        number = f"（户号 {household.number}）" if household.number and address is not None else ""
        picks.append(
            Pick(
                kind="household",
                key=f"household:{household.id}",
                label=f"{place}{number}",
                committee=units[household.unit_id],
                detail=f"{members_count} 人 · {units[household.unit_id].name}",
                household_id=household.id,
                compound=address.compound if address is not None else None,
                building=(address.building or None) if address is not None else None,
            )
        )
    return picks


def _buildings(
    session: Session, actor: Actor | None, q: str, code: str | None, limit: int, permission: str
) -> list[Pick]:
    query = (
        select(  # type: ignore[call-overload]
            Address.unit_id,
            Address.compound,
            Address.building,
            func.count(distinct(col(Resident.household_id))),
            func.count(col(Resident.id)),
        )
        .join(Resident, col(Resident.address_id) == Address.id)
        .where(_within(session, actor, permission, Address.unit_id, code))
        .where(Address.building != "", Resident.status == "active")
        .where(col(Resident.unit_id) == Address.unit_id)
    )
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                col(Address.compound).like(pattern, escape="\\"),
                (col(Address.compound) + col(Address.building) + "号楼").like(pattern, escape="\\"),
            )
        )
    rows = session.exec(
        query.group_by(Address.unit_id, Address.compound, Address.building)
        .order_by(Address.compound, Address.building)
        .limit(limit)
    ).all()
    units = _units(session, (r[0] for r in rows))
    return [
        Pick(
            kind="building",
            key=building_key(unit_id, compound, building),
            label=f"{compound}{building}号楼",
            committee=units[unit_id],
            detail=f"{households} 户 {residents} 人 · {units[unit_id].name}",
            compound=compound,
            building=building,
        )
        for unit_id, compound, building, households, residents in rows
    ]


def resolve_picks(
    session: Session,
    actor: Actor | None,
    keys: Iterable[str],
    *,
    permission: str = "residents.read",
) -> dict[str, Pick]:
    """The picks of ``keys`` that exist and lie in scope; the others are left out."""
    wanted: dict[str, list[tuple[Any, ...]]] = {"resident": [], "household": [], "building": []}
    for key in set(keys):
        parsed = parse_pick_key(key)
        if parsed is not None:
            wanted[parsed[0]].append(parsed[1])
    found: dict[str, Pick] = {}
    if wanted["resident"]:
        ids = [p[0] for p in wanted["resident"]]
        query = (
            select(  # type: ignore[call-overload]
                Resident.id, Resident.name, Resident.unit_id, Resident.household_id, Address
            )
            .outerjoin(Address, col(Address.id) == Resident.address_id)
            .where(col(Resident.id).in_(ids), Resident.status == "active")
            .where(scope.scope_filter(actor, permission, Resident.unit_id))
        )
        rows = session.exec(query).all()
        units = _units(session, (r[2] for r in rows))
        for resident_id, name, unit_id, household_id, address in rows:
            place = address.label() if address is not None else ""
            found[f"resident:{resident_id}"] = Pick(
                kind="resident",
                key=f"resident:{resident_id}",
                label=f"{name} · {place}" if place else name,
                committee=units[unit_id],
                detail=units[unit_id].name,
                resident_id=resident_id,
                household_id=household_id,
                compound=address.compound if address is not None else None,
                building=(address.building or None) if address is not None else None,
            )
    if wanted["household"]:
        ids = [p[0] for p in wanted["household"]]
        rows = session.exec(
            select(Household, Address)
            .outerjoin(Address, col(Address.id) == Household.address_id)
            .where(col(Household.id).in_(ids))
            .where(scope.scope_filter(actor, permission, Household.unit_id))
        ).all()
        units = _units(session, (h.unit_id for h, _ in rows))
        for household, address in rows:
            place = address.label() if address is not None else f"户号 {household.number}"
            found[f"household:{household.id}"] = Pick(
                kind="household",
                key=f"household:{household.id}",
                label=place,
                committee=units[household.unit_id],
                detail=units[household.unit_id].name,
                household_id=household.id,
                compound=address.compound if address is not None else None,
                building=(address.building or None) if address is not None else None,
            )
    if wanted["building"]:
        places = wanted["building"]
        rows = session.exec(
            select(Address.unit_id, Address.compound, Address.building)
            .where(
                or_(
                    *(
                        and_(
                            Address.unit_id == unit_id,
                            Address.compound == compound,
                            Address.building == building,
                        )
                        for unit_id, compound, building in places
                    )
                )
            )
            .where(scope.scope_filter(actor, permission, Address.unit_id))
            .distinct()
        ).all()
        units = _units(session, (r[0] for r in rows))
        for unit_id, compound, building in rows:
            key = building_key(unit_id, compound, building)
            found[key] = Pick(
                kind="building",
                key=key,
                label=f"{compound}{building}号楼",
                committee=units[unit_id],
                detail=units[unit_id].name,
                compound=compound,
                building=building,
            )
    return found


def households_by_unit(
    session: Session,
    actor: Actor | None,
    *,
    unit_code: str | None = None,
    permission: str = "residents.read",
) -> dict[int, int]:
    """``{committee id: active households}`` for the committees in scope (under ``unit_code``)."""
    rows = session.exec(
        select(Resident.unit_id, func.count(distinct(col(Resident.household_id))))
        .where(_within(session, actor, permission, Resident.unit_id, unit_code))
        .where(Resident.status == "active", col(Resident.household_id).is_not(None))
        .group_by(col(Resident.unit_id))
    ).all()
    return {int(unit_id): int(count) for unit_id, count in rows}
