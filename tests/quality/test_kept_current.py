"""Findings follow resident events (no rebuild); the jobs evaluate new rules and the date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from .conftest import LONG_AGO, Town


def test_fixing_a_record_clears_its_finding_and_breaking_one_adds_it(town: Town):
    missing = town.add(phone=None)
    fine = town.add()
    town.kernel.quality.scan()
    assert town.of(missing) == {"missing_phone"}

    town.update(missing, phone="13700001234")
    town.update(fine, address=None)
    town.drain()
    assert town.of(missing) == set()
    assert town.of(fine) == {"missing_address"}


def test_a_household_finding_follows_its_members(town: Town):
    child = town.add(born="20160101", household_number="KID-9")
    town.kernel.quality.scan()
    assert town.of(child) == {"household_head_under_16"}

    mother = town.add(born="19880101", household_number="KID-9")
    town.drain()
    assert town.of(child) == set()

    # The mother moves to another household: the child's household is children only again.
    town.update(mother, household_number="ELSEWHERE")
    town.drain()
    assert town.of(child) == {"household_head_under_16"}


def test_a_shared_phone_group_shrinking_below_the_threshold_clears_every_member(town: Town):
    sharing = [town.add(phone="13900002222") for _ in range(4)]
    town.kernel.quality.scan()
    assert all(town.of(r) == {"shared_phone"} for r in sharing)

    town.update(sharing[0], phone="13600001111")
    town.drain()
    assert all(town.of(r) == set() for r in sharing)


def test_many_changes_at_once_are_evaluated_together_not_one_by_one(town: Town, monkeypatch):
    # An import publishes an event per row; re-evaluating a household or a phone group per
    # event would cost rows × group size. The subscriber takes its events in batches.
    refreshed: list[set[int]] = []
    real_refresh = town.kernel.quality.refresh

    def counting_refresh(session, resident_ids, **kwargs):
        refreshed.append(set(resident_ids))
        return real_refresh(session, resident_ids, **kwargs)

    monkeypatch.setattr(town.kernel.quality, "refresh", counting_refresh)
    sharing = [town.add(phone="13900003333") for _ in range(12)]

    town.drain()

    assert len(refreshed) == 1 and set(sharing) <= refreshed[0]
    assert all(town.of(r) == {"shared_phone"} for r in sharing)


def test_a_transfer_and_a_removal_update_findings(town: Town):
    alone = town.add(born="19400101", household_number="A-7", tags=["独居老人"])
    son = town.add(household_number="A-7")
    gone = town.add(phone=None)
    town.kernel.quality.scan()
    assert town.of(alone) == {"alone_with_members"}

    with Session(town.kernel.engine) as session:
        actor = town.cadre().actor
        town.kernel.residents.transfer(
            session, actor, son, to_unit_code="310115004002", effective_on="2026-11-01",
            reason="搬家", version=1, source="api",
        )  # fmt: skip
        town.kernel.residents.remove(
            session, actor, gone, version=1, reason="迁出本市", source="api"
        )
        session.commit()
    town.drain()
    assert town.of(alone) == set()
    assert town.of(gone) == set()


def test_a_transfer_rechecks_the_household_left_not_the_whole_committee(town: Town, monkeypatch):
    child = town.add(born="20160101", household_number="B-8")
    mother = town.add(born="19880101", household_number="B-8")
    town.kernel.quality.scan()
    assert town.of(child) == set()
    refreshed: list[set[int]] = []
    real_refresh = town.kernel.quality.refresh

    def counting_refresh(session, resident_ids, **kwargs):
        refreshed.append(set(resident_ids))
        return real_refresh(session, resident_ids, **kwargs)

    monkeypatch.setattr(town.kernel.quality, "refresh", counting_refresh)
    with Session(town.kernel.engine) as session:
        town.kernel.residents.transfer(
            session, town.cadre().actor, mother, to_unit_code="310115004002",
            effective_on="2026-11-01", reason="搬家", version=1, source="api",
        )  # fmt: skip
        session.commit()
    town.drain()

    assert town.of(child) == {"household_head_under_16"}  # a child left alone in B-8
    # The household the mother left, not the 120 generated residents of her old committee.
    assert refreshed == [{mother, child}]
    history = town.client.get(
        f"/api/v1/residents/{mother}/history", headers=town.cadre("310115004002").auth
    )
    assert ("household_number", "B-8", None) in [
        (c["field"], c["old"], c["new"]) for c in history.json()["changes"]
    ]


def test_confirming_a_record_clears_its_freshness_finding(town: Town):
    stale = town.add()
    town.age_record(stale, LONG_AGO)
    town.kernel.quality.scan()
    assert town.of(stale) == {"not_confirmed_12_months"}
    with Session(town.kernel.engine) as session:
        town.kernel.quality.confirm(session, town.cadre().actor, stale)
        session.commit()
    assert town.of(stale) == set()


def test_a_refresh_later_the_same_day_reads_the_moment_afresh(town: Town):
    # The refresh keeps its statement for the day; the moment must still be the run's own.
    morning = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    noon = morning + timedelta(hours=2)
    resident = town.add()
    town.age_record(resident, morning - timedelta(days=365) + timedelta(hours=1))
    with Session(town.kernel.engine) as session:
        town.kernel.quality.refresh(session, [resident], now=morning)
        session.commit()
    assert town.of(resident) == set()  # not yet twelve months
    with Session(town.kernel.engine) as session:
        town.kernel.quality.refresh(session, [resident], now=noon)
        session.commit()
    assert town.of(resident) == {"not_confirmed_12_months"}


def test_the_daily_job_finds_records_that_grew_stale_with_time(town: Town, scheduled_jobs):
    resident = town.add()
    town.kernel.quality.scan()
    assert town.of(resident) == set()
    scheduled_jobs.run_due()  # the jobs are registered, first due after now
    later = datetime.now(UTC) + timedelta(days=400)
    # The first run makes up the missed days (it covers the first of them); the next one
    # covers the day 400 days on.
    scheduled_jobs.run_due(at=later)
    runs = scheduled_jobs.run_due(at=later + timedelta(days=1))
    assert {run.outcome for run in runs} == {"ok"}
    assert "not_confirmed_12_months" in town.of(resident)


def test_a_rule_added_by_a_district_takes_effect_in_its_area_only(town: Town):
    pudong = town.add(born="19200101")
    xuhui = town.add("310104003001", born="19200101")
    admin = town.actors.district_admin("310115000000")
    response = town.client.post(
        "/api/v1/quality/rules",
        headers=admin.auth,
        json={
            "code": "pudong_age_over_100",
            "check": "age_over",
            "params": {"years": 100},
            "level": "warning",
            "title": "年龄超过 100 岁",
            "fix": "核对出生日期，健在的百岁老人请标记核实无误。",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["rule"]["version"] == 1
    town.drain()
    assert "pudong_age_over_100" in town.of(pudong)
    assert "pudong_age_over_100" not in town.of(xuhui)

    # A district may not change a rule the city ships.
    refused = town.client.post(
        "/api/v1/quality/rules",
        headers=admin.auth,
        json={
            "code": "age_over_110",
            "check": "age_over",
            "params": {"years": 90},
            "level": "error",
            "title": "x",
            "fix": "y",
        },
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "code"


def test_a_bad_rule_over_the_api_names_the_field(town: Town):
    admin = town.actors.district_admin("310115000000")
    response = town.client.post(
        "/api/v1/quality/rules",
        headers=admin.auth,
        json={"code": "no_phone_ld", "check": "missing", "params": {"field": "shoe"},
              "level": "warning", "title": "流动人口缺少电话", "fix": "补录"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "params.field"
