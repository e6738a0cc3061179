"""Collection completeness and punctuality per campaign, added up as ratios of task counts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from shequyun.collection.models import Task

from ..collection._forms import COMMITTEE_COUNT
from ..collection.test_campaign_flow import publish

PUDONG, WEIFANG = "310115000000", "310115004000"


def submit(client, cadre, households):
    (task,) = client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    answer = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": f"indicators-{task['id']}", "data": {"households": households}},
    )
    assert answer.status_code == 201, answer.text
    return task["id"]


def test_completeness_and_punctuality_per_campaign(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    client = shequyun_client
    bureau = shequyun_actors.bureau("310000000000")
    _, campaign = publish(client, bureau, COMMITTEE_COUNT, targets=[PUDONG], title="电梯意愿摸底")
    assert campaign["tasks"] == 3
    one, two = shequyun_actors.cadre("310115004001"), shequyun_actors.cadre("310115004002")
    submit(client, one, 120)
    late = submit(client, two, 80)
    with Session(shequyun_kernel.engine) as session:  # as if it came after the deadline
        task = session.get(Task, late)
        task.on_time = False
        task.submitted_at = datetime.now(UTC)
        session.add(task)
        session.commit()

    district = shequyun_actors.district_admin(PUDONG)
    body = district.client().get(f"/api/v1/indicators/units/{PUDONG}").json()
    panels = {i["indicator"]: i for i in body["indicators"]}
    done = panels["collection.completeness"]
    assert (done["unit"]["value"], done["unit"]["base"]) == (2, 3)
    assert done["keys"] == [{"key": str(campaign["id"]), "label": "电梯意愿摸底"}]
    streets = {c["unit"]["code"]: (c["value"], c["base"]) for c in done["children"]}
    assert streets == {WEIFANG: (2, 2), "310115005000": (0, 1)}
    punctual = panels["collection.on_time"]
    assert (punctual["unit"]["value"], punctual["unit"]["base"]) == (1, 2)
    assert punctual["unit"]["figure"] == 50.0

    # A street sees its own committees for the same campaign, not the other street's.
    street = shequyun_actors.street_admin(WEIFANG).client()
    mine = street.get(f"/api/v1/indicators/units/{WEIFANG}/collection.completeness").json()
    assert mine["indicator"]["unit"]["figure"] == 100.0
    with Session(shequyun_kernel.engine) as session:
        assert len(session.exec(select(Task)).all()) == 3
