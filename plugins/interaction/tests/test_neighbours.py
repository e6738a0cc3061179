"""邻里互动: posts among neighbours, reports, automatic hiding and the moderation queue."""

from __future__ import annotations

import pytest

from .conftest import API, WEIFANG1, WEIFANG2


@pytest.fixture
def neighbours(town):
    return [town.verified(town.resident(f"邻居{i}", room=f"30{i}")) for i in range(4)]


def test_posts_are_seen_by_the_committees_verified_residents_only(town, neighbours):
    posted = neighbours[0].post("/posts", {"body": "周六上午小区义剪，欢迎参加"})
    assert posted.status_code == 201, posted.text
    assert [p["body"] for p in neighbours[1].get("/posts").json()["items"]] == [
        "周六上午小区义剪，欢迎参加"
    ]
    far = town.verified(town.resident("赵先生", unit=WEIFANG2))
    assert far.get("/posts").json()["items"] == []
    unverified = town.account("13900000001")
    assert unverified.get("/posts").json()["items"] == []
    assert unverified.post("/posts", {"body": "你好邻居"}).status_code == 403


def test_a_post_hides_itself_after_three_reports_and_a_moderator_restores_it(town, neighbours):
    post = neighbours[0].post("/posts", {"body": "有人在楼道堆放杂物"}).json()
    for app in neighbours[1:3]:
        answer = app.post(
            "/reports", {"target_type": "post", "target_id": post["id"], "reason": "不实"}
        )
        assert answer.json() == {"hidden": False}
    third = neighbours[3].post("/reports", {"target_type": "post", "target_id": post["id"]})
    assert third.json() == {"hidden": True}
    assert neighbours[1].get("/posts").json()["items"] == []

    cadre = town.cadre()
    queue = town.client.get(f"{API}/manage/moderation", headers=cadre.auth).json()["items"]
    assert [(i["target_id"], i["status"], i["reports"]) for i in queue] == [
        (post["id"], "hidden", 3)
    ]
    decided = town.client.post(
        f"{API}/manage/moderation/post/{post['id']}",
        headers=cadre.auth,
        json={"decision": "restore", "note": "经核实属实"},
    )
    assert decided.status_code == 201, decided.text
    assert [p["id"] for p in neighbours[1].get("/posts").json()["items"]] == [post["id"]]
    assert town.client.get(f"{API}/manage/moderation", headers=cadre.auth).json()["items"] == []
    admin = town.actors.platform_admin()
    log = town.client.get("/api/v1/audit?action=interaction.moderated", headers=admin.auth).json()
    assert log["items"][0]["detail"] == {"decision": "restore", "note": "经核实属实"}
    assert log["items"][0]["actor_username"] == cadre.username


@pytest.mark.parametrize(
    "shequyun_settings", [{"plugin_settings": {"interaction": {"auto_hide_reports": 1}}}]
)
def test_the_number_of_reports_is_a_setting(town, neighbours):
    post = neighbours[0].post("/posts", {"body": "广告：低价出租车位"}).json()
    hidden = neighbours[1].post("/reports", {"target_type": "post", "target_id": post["id"]})
    assert hidden.json() == {"hidden": True}


def test_a_resident_reports_an_item_once(town, neighbours):
    post = neighbours[0].post("/posts", {"body": "求购二手婴儿车"}).json()
    assert (
        neighbours[1].post("/reports", {"target_type": "post", "target_id": post["id"]}).status_code
        == 201
    )
    again = neighbours[1].post("/reports", {"target_type": "post", "target_id": post["id"]})
    assert again.status_code == 409


def test_comments_can_be_reported_and_removed(town, neighbours, drain_events):
    post = neighbours[0].post("/posts", {"body": "谁家的猫走丢了？"}).json()
    assert (
        neighbours[1].post(f"/posts/{post['id']}/comments", {"body": "骂人的话"}).status_code == 201
    )
    comment = neighbours[0].get("/posts").json()["items"][0]["comments"][0]
    for app in (neighbours[0], neighbours[2], neighbours[3]):
        app.post("/reports", {"target_type": "comment", "target_id": comment["id"]})
    assert neighbours[0].get("/posts").json()["items"][0]["comments"] == []
    removed = town.client.post(
        f"{API}/manage/moderation/comment/{comment['id']}",
        headers=town.cadre().auth,
        json={"decision": "remove", "note": "不文明用语"},
    )
    assert removed.status_code == 201
    titles = [n["title"] for n in neighbours[1].get("/notifications").json()["items"]]
    assert any("已删除" in t for t in titles)


def test_moderators_reach_only_their_own_committee(town, neighbours):
    post = neighbours[0].post("/posts", {"body": "楼下施工太吵"}).json()
    other = town.cadre(WEIFANG2)
    assert town.client.get(f"{API}/manage/moderation", headers=other.auth).json()["items"] == []
    refused = town.client.post(
        f"{API}/manage/moderation/post/{post['id']}",
        headers=other.auth,
        json={"decision": "remove"},
    )
    assert refused.status_code == 404
    assert town.cadre(WEIFANG1)  # the own committee's cadre exists and sees nothing unreported
