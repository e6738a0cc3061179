"""Addresses and households (户): where a resident lives and whom they live with.

Both belong to a committee; a resident's write names them by value (the address's parts, the
household number) and they are found or created here, inside the resident's own write, so their
history is the resident's (:class:`~.service.ResidentService`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from ..identity.models import OrgUnit
from .models import Address, Household, Resident

__all__ = ["address_label", "household_number", "place"]


def place(session: Session, resident: Resident, unit: OrgUnit, values: Mapping[str, Any]) -> None:
    """Put ``resident`` at the address and in the household ``values`` name (either may be
    ``None`` to clear it), creating the address or household in ``unit`` when new."""
    assert unit.id is not None
    if "address" in values:
        address = values["address"]
        if address is None:
            resident.address_id = None
        else:
            found = session.exec(
                select(Address).where(
                    Address.unit_id == unit.id,
                    Address.compound == address["compound"],
                    Address.building == address["building"],
                    Address.entrance == address["entrance"],
                    Address.room == address["room"],
                )
            ).first()
            if found is None:
                found = Address(unit_id=unit.id, **address)
                session.add(found)
                session.flush()
            resident.address_id = found.id
    if "household_number" in values:
        number = values["household_number"]
        if not number:
            resident.household_id = None
        else:
            household = session.exec(
                select(Household).where(Household.unit_id == unit.id, Household.number == number)
            ).first()
            if household is None:
                household = Household(
                    unit_id=unit.id, number=number, address_id=resident.address_id
                )
                session.add(household)
                session.flush()
            resident.household_id = household.id


def address_label(session: Session, address_id: int | None) -> str | None:
    if address_id is None:
        return None
    address = session.get(Address, address_id)
    return address.label() if address else None


def household_number(session: Session, household_id: int | None) -> str | None:
    if household_id is None:
        return None
    household = session.get(Household, household_id)
    return household.number if household else None
