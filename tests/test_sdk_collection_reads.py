"""A plugin acts on collection events: its subscriber reads the submission through the Platform.

The event says that 宛平南路居委会 submitted; ``Platform.get_submission`` says what, in the
scope of the plugin's own actor, which holds ``collection.results`` only because the manifest
asks for it (``actor_permissions``).
"""

from __future__ import annotations

import pytest
from shequyun_sdk import NotFound, Subscriber, hookimpl

from .collection._forms import COMMITTEE_COUNT
from .collection.test_forms_and_submissions import open_campaign
from .hooks._plugins import manifest

WANPING = "310104003001"
JIANGUO = "310104003002"


class Elevators:
    """加装电梯: keeps each committee's wish for lifts as soon as it is submitted."""

    MANIFEST = manifest("elevators", "加装电梯", actor_permissions=["collection.results"])

    def __init__(self):
        self.platform = None
        self.wishes = {}
        self.campaigns = {}

    @hookimpl
    def on_startup(self, platform):
        self.platform = platform

    @hookimpl
    def register_event_subscribers(self):
        return [Subscriber("collection.submission.created", self.on_submission, name="wishes")]

    def on_submission(self, event, actor):
        with self.platform.session() as session:
            submitted = self.platform.get_submission(session, actor, event.payload["task_id"])
            campaign = self.platform.get_campaign(session, actor, event.payload["campaign_id"])
        self.wishes[submitted["unit"]["code"]] = submitted["answers"]
        self.campaigns[campaign["id"]] = campaign["title"]


class Blind:
    """A plugin that did not ask for collection.results: its actor sees no task."""

    MANIFEST = manifest("blind", "无权插件")


@pytest.fixture
def elevators():
    return Elevators()


@pytest.fixture
def shequyun_plugins(elevators):
    return [elevators, Blind()]


@pytest.fixture
def campaign(shequyun_client, shequyun_actors):
    bureau = shequyun_actors.bureau("310000000000")
    return open_campaign(shequyun_client, bureau, COMMITTEE_COUNT, ["310104003000"])


def submit(client, cadre, data):
    (task,) = client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    sent = client.post(
        f"/api/v1/tasks/{task['id']}/submit",
        json={"client_key": f"key-{task['id']}-0001", "data": data},
        headers=cadre.auth,
    )
    assert sent.status_code == 201, sent.text
    return task["id"]


def test_a_subscriber_reads_the_answers_of_the_submission_it_hears_of(
    shequyun_client, shequyun_actors, drain_events, elevators, campaign
):
    submit(shequyun_client, shequyun_actors.cadre(WANPING), {"households": 640, "remark": "3栋"})
    drain_events()
    assert elevators.wishes == {WANPING: {"households": 640, "remark": "3栋"}}
    assert list(elevators.campaigns.values()) == ["加装电梯意愿摸底"]


def test_reads_follow_the_actors_scope_and_permissions(
    shequyun_client, shequyun_kernel, shequyun_actors, campaign
):
    platform = shequyun_kernel.platform
    wanping, jianguo = shequyun_actors.cadre(WANPING), shequyun_actors.cadre(JIANGUO)
    task_id = submit(shequyun_client, wanping, {"households": 12})
    with platform.session() as session:
        mine = platform.get_submission(session, wanping.actor, task_id)
        assert mine["answers"] == {"households": 12} and mine["status"] == "submitted"
        assert mine["unit"]["code"] == WANPING
        task = platform.get_task(session, platform.plugin_actor("elevators"), task_id)
        assert task["status"] == "submitted" and "answers" not in task
        for outsider in (jianguo.actor, platform.plugin_actor("blind")):
            with pytest.raises(NotFound):
                platform.get_submission(session, outsider, task_id)
            with pytest.raises(NotFound):
                platform.get_task(session, outsider, task_id)


def test_a_task_without_a_submission_has_no_answers_to_read(
    shequyun_client, shequyun_kernel, shequyun_actors, campaign
):
    platform = shequyun_kernel.platform
    cadre = shequyun_actors.cadre(JIANGUO)
    (task,) = shequyun_client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    with platform.session() as session:
        assert platform.get_task(session, cadre.actor, task["id"])["status"] == "not_started"
        with pytest.raises(NotFound, match="尚未提交") as missing:
            platform.get_submission(session, cadre.actor, task["id"])
        assert missing.value.field == "task_id"
        with pytest.raises(NotFound):
            platform.get_task(session, cadre.actor, 999_999)
