"""The daily digest runs itself: the scheduled job ``interaction.digest``, 08:00 Beijing time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from shequyun_interaction.core import SHANGHAI
from shequyun_sdk import Subscriber, hookimpl

from .conftest import API


class SmsGateway:
    """A delivery adapter that texts each resident their digest."""

    MANIFEST = {
        "name": "sms_gateway",
        "version": "0.1",
        "title": {"zh": "短信网关"},
        "description": {"zh": "测试用"},
        "sdk": ">=0.1,<0.2",
    }

    def __init__(self):
        self.texts = []

    @hookimpl
    def register_event_subscribers(self):
        return [Subscriber("interaction.digest", self.text, name="digest")]

    def text(self, event):
        self.texts.append(dict(event.payload))


@pytest.fixture
def gateway():
    return SmsGateway()


@pytest.fixture
def shequyun_plugins(gateway):
    return [gateway]


def eight_tomorrow(now):
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(day, time(8, 0), SHANGHAI)


def test_the_digest_goes_out_every_morning_at_eight(town, scheduled_jobs, drain_events, gateway):
    wang = town.verified(town.resident("王秀英"))
    town.client.post(
        f"{API}/manage/announcements",
        headers=town.cadre().auth,
        json={"title": "停电通知", "body": "周三上午停电"},
    )
    drain_events()  # the announcement notifies the committee's residents
    assert [n["kind"] for n in wang.get("/notifications").json()["items"]] == ["announcement"]

    eight = eight_tomorrow(scheduled_jobs.now)
    # Only the digest's runs count: the kernel's own hourly jobs fall due meanwhile.
    early = scheduled_jobs.run_due(at=eight - timedelta(hours=1))
    assert "interaction.digest" not in {r.name for r in early}
    assert scheduled_jobs.status("interaction.digest").schedule == "daily 08:00"
    assert scheduled_jobs.status("interaction.digest").next_due == eight

    run = {r.name: r for r in scheduled_jobs.run_due(at=eight)}["interaction.digest"]
    assert (run.outcome, run.summary) == ("ok", "发出 1 份通知汇总")
    drain_events()
    [text] = gateway.texts
    assert text["count"] == 1 and text["items"][0]["title"] == "居委发布了新公告"

    # The next morning there is nothing new to send; the operators' endpoint still works.
    runs = {r.name: r for r in scheduled_jobs.run_due(at=eight + timedelta(days=1))}
    assert runs["interaction.digest"].summary == "发出 0 份通知汇总"
    admin = town.actors.platform_admin()
    assert town.client.post(f"{API}/manage/digests", headers=admin.auth).json() == {"digests": 0}


def test_operators_can_run_the_digest_now(town, scheduled_jobs):
    run = scheduled_jobs.run("interaction.digest")
    assert (run.outcome, run.summary) == ("ok", "发出 0 份通知汇总")
