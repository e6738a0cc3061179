"""What docs/plugins/testing.md shows under "Events and scheduled jobs", run as written: a
district plugin (长宁区 老年助餐) hears of a committee's collection submission, reads its answers
through the Platform as its own actor, and totals them in a daily job; its tests name any
committee of Shanghai's reference tree, fill the task as that committee's cadre, deliver the
events and move the jobs' clock. Nothing here reaches past the SDK and the harness.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import BEIJING, ScheduledJob, Subscriber, hookimpl

COMMITTEE = "310105002003"  # a committee of 江苏路街道, 长宁区
STREET = "310105002000"


class Meals:
    """老年助餐: the meals each committee orders through a collection campaign."""

    MANIFEST = {
        "name": "meals",
        "version": "0.1.0",
        "title": {"zh": "老年助餐"},
        "description": {"zh": "各居委的助餐订餐"},
        "sdk": ">=1.0,<2",
        # The plugin's own actor may read collection answers (and nothing else of the kernel's).
        "actor_permissions": ["collection.results"],
    }

    def __init__(self):
        self.orders = {}  # committee code -> meals ordered
        self.totals = {}  # day -> meals ordered that day

    @hookimpl
    def register_event_subscribers(self, platform):
        def on_submission(event, actor):
            with platform.session() as session:
                submitted = platform.get_submission(session, actor, event.payload["task_id"])
            self.orders[submitted["unit"]["code"]] = submitted["answers"]["diners"]

        return [Subscriber("collection.submission.created", on_submission, name="orders")]

    @hookimpl
    def register_scheduled_jobs(self):
        def total(scheduled_for, actor):
            self.totals[scheduled_for.date()] = sum(self.orders.values())
            return f"{actor.plugin}: {sum(self.orders.values())} 份"

        return [ScheduledJob("total", total, daily_at="20:00")]


@pytest.fixture
def meals():
    return Meals()


@pytest.fixture
def shequyun_plugins(meals):
    return [meals]


def open_campaign(shequyun_actors):
    """A bureau sends an order form to 江苏路街道 (the committees the test has named)."""
    bureau = shequyun_actors.bureau("310000000000").client()
    form = bureau.post(
        "/api/v1/forms",
        json={
            "title": "助餐订餐",
            "schema": {
                "type": "object",
                "properties": {"diners": {"type": "integer", "minimum": 0}},
                "required": ["diners"],
            },
            "ui": {"order": ["diners"], "fields": {"diners": {"label": "订餐人数"}}},
        },
    ).json()
    bureau.post(f"/api/v1/forms/{form['id']}/versions/1/publish")
    deadline = datetime.now(UTC) + timedelta(days=3)
    campaign = bureau.post(
        "/api/v1/campaigns",
        json={
            "form_id": form["id"],
            "version": 1,
            "title": "本周助餐订餐",
            "targets": [STREET],
            "deadline": deadline.isoformat(),
        },
    )
    assert campaign.status_code == 201, campaign.text


def test_a_submission_is_read_by_the_subscriber(shequyun_actors, drain_events, meals):
    cadre = shequyun_actors.cadre(COMMITTEE).client()  # names the committee: it exists now
    open_campaign(shequyun_actors)
    (task,) = cadre.get("/api/v1/tasks").json()["items"]
    sent = cadre.post(
        f"/api/v1/tasks/{task['id']}/submit",
        json={"client_key": "meals-0001", "data": {"diners": 12}},
    )
    assert sent.status_code == 201, sent.text
    drain_events()  # deliver now what a worker would deliver after the commit
    assert meals.orders == {COMMITTEE: 12}


def test_the_daily_job_totals_the_day_it_covers(shequyun_actors, scheduled_jobs, meals):
    meals.orders = {COMMITTEE: 5}
    scheduled_jobs.run_due(at=datetime(2027, 1, 5, 9, 0, tzinfo=BEIJING))  # the platform starts
    scheduled_jobs.run_due(at=datetime(2027, 1, 5, 21, 30, tzinfo=BEIJING))  # 20:00 is due
    assert meals.totals == {datetime(2027, 1, 5).date(): 5}
    assert scheduled_jobs.status("meals.total").last_summary == "meals: 5 份"
