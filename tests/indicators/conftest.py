"""Residents in the test slice of Shanghai, and the hand-written sums the indicators must match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from shequyun.residents.generate_bulk import bulk_load
from shequyun.residents.models import Resident

#: Residents per committee of the test tree: uneven, so that averages of ratios go wrong.
SIZES = {
    "310115004001": 240,  # 潍坊一村居委会
    "310115004002": 30,  # 潍坊二村居委会
    "310115005001": 90,  # 梅园一村居委会
    "310104003001": 150,  # 宛平南路居委会
    "310104003002": 60,  # 建国西路居委会
}
PUDONG, WEIFANG, LUJIAZUI = "310115000000", "310115004000", "310115005000"
XUHUI, TIANPING = "310104000000", "310104003000"


@dataclass
class Town:
    kernel: Any
    units: dict[str, Any]
    actors: Any
    client: Any

    def api(self, actor: Any, path: str, **params: str) -> Any:
        return self.client.get(f"/api/v1/indicators{path}", params=params, headers=actor.auth)


@pytest.fixture
def town(shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors) -> Town:
    """The test tree with :data:`SIZES` generated residents (households, tags and all)."""
    committees = [shequyun_units[code] for code in SIZES]
    bulk_load(shequyun_kernel.engine, shequyun_kernel.residents.cipher, committees, SIZES, 18)
    return Town(shequyun_kernel, shequyun_units, shequyun_actors, shequyun_client)


def elderly_by_hand(kernel: Any, unit_codes: list[str], today: date) -> tuple[int, int]:
    """(aged 60 or more, all) active residents of the committees ``unit_codes``, by plain SQL."""
    born_by = today.replace(year=today.year - 60) if (today.month, today.day) != (2, 29) else None
    born_by = born_by or today.replace(year=today.year - 60, day=28)
    with Session(kernel.engine) as session:
        ids = [
            session.execute(
                text("SELECT id FROM kernel_org_unit WHERE code = :c"), {"c": code}
            ).scalar_one()
            for code in unit_codes
        ]
        old = session.exec(
            select(func.count()).where(
                Resident.unit_id.in_(ids),
                Resident.status == "active",
                Resident.birth_date <= born_by,
            )
        ).one()
        everyone = session.exec(
            select(func.count()).where(Resident.unit_id.in_(ids), Resident.status == "active")
        ).one()
    return old, everyone
