"""register_indicators: figures a plugin declares, computed per unit and added up the tree."""

from __future__ import annotations

from datetime import date

import pytest
from shequyun_sdk import Breakdown, Indicator, hookimpl
from sqlalchemy import case, func, select

from shequyun.residents.generate_bulk import bulk_load

from ._plugins import manifest, plugin_listing

SIZES = {"310115004001": 120, "310115004002": 40, "310115005001": 70}
WEIFANG, PUDONG = "310115004000", "310115000000"


def children_share(q):
    """Residents under 18 over all residents, per committee (the youth committee's figure)."""
    r = q.residents
    adult_from = date(q.as_of.year - 18, q.as_of.month, min(q.as_of.day, 28))
    return (
        select(
            r.c.unit_id,
            func.sum(case((r.c.birth_date > adult_from, 1), else_=0)).label("value"),
            func.count().label("base"),
        )
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id)
    )


def by_gender(q):
    r = q.residents
    return (
        select(r.c.unit_id, r.c.gender.label("key"), func.count().label("value"))
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id, r.c.gender)
    )


class Youth:
    """共青团: the share of children, read by district staff only, and residents by gender."""

    MANIFEST = manifest(
        "youth",
        "青少年工作",
        permissions=[
            {
                "name": "youth.read",
                "title": {"zh": "查看青少年指标"},
                "roles": ["identity.district_admin"],
            }
        ],
    )

    @hookimpl
    def register_indicators(self, plugin):
        return [
            Indicator(
                "children_share",
                "未成年人占比",
                children_share,
                unit="%",
                aggregation="ratio",
                scale=100,
                decimals=1,
                permission="youth.read",
            ),
            Indicator(
                "by_gender",
                "性别构成",
                by_gender,
                unit="人",
                breakdown=Breakdown("性别", labels={"male": "男", "female": "女"}),
            ),
        ]


@pytest.fixture
def shequyun_plugins():
    return [Youth()]


@pytest.fixture
def populated(shequyun_kernel, shequyun_units):
    committees = [shequyun_units[code] for code in SIZES]
    bulk_load(shequyun_kernel.engine, shequyun_kernel.residents.cipher, committees, SIZES, 7)
    return shequyun_kernel


def test_a_plugins_indicators_are_named_after_it_and_listed(
    shequyun_client, shequyun_actors, populated
):
    district = shequyun_actors.district_admin(PUDONG)
    listed = district.client().get("/api/v1/indicators").json()["indicators"]
    ours = {i["name"]: i for i in listed if i["plugin"] == "youth"}
    assert set(ours) == {"youth.children_share", "youth.by_gender"}
    assert ours["youth.children_share"]["aggregation"] == "ratio"
    assert ours["youth.by_gender"]["breakdown"] == {
        "title": "性别",
        "title_en": "",
        "additive": True,
    }


def test_the_ratio_adds_up_as_a_ratio_of_sums(shequyun_client, shequyun_actors, populated):
    district = shequyun_actors.district_admin(PUDONG)
    body = district.client().get(f"/api/v1/indicators/units/{PUDONG}/youth.children_share").json()
    unit, streets = body["indicator"]["unit"], body["indicator"]["children"]
    assert unit["base"] == 230
    assert unit["value"] == sum(s["value"] for s in streets)
    assert unit["figure"] == pytest.approx(100 * unit["value"] / 230)
    weifang = next(s for s in streets if s["unit"]["code"] == WEIFANG)
    assert weifang["base"] == 160


def test_a_breakdown_shows_each_key_and_the_total(shequyun_client, shequyun_actors, populated):
    street = shequyun_actors.street_admin(WEIFANG)
    body = street.client().get(f"/api/v1/indicators/units/{WEIFANG}/youth.by_gender").json()
    panel = body["indicator"]
    assert [k["label"] for k in panel["keys"]] == ["男", "女"]
    assert panel["unit"]["figure"] == 160
    assert panel["unit"]["by_key"]["male"] + panel["unit"]["by_key"]["female"] == 160


def test_the_indicators_permission_decides_who_reads_it(
    shequyun_client, shequyun_actors, populated
):
    street = shequyun_actors.street_admin(WEIFANG)
    names = [i["name"] for i in street.client().get("/api/v1/indicators").json()["indicators"]]
    assert "youth.by_gender" in names and "youth.children_share" not in names
    answer = street.client().get(f"/api/v1/indicators/units/{WEIFANG}/youth.children_share")
    assert answer.status_code == 404


def test_a_plugin_that_fails_takes_its_indicators_with_it(
    shequyun_client, shequyun_kernel, shequyun_actors, populated
):
    district = shequyun_actors.district_admin(PUDONG)
    shequyun_kernel.host.fail("youth", "数据表损坏")
    listed = district.client().get("/api/v1/indicators").json()["indicators"]
    assert not [i for i in listed if i["plugin"] == "youth"]
    assert district.client().get(f"/api/v1/indicators/units/{PUDONG}").status_code == 200


class TestBadDeclarations:
    class NotAnIndicator:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def register_indicators(self, plugin):
            return [{"name": "spaces", "title": "车位数"}]

    class Twice:
        MANIFEST = manifest("elevators", "加装电梯")

        @hookimpl
        def register_indicators(self, plugin):
            query = children_share
            return [Indicator("built", "已加装", query), Indicator("built", "已加装", query)]

    class UnknownPermission:
        MANIFEST = manifest("clinic", "社区卫生")

        @hookimpl
        def register_indicators(self, plugin):
            return [Indicator("visits", "家庭医生签约", children_share, permission="clinic.x")]

    class BadName:
        MANIFEST = manifest("markets", "菜场")

        @hookimpl
        def register_indicators(self, plugin):
            return [Indicator("菜价", "菜价指数", children_share)]

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.NotAnIndicator(), self.Twice(), self.UnknownPermission(), self.BadName()]

    def test_each_fails_its_plugin_with_the_reason(self, shequyun_client):
        listing = plugin_listing(shequyun_client)
        assert listing["parking"]["reason"].startswith(
            "register_indicators returned a bad value: {'name': 'spaces'"
        )
        assert listing["elevators"]["reason"] == (
            "register_indicators returned a bad value: two indicators are named 'built'"
        )
        assert listing["clinic"]["reason"] == (
            "register_indicators returned a bad value: indicator 'visits' names an unknown "
            "permission 'clinic.x'"
        )
        assert listing["markets"]["reason"].startswith(
            "hook register_indicators raised ValueError: indicator name '菜价'"
        )
        names = [d.name for d in shequyun_client.app.state.kernel.indicators.registry.active()]
        assert "residents.population" in names
        assert not [n for n in names if n.split(".")[0] in {"parking", "elevators", "clinic"}]
