"""A plugin's own actor, and actors the kernel did not issue.

Jobs, demo loaders and subscribers act with no user logged in. They receive their plugin's own
actor: audited as ``plugin:<name>``, holding only what the manifest declares. An ``Actor`` made
by hand (or a real one copied with more permissions) is refused wherever the kernel checks scope.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from shequyun_sdk import Actor, ActorNotIssued, ScheduledJob, Subscriber, hookimpl
from sqlmodel import select

from shequyun.identity.models import AuditEntry

from .hooks._plugins import manifest, plugin_listing
from .residents._data import id_number, resident


class Eldercare:
    """长宁区 老年助餐: reads residents in an hourly job and in a subscriber."""

    MANIFEST = manifest(
        "eldercare",
        "老年助餐",
        permissions=[{"name": "eldercare.meals.read", "title": {"zh": "查看助餐记录"}}],
        actor_permissions=["residents.read"],
    )

    def __init__(self):
        self.platform = None
        self.seen = {}

    @hookimpl
    def on_startup(self, platform):
        self.platform = platform

    @hookimpl
    def register_event_subscribers(self):
        return [Subscriber("resident.created", self.on_created, name="created")]

    @hookimpl
    def register_scheduled_jobs(self):
        return [ScheduledJob("count", self.count, every=timedelta(hours=1))]

    def on_created(self, event, actor):
        self.seen["subscriber"] = actor
        with self.platform.session() as session:
            item = self.platform.get_resident(session, actor, event.payload["resident_id"])
            self.platform.audit(
                session, "eldercare.enrolled", actor=actor, target_type="resident",
                target_id=item["id"],
            )  # fmt: skip

    def count(self, actor, scheduled_for):
        self.seen["job"] = (actor, scheduled_for)
        with self.platform.session() as session:
            items, _ = self.platform.search_residents(session, actor, limit=100)
        return f"{len(items)} 位居民"


@pytest.fixture
def eldercare():
    return Eldercare()


@pytest.fixture
def shequyun_plugins(eldercare):
    return [eldercare]


def register(client, cadre, **overrides):
    response = client.post("/api/v1/residents", json=resident(**overrides), headers=cadre.auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_subscriber_acts_as_its_plugin_and_is_audited_as_it(
    shequyun_client, shequyun_actors, drain_events, eldercare
):
    created = register(shequyun_client, shequyun_actors.cadre("310115004001"))
    drain_events()
    actor = eldercare.seen["subscriber"]
    assert actor.is_plugin and actor.plugin == "eldercare" and actor.user_id is None
    assert actor.username == "plugin:eldercare" and actor.display_name == "老年助餐"
    assert actor.unit.code == "310000000000"
    assert actor.permissions == {"eldercare.meals.read", "residents.read"}
    with eldercare.platform.session() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "eldercare.enrolled")
        ).one()
    assert entry.actor_username == "plugin:eldercare" and entry.actor_user_id is None
    assert entry.target_id == str(created["id"])


def test_a_job_gets_its_plugin_actor_and_the_moment_it_was_due(
    shequyun_client, shequyun_actors, scheduled_jobs, eldercare
):
    register(shequyun_client, shequyun_actors.cadre("310115004001"))
    register(shequyun_client, shequyun_actors.cadre("310104003001"), id_number=id_number("310104"))
    run = scheduled_jobs.run("eldercare.count")
    assert (run.outcome, run.summary) == ("ok", "2 位居民")
    actor, scheduled_for = eldercare.seen["job"]
    assert actor.plugin == "eldercare"
    assert scheduled_for.utcoffset() == timedelta(hours=8)


def test_a_plugin_actor_holds_only_what_the_manifest_declares(shequyun_client, shequyun_actors):
    register(shequyun_client, shequyun_actors.cadre("310115004001"))
    platform = shequyun_client.app.state.platform
    actor = platform.plugin_actor("eldercare")
    assert not actor.has("residents.write") and not actor.has("collection.manage")
    with platform.session() as session:
        changes = {"phone": "13900000000"}
        item = platform.search_residents(session, actor)[0][0]
        with pytest.raises(Exception) as refused:
            platform.update_resident(session, actor, item["id"], changes, version=1)
    assert getattr(refused.value, "status_code", None) in (403, 404)


def test_a_plugin_actor_can_be_narrowed_to_a_unit(shequyun_client, shequyun_actors):
    register(shequyun_client, shequyun_actors.cadre("310115004001"))
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        xuhui = platform.unit(session, "310104000000")
        actor = platform.plugin_actor("eldercare", unit=xuhui)
        assert platform.search_residents(session, actor)[0] == []


def test_an_inactive_plugin_has_no_actor(shequyun_client):
    with pytest.raises(LookupError, match="'parking' is not active"):
        shequyun_client.app.state.platform.plugin_actor("parking")


def test_a_hand_made_actor_is_refused_by_resident_search(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    register(shequyun_client, cadre)
    platform = shequyun_client.app.state.platform
    real = cadre.actor
    forged = Actor(
        user_id=real.user_id,
        username=real.username,
        display_name=real.display_name,
        grant_id=real.grant_id,
        role=real.role,
        unit=real.unit,
        permissions=real.permissions,
    )
    widened = dataclasses.replace(real, unit=dataclasses.replace(real.unit, path="/"))
    with platform.session() as session:
        assert len(platform.search_residents(session, real)[0]) == 1
        for fake in (forged, widened):
            with pytest.raises(ActorNotIssued) as refused:
                platform.search_residents(session, fake)
            assert refused.value.status_code == 403
            assert "不是平台签发的" in refused.value.message
            with pytest.raises(ActorNotIssued):
                platform.audit(session, "eldercare.fake", actor=fake)


def test_an_issued_actor_changed_in_place_is_refused(shequyun_client, shequyun_actors):
    actor = shequyun_actors.cadre("310115004001").actor
    platform = shequyun_client.app.state.platform
    object.__setattr__(actor, "unit", dataclasses.replace(actor.unit, path="/"))  # whole city
    with platform.session() as session, pytest.raises(ActorNotIssued):
        platform.search_residents(session, actor)


class Misspelt:
    MANIFEST = manifest("misspelt", "拼错权限", actor_permissions=["residents.raed"])


@pytest.mark.parametrize("shequyun_plugins", [[Misspelt()]])
def test_an_unknown_actor_permission_fails_the_plugin_naming_it(shequyun_client):
    listing = plugin_listing(shequyun_client)["misspelt"]
    assert listing["state"] == "failed"
    assert listing["reason"] == "actor_permissions names unknown: residents.raed"
