"""在线服务: requests land in the committee's queue; replies reach the resident."""

from __future__ import annotations

from datetime import date, timedelta

from .conftest import API, WEIFANG1, WEIFANG2


def test_a_request_goes_to_the_committee_and_the_resident_follows_it(town):
    wang = town.verified(town.resident("王秀英"))
    sent = wang.post(
        "/requests", {"category": "报修", "title": "楼道灯不亮", "body": "12号楼3单元二楼"}
    )
    assert sent.status_code == 201, sent.text
    request = sent.json()
    assert request["status"] == "submitted" and request["committee"] == "潍坊一村居委会"
    assert request["due_on"] == (date.today() + timedelta(days=5)).isoformat() or request["due_on"]

    cadre = town.cadre(WEIFANG1)
    queue = town.client.get(f"{API}/manage/requests", headers=cadre.auth).json()["items"]
    assert [r["title"] for r in queue] == ["楼道灯不亮"]
    assert (
        town.client.get(f"{API}/manage/requests", headers=town.cadre(WEIFANG2).auth).json()["items"]
        == []
    )

    replied = town.client.post(
        f"{API}/manage/requests/{request['id']}/replies",
        headers=cadre.auth,
        json={"body": "已通知物业，明天更换", "status": "in_progress"},
    )
    assert replied.status_code == 201, replied.text
    mine = wang.get(f"/requests/{request['id']}").json()
    assert mine["status"] == "in_progress"
    assert [r["body"] for r in mine["replies"]] == ["已通知物业，明天更换"]
    assert wang.get("/notifications").json()["items"][0]["kind"] == "request.replied"


def test_requests_are_private_to_their_resident(town):
    wang = town.verified(town.resident("王秀英"))
    li = town.verified(town.resident("李建国"))
    request = wang.post(
        "/requests", {"category": "certificate", "title": "开居住证明", "body": "办理入学"}
    ).json()
    assert li.get(f"/requests/{request['id']}").status_code == 404
    assert li.get("/requests").json()["items"] == []


def test_bad_requests_name_their_fields_and_unverified_accounts_cannot_ask(town):
    wang = town.verified(town.resident("王秀英"))
    bad = wang.post("/requests", {"category": "投诉", "title": "", "body": ""})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"category", "title", "body"}
    assert wang.get("/requests").json()["items"] == []
    stranger = town.account("13900000002")
    refused = stranger.post("/requests", {"category": "help", "title": "求助", "body": "需要帮助"})
    assert refused.status_code == 403


def test_a_closed_request_takes_no_more_replies(town):
    wang = town.verified(town.resident("王秀英"))
    request = wang.post(
        "/requests", {"category": "help", "title": "代买药品", "body": "腿脚不便"}
    ).json()
    cadre = town.cadre()
    town.client.post(
        f"{API}/manage/requests/{request['id']}/replies",
        headers=cadre.auth,
        json={"body": "志愿者已送达", "status": "done"},
    )
    again = town.client.post(
        f"{API}/manage/requests/{request['id']}/replies", headers=cadre.auth, json={"body": "补充"}
    )
    assert again.status_code == 409
    assert wang.post(f"/requests/{request['id']}/replies", {"body": "谢谢"}).status_code == 409
