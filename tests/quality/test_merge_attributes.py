"""A merge keeps the plugin attributes only the other record had; the undo takes them back."""

from __future__ import annotations

import pytest
from shequyun_sdk import ResidentAttribute
from sqlmodel import Session

from shequyun.residents.models import Resident

from ..residents._data import Eldercare
from .conftest import Town


@pytest.fixture
def shequyun_plugins():
    return [
        Eldercare(
            ResidentAttribute("care_level", "照护等级", {"type": "integer", "minimum": 0}),
            ResidentAttribute("meals", "助餐", {"type": "boolean"}),
        )
    ]


def extra(town: Town, resident_id: int) -> dict:
    with Session(town.kernel.engine) as session:
        return session.get(Resident, resident_id).extra


def test_the_kept_record_gains_what_only_the_other_had_until_the_undo(town: Town):
    kept = town.add(name="吴照护", born="19400202", attributes={"eldercare.meals": True})
    town.serial += 1  # the same gender
    other = town.add(
        "310115004002",
        name="吴照护",
        born="19400202",
        attributes={"eldercare.care_level": 4, "eldercare.meals": False},
    )
    town.kernel.quality.duplicates.find()
    street = town.actors.street_admin("310115004000")
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {kept, other}]

    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": kept}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    # The kept record's own value wins; what it lacked comes from the other.
    assert extra(town, kept) == {"eldercare": {"meals": True, "care_level": 4}}
    assert merged.json()["merge"]["moved"]["attributes"] == ["eldercare.care_level"]

    undo = town.client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth
    )
    assert undo.status_code == 200, undo.text
    assert extra(town, kept) == {"eldercare": {"meals": True}}
    assert extra(town, other) == {"eldercare": {"care_level": 4, "meals": False}}
