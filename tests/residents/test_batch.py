"""Batch actions on residents (批量操作): tags added to or taken off several residents at once,
all or nothing, and a selection downloaded through the export's ``id`` filter."""

from __future__ import annotations

from sqlmodel import Session, select

from shequyun.events import OutboxEvent
from shequyun.identity.models import AuditEntry
from shequyun.residents.models import Resident, ResidentChange

from ._data import id_number, resident

W1, W2 = "310115004001", "310115004002"
BATCH = "/api/v1/residents/batch/tags"


def create(client, actor, serial: str, **overrides) -> dict:
    body = resident(id_number=id_number(serial=serial), **overrides)
    made = client.post("/api/v1/residents", json=body, headers=actor.auth)
    assert made.status_code == 201, made.text
    return made.json()


def tags_of(client, actor, resident_id: int) -> list[str]:
    return client.get(f"/api/v1/residents/{resident_id}", headers=actor.auth).json()["tags"]


def test_a_cadre_tags_several_residents_at_once_with_history_audit_and_events(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre(W1)
    wang = create(shequyun_client, cadre, "101", name="王秀英", tags=["独居老人"])
    li = create(shequyun_client, cadre, "102", name="李建国", tags=["志愿者"])
    zhao = create(shequyun_client, cadre, "103", name="赵丽", tags=["重点关注"])
    answer = shequyun_client.post(
        BATCH,
        json={"resident_ids": [wang["id"], li["id"], zhao["id"]], "add": ["重点关注"]},
        headers=cadre.auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"changed": [wang["id"], li["id"]], "unchanged": [zhao["id"]]}
    assert tags_of(shequyun_client, cadre, wang["id"]) == ["独居老人", "重点关注"]
    assert tags_of(shequyun_client, cadre, li["id"]) == ["志愿者", "重点关注"]

    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang["id"]).version == 2
        assert session.get(Resident, zhao["id"]).version == 1  # nothing to change
        change = session.exec(
            select(ResidentChange).where(
                ResidentChange.resident_id == wang["id"], ResidentChange.version == 2
            )
        ).one()
        assert (change.field, change.old_value, change.new_value) == (
            "tags",
            "独居老人",
            "独居老人、重点关注",
        )
        assert change.source == "api" and change.actor_username == cadre.user.username
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "resident.updated")
        ).all()
        assert sorted(e.target_id for e in entries) == sorted([str(wang["id"]), str(li["id"])])
        assert entries[0].detail["added"] == ["重点关注"] and entries[0].detail["batch"] == 3
        events = session.exec(
            select(OutboxEvent).where(OutboxEvent.type == "resident.updated")
        ).all()
        assert sorted(e.payload["resident_id"] for e in events) == sorted([wang["id"], li["id"]])
        assert all(e.payload["fields"] == ["tags"] for e in events)

    off = shequyun_client.post(
        BATCH,
        json={"resident_ids": [wang["id"], li["id"]], "remove": ["重点关注"]},
        headers=cadre.auth,
    )
    assert off.json() == {"changed": [wang["id"], li["id"]], "unchanged": []}
    assert tags_of(shequyun_client, cadre, li["id"]) == ["志愿者"]


def test_one_resident_out_of_reach_stops_the_batch_and_every_problem_is_listed(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre, neighbour = shequyun_actors.cadre(W1), shequyun_actors.cadre(W2)
    wang = create(shequyun_client, cadre, "111", name="王秀英", tags=[])
    gone = create(shequyun_client, cadre, "112", name="钱二", tags=[])
    shequyun_client.request(
        "DELETE",
        f"/api/v1/residents/{gone['id']}",
        json={"version": 1, "reason": "已故"},
        headers=cadre.auth,
    )
    far = create(shequyun_client, neighbour, "113", name="孙三", tags=[])
    answer = shequyun_client.post(
        BATCH,
        json={"resident_ids": [wang["id"], gone["id"], far["id"], 2**40], "add": ["志愿者"]},
        headers=cadre.auth,
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["message"] == "有 3 位居民无法处理，未做任何修改"
    assert [(d["field"], d["message"]) for d in error["details"]] == [
        ("resident_ids.1", "该居民已注销"),
        ("resident_ids.2", "找不到该居民，或您无权修改"),
        ("resident_ids.3", "找不到该居民，或您无权修改"),
    ]
    assert error["details"][0]["name"] == "钱二"
    assert "name" not in error["details"][1]  # a neighbour committee's resident stays unnamed
    assert tags_of(shequyun_client, cadre, wang["id"]) == []  # nothing written
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang["id"]).version == 1


def test_bad_batches_are_refused_naming_the_field(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    wang = create(shequyun_client, cadre, "121", tags=[])

    def refused(body) -> tuple[int, str]:
        answer = shequyun_client.post(BATCH, json=body, headers=cadre.auth)
        return answer.status_code, answer.json()["error"].get("field")

    assert refused({"resident_ids": [], "add": ["志愿者"]}) == (422, "resident_ids")
    assert refused({"resident_ids": list(range(1, 202)), "add": ["志愿者"]}) == (
        422,
        "resident_ids",
    )
    assert refused({"resident_ids": [wang["id"], True], "add": ["志愿者"]}) == (
        422,
        "resident_ids.1",
    )
    assert refused({"resident_ids": [wang["id"]], "add": ["不存在"]}) == (422, "add")
    assert refused({"resident_ids": [wang["id"]]}) == (422, "add")
    assert refused({"resident_ids": [wang["id"]], "add": ["党员"], "remove": ["党员"]}) == (
        422,
        "remove",
    )
    assert refused({"resident_ids": "1", "add": ["志愿者"]}) == (422, "resident_ids")
    assert tags_of(shequyun_client, cadre, wang["id"]) == []


def test_without_write_permission_a_batch_is_forbidden(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    wang = create(shequyun_client, cadre, "131", tags=[])
    bureau = shequyun_actors.bureau()
    answer = shequyun_client.post(
        BATCH, json={"resident_ids": [wang["id"]], "add": ["志愿者"]}, headers=bureau.auth
    )
    assert answer.status_code == 403
    assert (
        shequyun_client.post(
            BATCH, json={"resident_ids": [wang["id"]], "add": ["志愿者"]}
        ).status_code
        == 401
    )


def test_a_selection_is_exported_and_searched_by_its_ids(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    wang = create(shequyun_client, cadre, "141", name="王秀英")
    create(shequyun_client, cadre, "142", name="李建国")
    zhao = create(shequyun_client, cadre, "143", name="赵丽")
    far = create(shequyun_client, shequyun_actors.cadre(W2), "144", name="孙三")
    chosen = [("id", wang["id"]), ("id", zhao["id"]), ("id", far["id"])]
    listed = shequyun_client.get("/api/v1/residents", params=chosen, headers=cadre.auth).json()
    assert sorted(r["name"] for r in listed["items"]) == ["王秀英", "赵丽"]  # 孙三 out of reach
    exported = shequyun_client.get(
        "/api/v1/residents/export",
        params=[*chosen, ("purpose", "慰问名单"), ("columns", "name")],
        headers=cadre.auth,
    )
    assert exported.status_code == 200, exported.text
    assert exported.content.decode("utf-8-sig").splitlines() == ["姓名", "王秀英", "赵丽"]
    too_many = shequyun_client.get(
        "/api/v1/residents", params=[("id", i) for i in range(1, 202)], headers=cadre.auth
    )
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "id"
    nobody = [("id", 2**40), ("id", 2**31)]
    assert (
        shequyun_client.get("/api/v1/residents", params=nobody, headers=cadre.auth).json()["items"]
        == []
    )
    bad = shequyun_client.get("/api/v1/residents", params={"id": "x"}, headers=cadre.auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "id.0"
