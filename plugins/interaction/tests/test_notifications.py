"""Notifications: in-app rows, an event per urgent one for adapters, one digest a day."""

from __future__ import annotations

from typing import ClassVar

import pytest
from shequyun_sdk import Subscriber, hookimpl

from .conftest import API


class Adapter:
    """A delivery adapter (an SMS gateway, say) as another plugin would write it."""

    MANIFEST: ClassVar = {
        "name": "sms_adapter",
        "version": "0.1",
        "title": {"zh": "短信适配器"},
        "description": {"zh": "测试用"},
        "sdk": ">=0.1,<0.2",
    }
    received: ClassVar[list] = []

    @staticmethod
    @hookimpl
    def register_event_subscribers(plugin, platform):
        def deliver(event):
            Adapter.received.append((event.type, dict(event.payload)))

        return [
            Subscriber("interaction.notification", deliver, name="urgent"),
            Subscriber("interaction.digest", deliver, name="digest"),
        ]


@pytest.fixture
def shequyun_plugins():
    Adapter.received.clear()
    return [Adapter]


def test_urgent_notices_go_out_at_once_and_the_rest_once_a_day(town, drain_events):
    wang_record = town.resident("王秀英")
    wang = town.verified(wang_record)
    cadre = town.cadre()
    # Committee announcements and new topics are for the digest...
    town.client.post(
        f"{API}/manage/announcements",
        headers=cadre.auth,
        json={"title": "停电通知", "body": "周三"},
    )
    town.topic()
    # ...a reply to one's own request is urgent.
    request = wang.post(
        "/requests", {"category": "repair", "title": "水管漏水", "body": "厨房"}
    ).json()
    town.client.post(
        f"{API}/manage/requests/{request['id']}/replies",
        headers=cadre.auth,
        json={"body": "师傅下午上门", "status": "accepted"},
    )
    drain_events()
    assert [t for t, _ in Adapter.received] == ["interaction.notification"]
    assert Adapter.received[0][1]["resident_id"] == wang_record.id

    kinds = {n["kind"] for n in wang.get("/notifications").json()["items"]}
    assert kinds == {"announcement", "topic.opened", "request.replied"}

    admin = town.actors.platform_admin()
    run = town.client.post(f"{API}/manage/digests", headers=admin.auth)
    assert run.json() == {"digests": 1}
    drain_events()
    digest = [p for t, p in Adapter.received if t == "interaction.digest"]
    assert len(digest) == 1 and digest[0]["count"] == 2
    # Running it again the same day sends nothing more.
    assert town.client.post(f"{API}/manage/digests", headers=admin.auth).json() == {"digests": 0}
    assert town.client.post(f"{API}/manage/digests", headers=cadre.auth).status_code == 403


def test_reading_notifications(town):
    wang = town.verified(town.resident("王秀英"))
    request = wang.post("/requests", {"category": "help", "title": "求助", "body": "说明"}).json()
    town.client.post(
        f"{API}/manage/requests/{request['id']}/replies",
        headers=town.cadre().auth,
        json={"body": "收到"},
    )
    assert [n["read"] for n in wang.get("/notifications").json()["items"]] == [False]
    assert wang.post("/notifications/read").status_code == 204
    assert [n["read"] for n in wang.get("/notifications").json()["items"]] == [True]
