"""民情 figures over the API: drilled down the tree, hot spots, on time / at risk / overdue, and
the steps that only report back (回访, the city platform's status updates)."""

from __future__ import annotations

from datetime import date

import pytest
from shequyun_governance import cases, flow, stats
from shequyun_sdk.cases import CASE_UPDATED, read_update
from sqlmodel import select

from .conftest import API, DISTRICT, JIANGUO, STREET, WANPING


@pytest.fixture
def today_is(monkeypatch):
    """Move "today" for the case rules and the figures alike."""

    def move(day: date) -> None:
        for module in (cases, flow, stats):
            monkeypatch.setattr(module, "today", lambda: day)

    return move


def closed_on_time(xuhui, case_id):
    xuhui.step(xuhui.cadre, case_id, "accept")
    xuhui.step(xuhui.cadre, case_id, "report", note="已办")
    assert xuhui.step(xuhui.street, case_id, "verify", passed=True).status_code == 200


def test_the_district_drills_down_to_the_committees_and_their_hot_spots(xuhui):
    wang = xuhui.resident("王秀英", building="12", room="402")
    li = xuhui.resident("李建国", building="12", room="501")
    zhao = xuhui.resident("赵敏", building="7", room="101")
    for subject in (f"resident:{wang}", f"resident:{li}", f"resident:{zhao}"):
        made = xuhui.open(xuhui.street, unit_code=WANPING, subject=subject)
        assert made["status"] == "pending"
    closed_on_time(xuhui, made["id"])
    xuhui.open(xuhui.street, unit_code=JIANGUO)
    xuhui.call(xuhui.cadre, "POST", "/logs", {"category": "help", "subject": f"resident:{wang}"})

    district = xuhui.call(xuhui.district, "GET", "/stats").json()
    assert district["unit"]["name"] == "徐汇区" and district["trail"] == [
        {"code": DISTRICT, "name": "徐汇区"}
    ]
    assert [(u["unit"]["name"], u["cases"], u["logs"]) for u in district["units"]] == [
        ("天平路街道", 4, 1)
    ]
    assert district["totals"]["cases"] == 4 and district["totals"]["on_time_rate"] == 1.0
    assert len(district["trend"]) == 12 and district["trend"][-1]["cases"] == 4

    street = xuhui.call(xuhui.district, "GET", f"/stats?unit_code={STREET}").json()
    assert [t["name"] for t in street["trail"]] == ["徐汇区", "天平路街道"]
    rows = {u["unit"]["code"]: u for u in street["units"]}
    assert (rows[WANPING]["cases"], rows[WANPING]["open"], rows[WANPING]["on_time"]) == (3, 2, 1)
    assert (rows[JIANGUO]["cases"], rows[JIANGUO]["on_time_rate"]) == (1, None)
    assert street["hot_spots"] == [
        {"place": "宛平小区12号楼", "cases": 2},
        {"place": "宛平小区7号楼", "cases": 1},
    ]
    assert {"name": "待签收", "count": 3} in street["cases_by_status"]
    assert street["cases_by_source"] == [{"name": "上级派单", "count": 4}]

    committee = xuhui.call(xuhui.street, "GET", f"/stats?unit_code={WANPING}").json()
    assert [u["unit"]["name"] for u in committee["units"]] == ["宛平南路居委会"]
    assert committee["logs_by_category"] == [{"name": "困难帮扶", "count": 1}]
    weekly = xuhui.call(xuhui.street, "GET", "/stats?period=week").json()
    assert weekly["period"] == "week" and len(weekly["trend"]) == 12


def test_stats_stay_inside_the_callers_subtree(xuhui):
    for who, code in (
        (xuhui.cadre, STREET),  # the committee's parent
        (xuhui.sibling, WANPING),  # the sibling committee
        (xuhui.street, "310115004000"),  # another district's street
        (xuhui.district, "999999999999"),  # no such unit
    ):
        refused = xuhui.call(who, "GET", f"/stats?unit_code={code}")
        assert refused.status_code == 404, (who.username, code)
        assert refused.json()["error"]["field"] == "unit_code"
    bad = xuhui.call(xuhui.street, "GET", "/stats?period=year")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "period"
    anonymous = xuhui.client.get(f"{API}/stats")
    assert anonymous.status_code == 401


def test_each_case_is_on_time_then_at_risk_then_overdue(xuhui, today_is):
    today_is(date(2026, 9, 30))  # Wednesday, the eve of the 国庆 holiday
    case = xuhui.open(xuhui.street, unit_code=WANPING, category="safety")
    assert case["due_on"] == "2026-10-09" and case["punctuality"] == "on_time"
    xuhui.step(xuhui.cadre, case["id"], "accept")

    today_is(date(2026, 10, 8))  # one working day left
    read = xuhui.call(xuhui.cadre, "GET", f"/cases/{case['id']}").json()
    assert read["punctuality"] == "at_risk"
    at_risk = xuhui.call(xuhui.cadre, "GET", "/cases").json()["items"]
    assert [c["punctuality"] for c in at_risk] == ["at_risk"]

    today_is(date(2026, 10, 12))  # past Friday the 9th
    assert xuhui.call(xuhui.cadre, "GET", f"/cases/{case['id']}").json()["punctuality"] == "overdue"
    # Open and past its deadline, it already counts as late on the street's figures.
    street = xuhui.call(xuhui.street, "GET", "/stats").json()
    row = next(u for u in street["units"] if u["unit"]["code"] == WANPING)
    assert (row["on_time"], row["late"], row["on_time_rate"]) == (0, 1, 0.0)
    xuhui.step(xuhui.cadre, case["id"], "report", note="已整改")
    closed = xuhui.step(xuhui.street, case["id"], "verify", passed=True).json()
    assert closed["status"] == "closed" and closed["punctuality"] == "overdue"


def test_the_resident_is_asked_back_and_only_parties_record_it(xuhui):
    resident_id = xuhui.resident("王秀英")
    case = xuhui.open(xuhui.street, unit_code=WANPING, subject=f"resident:{resident_id}")
    closed_on_time(xuhui, case["id"])
    bad = xuhui.step(xuhui.street, case["id"], "revisit", satisfaction="great", note="电话回访")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "satisfaction"
    assert (
        xuhui.step(xuhui.sibling, case["id"], "revisit", satisfaction="satisfied").status_code
        == 404
    )
    asked = xuhui.step(
        xuhui.street, case["id"], "revisit", satisfaction="basic", note="电话回访，基本满意"
    )
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["satisfaction"] == "basic"
    last = body["history"][-1]
    assert (last["action"], last["note"], last["unit"]["name"]) == (
        "revisit",
        "电话回访，基本满意",
        "天平路街道",
    )


def test_the_city_platform_hears_each_step_by_its_own_id(xuhui, drain_events):
    operations = xuhui.actors.make("governance.operations_platform", DISTRICT)
    sent = xuhui.client.post(
        f"{API}/intake/requests",
        json={
            "service_request_id": "SH12345-OUTBOX-1",
            "service_code": "facility",
            "description": "宛平南路88弄路灯不亮",
            "unit_code": STREET,
        },
        headers=operations.auth,
    )
    assert sent.status_code == 201, sent.text
    case_id = sent.json()["case_id"]
    xuhui.step(xuhui.street, case_id, "reassign", unit_code=WANPING, note="请居委处理")
    xuhui.step(xuhui.cadre, case_id, "accept")

    from shequyun.events import OutboxEvent  # the kernel's outbox, read as an operator would

    platform = xuhui.client.app.state.platform
    with platform.session() as session:
        updates = [
            read_update(e.payload)
            for e in session.exec(
                select(OutboxEvent).where(OutboxEvent.type == CASE_UPDATED).order_by(OutboxEvent.id)  # type: ignore[arg-type]
            )
        ]
    assert [(u["source_ref"], u["step"], u["status"]) for u in updates] == [
        ("SH12345-OUTBOX-1", "dispatch", "pending"),
        ("SH12345-OUTBOX-1", "reassign", "pending"),
        ("SH12345-OUTBOX-1", "accept", "handling"),
    ]
    assert updates[-1]["unit_name"] == "宛平南路居委会"
