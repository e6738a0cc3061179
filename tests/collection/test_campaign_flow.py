"""A bureau's roster campaign to one district, end to end, as the issue's "done when" says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from shequyun.collection.models import Campaign

from ..residents._data import id_number, resident
from ._forms import COMMITTEE_COUNT, ELDERLY_VISIT, deadline


def publish(client, publisher, form, **campaign):
    created = client.post(
        "/api/v1/forms", json={"title": "高龄独居老人走访", **form}, headers=publisher.auth
    )
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    published = client.post(f"/api/v1/forms/{form_id}/versions/1/publish", headers=publisher.auth)
    assert published.status_code == 200, published.text
    opened = client.post(
        "/api/v1/campaigns",
        json={"form_id": form_id, "version": 1, "deadline": deadline(), **campaign},
        headers=publisher.auth,
    )
    assert opened.status_code == 201, opened.text
    return form_id, opened.json()


def register_elder(client, cadre, serial, **extra):
    response = client.post(
        "/api/v1/residents",
        json=resident(
            name=f"老人{serial}",
            id_number=id_number(born="19360101", serial=serial),
            address=None,
            household_number=None,
            tags=["独居老人"],
            **extra,
        ),
        headers=cadre.auth,
    )
    assert response.status_code == 201, response.text
    return response.json()


def task_of(client, cadre):
    (task,) = client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    return client.get(f"/api/v1/tasks/{task['id']}", headers=cadre.auth).json()


def test_a_roster_campaign_to_one_district(shequyun_client, shequyun_actors):
    client = shequyun_client
    bureau = shequyun_actors.bureau("310000000000")
    one = shequyun_actors.cadre("310115004001")
    two = shequyun_actors.cadre("310115005001")
    outsider = shequyun_actors.cadre("310104003001")
    street = shequyun_actors.street_admin("310115005000")
    elder_a = register_elder(client, one, "014")
    register_elder(client, two, "024")
    register_elder(client, two, "034")
    client.post(
        "/api/v1/residents",
        json=resident(
            name="年轻人",
            id_number=id_number(born="19900101", serial="044"),
            tags=[],
            address=None,
            household_number=None,
        ),
        headers=two.auth,
    )

    _form_id, campaign = publish(
        client,
        bureau,
        ELDERLY_VISIT,
        targets=["310115000000"],
        mode="roster",
        roster_filter={"tags": ["独居老人"], "age_min": 80},
        writeback={"phone": "phone"},
    )
    assert campaign["tasks"] == 3  # every committee of 浦东 in the test tree
    url = f"/api/v1/campaigns/{campaign['id']}"

    # Committee one: prefilled roster, one field error fixed, submitted on time.
    task = task_of(client, one)
    assert [r["id"] for r in task["roster"]] == [elder_a["id"]]
    bad = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=one.auth,
        json={
            "client_key": "one-attempt-1",
            "data": {"rows": [{"resident_id": elder_a["id"], "visited": True, "living": "独自"}]},
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "rows[0].living"
    good = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=one.auth,
        json={
            "client_key": "one-attempt-2",
            "data": {
                "rows": [
                    {
                        "resident_id": elder_a["id"],
                        "visited": True,
                        "living": "独居",
                        "needs": ["助餐"],
                        "phone": "13611112222",
                    }
                ]
            },
        },
    )
    assert good.status_code == 201, good.text
    assert good.json()["on_time"] is True
    # The confirmed phone went back to the resident record, with history.
    record = client.get(f"/api/v1/residents/{elder_a['id']}", headers=one.auth).json()
    assert record["phone"] == "136****2222"
    history = client.get(f"/api/v1/residents/{elder_a['id']}/history", headers=one.auth).json()
    assert any(c["field"] == "phone" and c["source"] == "collection" for c in history["changes"])

    # Committee two submits, the street returns it, it resubmits.
    task2 = task_of(client, two)
    rows = [
        {"resident_id": r["id"], "visited": True, "living": "与子女同住", "needs": ["助医"]}
        for r in task2["roster"]
    ]
    assert len(rows) == 2
    first = client.post(
        f"/api/v1/tasks/{task2['id']}/submit",
        headers=two.auth,
        json={"client_key": "two-attempt-1", "data": {"rows": rows}},
    )
    assert first.status_code == 201
    assert (
        client.post(
            f"/api/v1/tasks/{task2['id']}/return",
            headers=street.auth,
            json={"comment": "请核实居住情况"},
        ).json()["status"]
        == "returned"
    )
    progress = client.get(f"{url}/progress?level=street", headers=bureau.auth).json()
    assert progress["total"]["submitted"] == 1 and progress["total"]["returned"] == 1
    results = client.get(f"{url}/results?level=district", headers=bureau.auth).json()
    assert results["total"]["submissions"] == 1  # the returned one is left out
    rows[0]["living"] = "独居"
    again = client.post(
        f"/api/v1/tasks/{task2['id']}/submit",
        headers=two.auth,
        json={"client_key": "two-attempt-2", "data": {"rows": rows}},
    )
    assert again.status_code == 201
    history = client.get(f"/api/v1/tasks/{task2['id']}", headers=two.auth).json()["history"]
    assert [h["action"] for h in history] == ["submitted", "returned", "resubmitted"]

    # Progress and results at every level.
    by_district = client.get(f"{url}/progress?level=district", headers=bureau.auth).json()
    assert by_district["total"] | {"completion": None} == {
        "expected": 3,
        "not_started": 1,
        "draft": 0,
        "submitted": 2,
        "returned": 0,
        "on_time": 2,
        "late": 0,
        "overdue": 0,
        "completion": None,
    }
    assert [g["unit"]["name"] for g in by_district["groups"]] == ["浦东新区"]
    by_street = client.get(f"{url}/progress?level=street", headers=bureau.auth).json()
    assert {g["unit"]["name"]: g["submitted"] for g in by_street["groups"]} == {
        "潍坊新村街道": 1,
        "陆家嘴街道": 1,
    }
    by_committee = client.get(
        f"{url}/progress?level=committee&within=310115004000", headers=bureau.auth
    ).json()
    assert {g["unit"]["name"]: g["completion"] for g in by_committee["groups"]} == {
        "潍坊一村居委会": 1.0,
        "潍坊二村居委会": 0.0,
    }
    results = client.get(f"{url}/results?level=street", headers=bureau.auth).json()
    living = next(q for q in results["total"]["questions"] if q["column"] == "living")
    assert living["distribution"] == {"独居": 2, "与子女同住": 1}
    needs = next(q for q in results["total"]["questions"] if q["column"] == "needs")
    assert needs["distribution"] == {"助医": 2, "助餐": 1}
    # The street sees its own part only.
    street_view = client.get(f"{url}/progress?level=committee", headers=street.auth).json()
    assert [g["unit"]["name"] for g in street_view["groups"]] == ["梅园一村居委会"]

    # A cadre of another district sees no task and gets 404 on every campaign URL.
    assert client.get("/api/v1/tasks", headers=outsider.auth).json()["items"] == []
    for path in ("", "/progress", "/results", "/export", "/submissions", "/overdue"):
        assert client.get(f"{url}{path}", headers=outsider.auth).status_code in (403, 404)
    assert client.get(url, headers=outsider.auth).status_code == 404
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=outsider.auth).status_code == 404

    # The export has every submitted row, with Chinese headers and a BOM.
    export = client.get(f"{url}/export", headers=bureau.auth)
    assert export.content.startswith("\ufeff".encode())
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "区,街镇,居村委编码,居村委,提交时间,是否按时,居民编号,是否已上门走访,居住情况"
    )
    assert len(lines) == 1 + 3


def test_a_late_submission_counts_as_late_and_overdue_units_are_listed(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    _, campaign = publish(client, bureau, COMMITTEE_COUNT, targets=["310104003000"])
    with Session(shequyun_kernel.engine) as session:
        row = session.get(Campaign, campaign["id"])
        row.deadline = datetime.now(UTC) - timedelta(hours=1)
        session.add(row)
        session.commit()
    url = f"/api/v1/campaigns/{campaign['id']}"
    overdue = client.get(f"{url}/overdue", headers=bureau.auth).json()["items"]
    assert {o["unit"]["name"] for o in overdue} == {"宛平南路居委会", "建国西路居委会"}
    assert client.get(f"{url}/progress", headers=bureau.auth).json()["total"]["overdue"] == 2
    task = task_of(client, cadre)
    late = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": "late-key-0001", "data": {"households": 812}},
    )
    assert late.json()["on_time"] is False
    total = client.get(f"{url}/progress", headers=bureau.auth).json()["total"]
    assert (total["late"], total["overdue"], total["submitted"]) == (1, 1, 1)
    reminded = client.post(f"{url}/remind", headers=bureau.auth).json()
    assert reminded == {"reminded": 1}


def test_publishers_cannot_target_outside_their_grant(shequyun_client, shequyun_actors):
    district = shequyun_actors.district_admin("310115000000")
    created = shequyun_client.post(
        "/api/v1/forms", json={"title": "户数统计", **COMMITTEE_COUNT}, headers=district.auth
    ).json()
    shequyun_client.post(f"/api/v1/forms/{created['id']}/versions/1/publish", headers=district.auth)
    refused = shequyun_client.post(
        "/api/v1/campaigns",
        headers=district.auth,
        json={
            "form_id": created["id"],
            "version": 1,
            "deadline": deadline(),
            "targets": ["310104000000"],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "targets"
