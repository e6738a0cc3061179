"""居社互动 on the dashboards: verified residents, turnout and open requests, up the tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shequyun_interaction.models import ServiceRequest
from sqlmodel import Session

from .conftest import API, WEIFANG1, WEIFANG2

STREET = "310115004000"  # 潍坊新村街道


def figures(town, name, unit=STREET):
    street = town.actors.street_admin(STREET)
    body = town.client.get(f"/api/v1/indicators/units/{unit}/{name}", headers=street.auth)
    assert body.status_code == 200, body.text
    panel = body.json()["indicator"]
    return panel["unit"], {c["unit"]["code"]: c for c in panel["children"]}


def test_verified_residents_over_residents(town):
    first = [town.resident(f"一村{i}") for i in range(3)]
    town.resident("二村甲", unit=WEIFANG2)
    town.verified(first[0])
    town.verified(first[1])
    town.account(first[2].phone)  # signed up, never verified: does not count
    unit, committees = figures(town, "interaction.verified_share")
    assert (unit["value"], unit["base"]) == (2, 4)
    assert committees[WEIFANG1]["figure"] == pytest.approx(200 / 3)
    assert committees[WEIFANG2]["figure"] == 0


def test_turnout_is_all_ballots_over_all_electorates(town):
    voters = [town.verified(town.resident(f"一村{i}", household=f"H1-{i}")) for i in range(4)]
    town.resident("二村甲", unit=WEIFANG2, household="H2-1")
    voter2 = town.verified(town.resident("二村乙", unit=WEIFANG2, household="H2-2"))
    one = town.topic()
    two = town.topic(unit=WEIFANG2)
    voters[0].put(f"/topics/{one['id']}/ballot", {"option": 0})
    voter2.put(f"/topics/{two['id']}/ballot", {"option": 0})
    voter2.put(f"/topics/{two['id']}/ballot", {"option": 1})  # a changed vote counts once
    for topic, unit in ((one, WEIFANG1), (two, WEIFANG2)):
        closed = town.client.post(
            f"{API}/manage/topics/{topic['id']}/close", headers=town.cadre(unit).auth
        )
        assert closed.status_code == 200, closed.text
    unit, committees = figures(town, "interaction.turnout")
    # 1 of 4 in 一村 (25%), 1 of 2 in 二村 (50%): the street is 2 of 6, not the mean 37.5%.
    assert (unit["value"], unit["base"]) == (2, 6)
    assert unit["figure"] == pytest.approx(100 * 2 / 6)
    assert committees[WEIFANG1]["figure"] == 25.0 and committees[WEIFANG2]["figure"] == 50.0


def test_open_requests_and_how_long_they_have_waited(town, shequyun_kernel):
    wang = town.verified(town.resident("王秀英"))
    li = town.verified(town.resident("李四", unit=WEIFANG2))
    made = [
        wang.post("/requests", {"category": "repair", "title": "楼道灯不亮", "body": "三楼"}),
        wang.post("/requests", {"category": "help", "title": "代买药品", "body": "腿脚不便"}),
        li.post("/requests", {"category": "certificate", "title": "居住证明", "body": "入学"}),
    ]
    ids = [r.json()["id"] for r in made]
    now = datetime.now(UTC)
    with Session(shequyun_kernel.engine) as session:  # made 4, 2 and 6 days ago
        for request_id, days in zip(ids, (4, 2, 6), strict=True):
            row = session.get(ServiceRequest, request_id)
            row.created_at = now - timedelta(days=days)
            session.add(row)
        session.commit()
    town.client.post(
        f"{API}/manage/requests/{ids[1]}/replies",
        headers=town.cadre().auth,
        json={"body": "已送达", "status": "done"},
    )
    count, committees = figures(town, "interaction.open_requests")
    assert count["figure"] == 2
    assert committees[WEIFANG1]["figure"] == 1 and committees[WEIFANG2]["figure"] == 1
    age, _ = figures(town, "interaction.open_request_age")
    assert age["base"] == 2
    assert age["figure"] == pytest.approx(5.0, abs=0.01)  # (4 + 6) / 2 days


def test_bureau_staff_do_not_read_the_plugins_indicators(town):
    bureau = town.actors.bureau("310000000000")
    listed = town.client.get("/api/v1/indicators", headers=bureau.auth).json()["indicators"]
    assert not [i for i in listed if i["plugin"] == "interaction"]
    assert [i for i in listed if i["plugin"] == "residents"]
