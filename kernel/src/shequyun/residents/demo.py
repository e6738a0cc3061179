"""Demo residents for ``shequyun demo``, on top of the identity plugin's demo org tree.

The committees of 天平路街道 (徐汇区), where the demo accounts work, get a committee's full
population (600 to 4,000 residents; the demo cadre's own committee 4,000); every other open
committee of the city gets a few dozen, so that no list is empty anywhere. The residents come
from :mod:`.generate`, written through its fast path (:func:`.generate.bulk_load`) in one
transaction, about 280,000 of them in all: each record has the ``(created)`` history row the
service writes (source ``import``), but no ``resident.created`` events are published, so plugin
subscribers are not flooded with a demo's worth of events. Ids follow the households (no
interleaving), so a family's members are listed side by side.

Running it again adds nothing: committees that already hold residents are left alone.

One resident is not generated: :data:`DEMO_RESIDENT` (陈晓梅, in the demo cadre's committee,
临江新村1号楼, whose lift the 居社互动 demo puts to a vote) has a name, ID number and phone
fixed here, so that the 居社互动 demo can open her a resident account verified the way a
resident verifies (name + ID number + the phone on record): a visitor signs in as her with the
phone and ``Demo-2026``. She is registered through the service, as the demo cadre would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..identity.demo_data import DEMO_USERS, TIANPING, demo_actor
from ..identity.directory import unit_by_code
from ..identity.models import OrgUnit, User
from .generate_bulk import bulk_load
from .idnumber import check_digit
from .models import Address, Household, Resident

__all__ = ["DEMO_RESIDENT", "FULL", "SEED", "SMALL", "DemoResident", "load"]

SEED = 20201101  # the 2020 census day
#: Residents of each 天平路街道 committee, and of every other committee.
FULL = (600, 4000)
SMALL = (20, 50)


@dataclass(frozen=True)
class DemoResident:
    """A resident whose identity the demo fixes, for the 居社互动 demo's resident account."""

    name: str
    id_number: str
    phone: str


#: Registered in the demo cadre's committee, in the household of its first building's first
#: household; the 居社互动 demo (plugins/interaction) names the same three values.
DEMO_RESIDENT = DemoResident(
    name="陈晓梅",
    id_number="31010419880615042" + check_digit("31010419880615042"),
    phone="13900000001",
)


def load(
    kernel: Any, *, full: tuple[int, int] | None = None, small: tuple[int, int] | None = None
) -> str:
    """Fill the demo org tree with residents; say what was created (or that nothing was).

    ``full`` and ``small`` (least, most residents per committee) default to :data:`FULL` for
    天平路街道 and :data:`SMALL` elsewhere.
    """
    full = full or FULL
    small = small or SMALL
    with Session(kernel.engine, expire_on_commit=False) as session:
        street = unit_by_code(session, TIANPING)
        if street is None:
            return f"未找到演示组织架构（天平路街道 {TIANPING}），未生成居民。"
        committees = session.exec(
            select(OrgUnit)
            .where(OrgUnit.level == "committee", col(OrgUnit.closed_on).is_(None))
            .order_by(col(OrgUnit.code))
        ).all()
        filled = set(session.exec(select(Resident.unit_id).distinct()).all())
        cadre_unit = _cadre_unit(session)
    empty = [c for c in committees if c.id not in filled]
    if not empty:
        with Session(kernel.engine) as session:
            total = session.exec(select(func.count()).select_from(Resident)).one()
        return f"演示居民已加载，未重复创建（共 {total:,} 人）。" + _register_demo_resident(kernel)
    sizes: dict[str, int] = {}
    in_street = 0
    for unit in empty:
        rng = random.Random(f"{SEED}:{unit.code}")
        if unit.parent_id == street.id:
            in_street += 1
            sizes[unit.code] = full[1] if unit.id == cadre_unit else rng.randint(*full)
        else:
            sizes[unit.code] = rng.randint(*small)
    stats = bulk_load(
        kernel.engine, kernel.residents.cipher, empty, sizes, SEED, history=True, interleave=False
    )
    others = len(empty) - in_street
    parts = []
    if in_street:
        parts.append(f"天平路街道 {in_street} 个居委各 {full[0]:,}–{full[1]:,} 人")
    if others:
        parts.append(f"其他 {others:,} 个居村委各 {small[0]}–{small[1]} 人")
    return (
        f"居民：新增 {stats.residents:,} 人、{stats.households:,} 户"
        f"（{'，'.join(parts)}），标签 {stats.tags:,} 个。"
    ) + _register_demo_resident(kernel)


def _register_demo_resident(kernel: Any) -> str:
    """Register :data:`DEMO_RESIDENT` as the demo cadre, unless she is there; say where she
    lives (or why she could not be registered)."""
    cipher = kernel.residents.cipher
    cadre = next((u for u in DEMO_USERS if u.role == "identity.cadre"), None)
    with Session(kernel.engine) as session:
        known = session.exec(
            select(Resident.id).where(
                Resident.id_number_hash == cipher.lookup_hash(DEMO_RESIDENT.id_number)
            )
        ).first()
        if known is not None:
            return ""
        actor = demo_actor(session, kernel, cadre.username) if cadre else None
        if actor is None or actor.unit is None:
            return ""
        home = session.exec(
            select(Household, Address)
            .join(Address, col(Address.id) == Household.address_id)
            .where(Household.unit_id == actor.unit.id)
            .order_by(col(Address.compound), col(Address.building), col(Household.id))
        ).first()
        if home is None:
            return ""
        household, address = home
        kernel.residents.create(
            session,
            actor,
            {
                "name": DEMO_RESIDENT.name,
                "id_number": DEMO_RESIDENT.id_number,
                "phone": DEMO_RESIDENT.phone,
                "registration": "huji",
                "unit_code": actor.unit.code,
                "address": {
                    "compound": address.compound,
                    "building": address.building,
                    "entrance": address.entrance,
                    "room": address.room,
                },
                "household_number": household.number,
            },
            source="import",
        )
        session.commit()
        where = address.label()
    return f"演示居民 {DEMO_RESIDENT.name}（{actor.unit.name}，{where}）。"


def _cadre_unit(session: Session) -> int | None:
    """The committee of the demo cadre account, which gets the fullest population."""
    cadre = next((u for u in DEMO_USERS if u.role == "identity.cadre"), None)
    if cadre is None:
        return None
    return session.exec(select(User.home_unit_id).where(User.username == cadre.username)).first()
