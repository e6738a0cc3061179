"""Tests for the hello plugin, run inside a real kernel by the SDK's harness."""

from __future__ import annotations


def test_plugin_is_active(shequyun_client, shequyun_actors):
    admin = shequyun_actors.platform_admin()  # administrators also see why a plugin failed
    plugins = shequyun_client.get("/api/v1/plugins", headers=admin.auth).json()["plugins"]
    mine = next(p for p in plugins if p["name"] == "hello")
    assert mine["state"] == "active", mine["reason"]


def test_post_and_list_messages(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    created = shequyun_client.post(
        "/api/v1/plugins/hello/messages", json={"text": "你好"}, headers=cadre.auth
    )
    assert created.status_code == 201
    listed = shequyun_client.get("/api/v1/plugins/hello/messages").json()
    assert [m["text"] for m in listed["messages"]] == ["你好"]


def test_anonymous_visitors_may_read_but_not_post(shequyun_client):
    refused = shequyun_client.post("/api/v1/plugins/hello/messages", json={"text": "广告"})
    assert refused.status_code == 401
    assert shequyun_client.get("/api/v1/plugins/hello/messages").json()["messages"] == []


def test_empty_message_is_refused_with_the_field_named(shequyun_client, shequyun_actors):
    response = shequyun_client.post(
        "/api/v1/plugins/hello/messages", json={"text": " "}, headers=shequyun_actors.cadre().auth
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "text"
    assert shequyun_client.get("/api/v1/plugins/hello/messages").json()["messages"] == []


def test_page_is_in_the_portal_with_a_nav_entry(shequyun_client, shequyun_actors):
    shequyun_client.post(
        "/api/v1/plugins/hello/messages",
        json={"text": "楼道灯坏了"},
        headers=shequyun_actors.cadre().auth,
    )
    page = shequyun_client.get("/plugins/hello/")
    assert page.status_code == 200
    assert "楼道灯坏了" in page.text
    # Anyone may read the board; its navigation entry is for those who may post.
    assert 'href="/plugins/hello/"' not in page.text
    staff = shequyun_actors.cadre().portal().get("/plugins/hello/")
    assert 'href="/plugins/hello/"' in staff.text


def test_the_page_speaks_english_through_the_plugins_catalog(shequyun_client):
    shequyun_client.cookies.set("shequyun_lang", "en")
    page = shequyun_client.get("/plugins/hello/").text
    assert "<h1>Message board</h1>" in page
    assert "No messages yet." in page
