"""A ratio adds up the tree as the ratio of its sums, never as the average of the children's
ratios: checked against plain SQL on the demo's Shanghai (徐汇区 and its 13 streets)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session

from shequyun.identity import demo_data
from shequyun.residents import demo

from .conftest import elderly_by_hand

XUHUI = "310104000000"
SHARE = "residents.elderly_share"


@pytest.fixture
def shanghai(shequyun_client, shequyun_kernel):
    """The demo's org tree and residents (fewer per committee than ``shequyun demo``)."""
    demo_data.load(shequyun_kernel)
    demo.load(shequyun_kernel, full=(60, 120), small=(2, 6))
    return shequyun_kernel


@pytest.fixture
def actors(shanghai, shequyun_app):
    """Users on the demo tree's units (the harness's actors live on its own small tree)."""
    from sqlmodel import select

    from shequyun.identity.models import OrgUnit
    from shequyun.testing import Actors

    with Session(shanghai.engine, expire_on_commit=False) as session:
        units = {
            u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.level != "committee"))
        }
    return Actors(shanghai, shequyun_app, units)


def committees_below(kernel, code: str) -> list[str]:
    with Session(kernel.engine) as session:
        path = session.execute(
            text("SELECT path FROM kernel_org_unit WHERE code = :c"), {"c": code}
        ).scalar_one()
        return list(
            session.execute(
                text("SELECT code FROM kernel_org_unit WHERE level = 'committee' AND path LIKE :p"),
                {"p": path + "%"},
            ).scalars()
        )


def test_the_districts_share_of_over_60s_is_the_ratio_of_its_sums(shanghai, actors):
    district = actors.make("identity.district_admin", XUHUI, username="xuhui.admin2")
    client = district.client()
    answer = client.get(f"/api/v1/indicators/units/{XUHUI}/{SHARE}").json()["indicator"]
    today = date.today()

    old, everyone = elderly_by_hand(shanghai, committees_below(shanghai, XUHUI), today)
    assert everyone > 3000  # 28 full committees of 天平路街道 and a few residents elsewhere
    assert (answer["unit"]["value"], answer["unit"]["base"]) == (old, everyone)
    assert answer["unit"]["figure"] == pytest.approx(100 * old / everyone, abs=1e-9)

    streets = answer["children"]
    assert len(streets) == 13
    for street in streets:
        by_hand = elderly_by_hand(
            shanghai, committees_below(shanghai, street["unit"]["code"]), today
        )
        assert (street["value"], street["base"]) == by_hand, street["unit"]["name"]
    # 天平路街道 holds most residents: the mean of the 13 streets' shares is another number.
    mean_of_ratios = sum(s["figure"] for s in streets) / len(streets)
    assert abs(mean_of_ratios - answer["unit"]["figure"]) > 0.1
    assert sum(s["value"] for s in streets) == old
    assert sum(s["base"] for s in streets) == everyone


def test_every_level_agrees_with_plain_sql(shanghai, actors):
    city = actors.make("identity.bureau", "310000000000", username="shimzj2")
    today = date.today()
    body = city.client().get(f"/api/v1/indicators/units/310000000000/{SHARE}").json()
    old, everyone = elderly_by_hand(shanghai, committees_below(shanghai, "310000000000"), today)
    assert (body["indicator"]["unit"]["value"], body["indicator"]["unit"]["base"]) == (
        old,
        everyone,
    )
    assert len(body["indicator"]["children"]) == 16
    committee = committees_below(shanghai, "310104003000")[0]
    one = city.client().get(f"/api/v1/indicators/units/{committee}/{SHARE}").json()["indicator"]
    assert (one["unit"]["value"], one["unit"]["base"]) == elderly_by_hand(
        shanghai, [committee], today
    )
    assert one["children"] == []
