"""Closed periods are kept with the tree of their day: a split later changes only the present."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shequyun_sdk import Period
from sqlmodel import Session

from shequyun.identity import orgunits
from shequyun.indicators.service import beijing_today

from .conftest import TIANPING, XUHUI

POPULATION = "residents.population"


def children(body, name=POPULATION):
    panel = next(i for i in body["indicators"] if i["indicator"] == name)
    return [(c["unit"]["name"], c["figure"]) for c in panel["children"]]


def split_tianping(kernel, on):
    with Session(kernel.engine) as session:
        orgunits.split(
            session,
            TIANPING,
            into=[
                orgunits.NewUnit("310104003100", "天平路北街道", ("310104003001",)),
                orgunits.NewUnit("310104003200", "天平路南街道", ("310104003002",)),
            ],
            on=on,
            by=None,
        )
        session.commit()


def test_after_a_split_last_month_shows_the_old_units_and_this_month_the_new(town):
    today = beijing_today()
    this_month = Period.of("month", today)
    last_month = this_month.previous()
    service = town.kernel.indicators
    taken = service.take_due_snapshots(today=today)
    assert {t.period for t in taken} >= {last_month}
    # Renamed and split after the snapshot was taken.
    with Session(town.kernel.engine) as session:
        unit = orgunits.find(session, "310104003002", by=None)
        orgunits.rename(
            session, "310104003002", name="建国西路第一居委会", version=unit.version, by=None
        )
        session.commit()
    split_tianping(town.kernel, this_month.start)

    district = town.actors.district_admin(XUHUI)
    then = town.api(district, f"/units/{XUHUI}", period=last_month.code).json()
    assert then["period"]["live"] is False and then["snapshot_taken_at"]
    assert children(then) == [("天平路街道", 210)]
    now = town.api(district, f"/units/{XUHUI}").json()
    assert now["period"]["live"] is True
    assert children(now) == [("天平路北街道", 150), ("天平路南街道", 60)]

    # The old street, closed, still opens on last month with its committees of that day.
    street_then = town.api(district, f"/units/{TIANPING}", period=last_month.code).json()
    assert children(street_then) == [("宛平南路居委会", 150), ("建国西路居委会", 60)]
    # A street created by the split has no figures for a month before it existed.
    new_then = town.api(district, "/units/310104003100", period=last_month.code).json()
    assert new_then["no_snapshot"] is True and new_then["indicators"] == []

    # Once this month closes, its snapshot keeps the new units.
    next_month = this_month.following()
    service.take_due_snapshots(today=next_month.start)
    kept = service.dashboard(
        district.actor, XUHUI, period=this_month.code, today=next_month.start + timedelta(days=1)
    )
    population = next(p for p in kept.panels if p.declared.name == POPULATION)
    assert [(r.node.name, r.figure) for r in population.children] == [
        ("天平路北街道", 150),
        ("天平路南街道", 60),
    ]
    assert kept.live is False


def test_the_trend_reads_the_snapshots_and_ends_with_todays_value(town):
    service = town.kernel.indicators
    today = beijing_today()
    month = Period.of("month", today)
    # Three closed months, taken as the job would have (the same residents each time here).
    for back in (3, 2, 1):
        start = month.start
        for _ in range(back):
            start = Period.of("month", start).previous().start
        service.take_due_snapshots(today=Period.of("month", start).following().start)
    district = town.actors.district_admin(XUHUI)
    panel = town.api(district, f"/units/{XUHUI}/{POPULATION}").json()["indicator"]
    trend = [(p["period"], p["figure"], p["live"]) for p in panel["trend"]]
    assert trend[-1] == (month.code, 210, True)
    assert [figure for _, figure, live in trend if not live] == [210, 210, 210]
    assert [p for p, _, _ in trend] == sorted(p for p, _, _ in trend)


def test_the_job_keeps_each_closed_period_once(town, scheduled_jobs):
    name = "kernel.indicators.snapshot"
    assert name in scheduled_jobs.names
    assert scheduled_jobs.status(name).schedule == "daily 00:20"
    first = scheduled_jobs.run(name)
    assert first.outcome == "ok", first.error
    assert first.summary.startswith("已保存：")
    again = scheduled_jobs.run(name)
    assert (again.outcome, again.summary) == ("ok", "无需新增快照")


def test_the_nightly_run_keeps_the_period_that_just_closed(town, scheduled_jobs):
    name = "kernel.indicators.snapshot"
    beijing = timezone(timedelta(hours=8))
    scheduled_jobs.run_due(at=datetime(2027, 3, 31, 12, 0, tzinfo=beijing))  # registers the job
    [run] = [
        r
        for r in scheduled_jobs.run_due(at=datetime(2027, 4, 1, 0, 20, tzinfo=beijing))
        if r.name == name
    ]
    # 1 April 2027: March and the first quarter have just closed, and the week of 22 March.
    assert run.summary == "已保存：2027年第12周 12 项；2027年3月 12 项；2027年第1季度 12 项"


def test_a_closed_period_without_a_snapshot_says_so(town):
    district = town.actors.district_admin(XUHUI)
    long_ago = town.api(district, f"/units/{XUHUI}", period="2020-03").json()
    assert long_ago["no_snapshot"] is True and long_ago["indicators"] == []
    future = town.api(district, f"/units/{XUHUI}", period="2999-01")
    assert future.status_code == 422
    assert future.json()["error"]["field"] == "period"
    bad = town.api(district, f"/units/{XUHUI}", period="下个月")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "period"
