"""What plugins serving residents directly may learn: placement, never the sensitive fields.

The kernel side of :meth:`shequyun_sdk.Platform.verify_resident`,
:meth:`~shequyun_sdk.Platform.resident_refs`, :meth:`~shequyun_sdk.Platform.resident_buildings`
and :meth:`~shequyun_sdk.Platform.count_electorate` (see ``docs/plugins/platform.md``). None of
these applies an actor's scope: they answer for a resident about themselves (verification, where
they live now) or count a committee's population, and return nothing a resident could not tell a
neighbour — no ID number, phone or birth date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from shequyun_sdk.residents import Building, ResidentRef
from sqlalchemy import and_, distinct, func, or_
from sqlmodel import Session, col, select

from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .crypto import FieldCipher
from .idnumber import normalize_id, normalize_phone
from .models import Address, Household, Resident

__all__ = ["count_electorate", "resident_buildings", "resident_refs", "verify_resident"]

ADULT_AGE = 18


def verify_resident(
    session: Session, cipher: FieldCipher, *, name: str, id_number: str, phone: str
) -> ResidentRef | None:
    """The active resident matching all three, or None (the same None whatever differs)."""
    name, id_number, phone = name.strip(), normalize_id(id_number), normalize_phone(phone)
    if not name or not id_number or not phone:
        return None
    candidates = session.exec(
        select(Resident)
        .where(Resident.id_number_hash == cipher.lookup_hash(id_number))
        .where(Resident.status == "active")
    ).all()
    phone_hash = cipher.lookup_hash(phone)
    for resident in candidates:
        if resident.name == name and resident.phone_hash == phone_hash:
            assert resident.id is not None
            return resident_refs(session, [resident.id])[resident.id]
    return None


def resident_refs(session: Session, resident_ids: Iterable[int]) -> dict[int, ResidentRef]:
    """The current placement of each existing resident among ``resident_ids``."""
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return {}
    rows = session.exec(
        select(Resident, OrgUnit, Address, Household)
        .join(OrgUnit, OrgUnit.id == Resident.unit_id)  # type: ignore[arg-type]
        .outerjoin(Address, Address.id == Resident.address_id)  # type: ignore[arg-type]
        .outerjoin(Household, Household.id == Resident.household_id)  # type: ignore[arg-type]
        .where(col(Resident.id).in_(ids))
    ).all()
    adult_before = _years_before(date.today(), ADULT_AGE)
    refs: dict[int, ResidentRef] = {}
    for resident, unit, address, household in rows:
        assert resident.id is not None
        refs[resident.id] = ResidentRef(
            id=resident.id,
            name=resident.name,
            committee=unit_ref(unit),
            compound=address.compound if address is not None else None,
            building=address.building if address is not None and address.building else None,
            address_label=address.label() if address is not None else None,
            household_id=household.id if household is not None else None,
            household_number=household.number if household is not None else None,
            adult=resident.birth_date <= adult_before,
            active=resident.status == "active",
        )
    return refs


def resident_buildings(session: Session, unit_id: int) -> list[Building]:
    """The committee's buildings with their active households, residents and adults."""
    adult_before = _years_before(date.today(), ADULT_AGE)
    adult = func.sum(_case_adult(adult_before))
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Address.compound,
            Address.building,
            func.count(distinct(col(Resident.household_id))),
            func.count(col(Resident.id)),
            adult,
        )
        .join(Resident, Resident.address_id == Address.id)  # type: ignore[arg-type]
        .where(Address.unit_id == unit_id, Address.building != "")
        .where(Resident.unit_id == unit_id, Resident.status == "active")
        .group_by(Address.compound, Address.building)
        .order_by(Address.compound, Address.building)
    ).all()
    buildings = [
        Building(
            compound=compound,
            building=building,
            households=int(households),
            residents=int(residents),
            adults=int(adults or 0),
        )
        for compound, building, households, residents, adults in rows
    ]
    return sorted(buildings, key=lambda b: (b.compound, _natural(b.building)))


def count_electorate(
    session: Session,
    unit_id: int,
    *,
    per: str = "resident",
    buildings: Sequence[tuple[str, str]] = (),
    household_numbers: Sequence[str] = (),
    adults_only: bool = True,
) -> int:
    """Active residents or households of a committee, optionally within buildings/households."""
    if per not in ("resident", "household"):
        raise ValueError("per must be 'resident' or 'household'")
    conditions: list[Any] = [Resident.unit_id == unit_id, Resident.status == "active"]
    if adults_only:
        conditions.append(col(Resident.birth_date) <= _years_before(date.today(), ADULT_AGE))
    if buildings:
        in_buildings = select(Address.id).where(
            Address.unit_id == unit_id,
            or_(
                *(
                    and_(col(Address.compound) == c, col(Address.building) == b)
                    for c, b in buildings
                )
            ),
        )
        conditions.append(col(Resident.address_id).in_(in_buildings))
    if household_numbers:
        numbered = select(Household.id).where(
            Household.unit_id == unit_id, col(Household.number).in_(list(household_numbers))
        )
        conditions.append(col(Resident.household_id).in_(numbered))
    if per == "household":
        conditions.append(col(Resident.household_id).is_not(None))
        counted: Any = func.count(distinct(col(Resident.household_id)))
    else:
        counted = func.count(col(Resident.id))
    return int(session.exec(select(counted).where(*conditions)).one())


def _case_adult(adult_before: date) -> Any:
    from sqlalchemy import case

    return case((col(Resident.birth_date) <= adult_before, 1), else_=0)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)
