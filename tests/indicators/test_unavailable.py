"""A plugin whose indicator query raises: that indicator is unavailable, the rest renders."""

from __future__ import annotations

import pytest
from shequyun_sdk import Indicator, hookimpl
from sqlalchemy import column, func, select, table

from shequyun.indicators.service import beijing_today

from ..hooks._plugins import manifest
from .conftest import WEIFANG


def missing_table(q):
    """The plugin's table was dropped by hand: the database refuses the query."""
    visits = table("broken_visits", column("unit_id"))
    return (
        select(visits.c.unit_id, func.count().label("value"))
        .where(q.within(visits.c.unit_id))
        .group_by(visits.c.unit_id)
    )


class Broken:
    """An advisors-like plugin with one good indicator and two broken ones."""

    MANIFEST = manifest("broken", "有缺陷的插件")

    def __init__(self):
        self.fixed = False

    @hookimpl
    def register_indicators(self, plugin):
        return [
            Indicator("gone", "走访次数", missing_table, order=1),
            Indicator("raises", "政策覆盖率", self.raising, aggregation="ratio", order=2),
            Indicator("fine", "居民人数（插件）", self.fine, order=3),
        ]

    def raising(self, q):
        if not self.fixed:
            raise RuntimeError("政策库连接失败")
        r = q.residents
        return (
            select(r.c.unit_id, func.count().label("value"), func.count().label("base"))
            .where(q.within(r.c.unit_id))
            .group_by(r.c.unit_id)
        )

    def fine(self, q):
        r = q.residents
        return (
            select(r.c.unit_id, func.count().label("value"))
            .where(q.within(r.c.unit_id))
            .group_by(r.c.unit_id)
        )


@pytest.fixture
def broken():
    return Broken()


@pytest.fixture
def shequyun_plugins(broken):
    return [broken]


def test_the_api_marks_the_broken_indicators_and_computes_the_others(town, caplog):
    street = town.actors.street_admin(WEIFANG)
    body = town.api(street, f"/units/{WEIFANG}").json()
    by_name = {i["indicator"]: i for i in body["indicators"]}
    assert by_name["broken.gone"] == {
        "indicator": "broken.gone",
        "available": False,
        "error": "该指标暂时无法计算",
    }
    assert by_name["broken.raises"]["available"] is False
    assert by_name["broken.fine"]["unit"]["figure"] == 270
    assert by_name["residents.population"]["unit"]["figure"] == 270  # after the failures
    assert "indicator broken.raises could not be computed" in caplog.text
    assert "政策库连接失败" not in str(body)  # the reason is logged, never shown


def test_the_dashboard_page_renders_with_the_broken_tiles_marked(town):
    portal = town.actors.street_admin(WEIFANG).portal()
    page = portal.get(f"/indicators/u/{WEIFANG}")
    assert page.status_code == 200
    html = page.text
    assert html.count("该指标暂时无法计算，其他指标不受影响。") == 2
    assert "居民人数（插件）" in html and "60岁及以上居民占比" in html
    detail = portal.get(f"/indicators/u/{WEIFANG}/broken.gone")
    assert detail.status_code == 200 and "该指标暂时无法计算。" in detail.text
    export = portal.get(f"/indicators/u/{WEIFANG}/export?table=children&format=csv")
    assert export.status_code == 200
    header = export.content.decode("utf-8-sig").splitlines()[0]
    assert "居民人数（插件）" in header and "走访次数" not in header


def test_a_snapshot_records_the_failure_and_a_later_run_fills_it_in(town, broken):
    service = town.kernel.indicators
    today = beijing_today()
    taken = service.take_due_snapshots(today=today)
    assert all("broken.raises" in t.failed and "broken.gone" in t.failed for t in taken)
    month = next(t.period for t in taken if t.period.kind == "month")
    street = town.actors.street_admin(WEIFANG)
    then = town.api(street, f"/units/{WEIFANG}", period=month.code).json()
    status = {i["indicator"]: i["available"] for i in then["indicators"]}
    assert status["broken.raises"] is False and status["broken.fine"] is True

    broken.fixed = True
    again = service.take_due_snapshots(today=today)
    assert {t.added for t in again} == {False}  # the existing snapshots, completed
    assert all(t.failed == ("broken.gone",) for t in again)
    then = town.api(street, f"/units/{WEIFANG}", period=month.code).json()
    fixed = next(i for i in then["indicators"] if i["indicator"] == "broken.raises")
    assert fixed["available"] is True and fixed["unit"]["figure"] == 1.0
