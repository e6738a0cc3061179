"""Tests for the hello plugin, run inside a real kernel by the SDK's harness."""

from __future__ import annotations


def test_plugin_is_active(shequyun_client, shequyun_actors):
    admin = shequyun_actors.platform_admin()  # administrators also see why a plugin failed
    plugins = shequyun_client.get("/api/v1/plugins", headers=admin.auth).json()["plugins"]
    mine = next(p for p in plugins if p["name"] == "hello")
    assert mine["state"] == "active", mine["reason"]


def test_post_and_list_messages(shequyun_client):
    created = shequyun_client.post("/api/v1/plugins/hello/messages", json={"text": "你好"})
    assert created.status_code == 201
    listed = shequyun_client.get("/api/v1/plugins/hello/messages").json()
    assert [m["text"] for m in listed["messages"]] == ["你好"]


def test_empty_message_is_refused_with_the_field_named(shequyun_client):
    response = shequyun_client.post("/api/v1/plugins/hello/messages", json={"text": " "})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "text"
    assert shequyun_client.get("/api/v1/plugins/hello/messages").json()["messages"] == []


def test_page_is_in_the_portal_with_a_nav_entry(shequyun_client):
    shequyun_client.post("/api/v1/plugins/hello/messages", json={"text": "楼道灯坏了"})
    page = shequyun_client.get("/plugins/hello/")
    assert page.status_code == 200
    assert "楼道灯坏了" in page.text
    assert 'href="/plugins/hello/"' in page.text
