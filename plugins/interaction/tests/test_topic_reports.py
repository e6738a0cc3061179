"""Reporting 议事厅 comments: hidden after enough reports, moderated next to posts."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from .conftest import API, WEIFANG2
from .test_pages import BASE, resident_browser, submit


@pytest.fixture
def hall(town):
    """An open topic and four residents of the committee."""
    apps = [town.verified(town.resident(f"居民{i}", room=f"60{i}")) for i in range(4)]
    return town.topic(), apps


def comment(app, topic, body="电梯噪音会影响低层住户", stance="against"):
    made = app.post(f"/topics/{topic['id']}/comments", {"stance": stance, "body": body})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def report(app, comment_id, reason="人身攻击"):
    return app.post(
        "/reports", {"target_type": "topic_comment", "target_id": comment_id, "reason": reason}
    )


def test_a_topic_comment_hides_after_three_reports_and_a_moderator_restores_it(town, hall):
    topic, apps = hall
    comment_id = comment(apps[0], topic)
    assert [c["id"] for c in apps[1].get(f"/topics/{topic['id']}").json()["comments"]] == [
        comment_id
    ]
    assert [report(app, comment_id).json() for app in apps[1:]] == [
        {"hidden": False},
        {"hidden": False},
        {"hidden": True},
    ]
    seen = apps[1].get(f"/topics/{topic['id']}").json()
    assert seen["comments"] == [] and seen["stances"]["against"] == 0

    cadre = town.cadre()
    queue = town.client.get(f"{API}/manage/moderation", headers=cadre.auth).json()["items"]
    assert [(i["target_type"], i["target_id"], i["status"], i["reports"]) for i in queue] == [
        ("topic_comment", comment_id, "hidden", 3)
    ]
    assert queue[0]["topic"] == {"id": topic["id"], "title": topic["title"]}
    assert queue[0]["reasons"] == ["人身攻击"] * 3
    restored = town.client.post(
        f"{API}/manage/moderation/topic_comment/{comment_id}",
        headers=cadre.auth,
        json={"decision": "restore", "note": "属正常意见"},
    )
    assert restored.status_code == 201, restored.text
    assert [c["id"] for c in apps[2].get(f"/topics/{topic['id']}").json()["comments"]] == [
        comment_id
    ]
    assert town.client.get(f"{API}/manage/moderation", headers=cadre.auth).json()["items"] == []
    admin = town.actors.platform_admin()
    log = town.client.get("/api/v1/audit?action=interaction.moderated", headers=admin.auth).json()
    entry = log["items"][0]
    assert (entry["target_type"], entry["target_id"]) == (
        "interaction_topic_comment",
        str(comment_id),
    )
    assert entry["detail"] == {"decision": "restore", "note": "属正常意见"}


def test_a_resident_reports_a_topic_comment_once(hall):
    topic, apps = hall
    comment_id = comment(apps[0], topic)
    assert report(apps[1], comment_id).status_code == 201
    again = report(apps[1], comment_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"


def test_removing_a_topic_comment_tells_its_author(town, hall):
    topic, apps = hall
    comment_id = comment(apps[0], topic, body="某某是骗子")
    report(apps[1], comment_id)
    removed = town.client.post(
        f"{API}/manage/moderation/topic_comment/{comment_id}",
        headers=town.cadre().auth,
        json={"decision": "remove", "note": "人身攻击"},
    )
    assert removed.status_code == 201
    notices = apps[0].get("/notifications").json()["items"]
    assert any(n["link"] == f"/topics/{topic['id']}" and "已删除" in n["title"] for n in notices)
    assert apps[0].get(f"/topics/{topic['id']}").json()["comments"] == []
    assert report(apps[2], comment_id).status_code == 404  # removed: nothing to report


def test_topic_comments_stay_inside_their_committee(town, hall):
    topic, apps = hall
    comment_id = comment(apps[0], topic)
    far = town.verified(town.resident("赵先生", unit=WEIFANG2))
    assert report(far, comment_id).status_code == 404
    report(apps[1], comment_id)
    other = town.cadre(WEIFANG2)
    assert town.client.get(f"{API}/manage/moderation", headers=other.auth).json()["items"] == []
    refused = town.client.post(
        f"{API}/manage/moderation/topic_comment/{comment_id}",
        headers=other.auth,
        json={"decision": "remove"},
    )
    assert refused.status_code == 404


@pytest.mark.parametrize(
    "shequyun_settings", [{"plugin_settings": {"interaction": {"auto_hide_reports": 1}}}]
)
def test_reporting_from_the_topic_page_and_moderating_from_the_queue_page(
    town, hall, shequyun_actors
):
    topic, apps = hall
    comment_id = comment(apps[0], topic, body="广告：低价装修，电话 138xxxx")
    browser = resident_browser(town, town.resident("钱阿姨", room="701"))
    page_url = f"{BASE}/topics/{topic['id']}"
    assert f'<li id="comment-{comment_id}">' in browser.get(page_url).text
    sent = submit(browser, page_url, {"action": "report", "target_id": str(comment_id)})
    assert sent.status_code == 303
    after = browser.get(sent.headers["location"]).text
    assert "已收到您的举报" in after and "低价装修" not in after
    again = submit(browser, page_url, {"action": "report", "target_id": str(comment_id)})
    assert again.status_code == 404  # hidden now: not there to report

    portal = shequyun_actors.cadre().portal()
    queue = portal.get(f"{BASE}/manage/moderation").text
    assert "议题意见" in queue and topic["title"] in queue and "低价装修" in queue
    manage_topic = portal.get(f"{BASE}/manage/topics/{topic['id']}").text
    assert "被举报隐藏，待审核" in manage_topic
    decided = portal.post(
        f"{BASE}/manage/moderation",
        data={"target_type": "topic_comment", "target_id": str(comment_id), "decision": "remove"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert f"议题意见 #{comment_id}" in portal.get(f"{BASE}/manage/moderation").text


def test_the_migration_places_existing_topic_comments_in_their_committee(shequyun_kernel, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = shequyun_kernel.migrations.config(engine)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "interaction_0001")
            connection.execute(
                text(
                    "INSERT INTO interaction_topic (id, unit_id, unit_code, unit_name, title,"
                    " body, options, scope_kind, scope_values, rule, secret, opens_at, closes_at,"
                    " status, created_by, created_at) VALUES (7, 230, '310115004001', '一村',"
                    " 't', 'b', '[]', 'committee', '[]', 'resident', 0, '2026-01-01',"
                    " '2026-02-01', 'open', 'c', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO interaction_topic_comment (topic_id, resident_id, author, stance,"
                    " body, created_at) VALUES (7, 1, '12号楼 王**', 'for', '同意', '2026-01-02')"
                )
            )
            command.upgrade(config, "interaction@head")
            row = connection.execute(
                text("SELECT unit_id, status, report_count FROM interaction_topic_comment")
            ).one()
        assert tuple(row) == (230, "visible", 0)
    finally:
        engine.dispose()
