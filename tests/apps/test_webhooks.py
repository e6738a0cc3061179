"""Signed webhooks from the outbox, checked with the official Standard Webhooks library."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shequyun.apps.webhooks import MAX_ATTEMPTS, PAUSE_AFTER_DEAD

from .conftest import PUDONG_COMMITTEE, XUHUI_COMMITTEE, Receiver, manifest, resident_in


def register(client: Any, admin: Any, url: str, slug: str = "xuhui-garbage", **extra: Any) -> dict:
    body = manifest(slug, webhook={"url": url, "events": ["resident.*"]}, **extra)
    response = client.post("/api/v1/apps", json=body, headers=admin.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def sent(kernel: Any, **kwargs: Any) -> int:
    """Move the outbox into the feed, then send what is due."""
    kernel.events.drain()
    return int(kernel.openness.webhooks.deliver_due(**kwargs))


def test_an_app_for_xuhui_receives_only_xuhui_events_signed_per_the_standard(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    app = register(shequyun_client, admin, receiver.url)
    mine = resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    resident_in(shequyun_client, shequyun_actors.cadre(PUDONG_COMMITTEE), serial="222")
    assert sent(shequyun_kernel) == 1
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    verified = Webhook(app["webhook_secret"]).verify(body, headers)
    assert verified["type"] == "resident.created"
    assert verified["data"]["resident_id"] == mine["id"]
    assert verified["data"]["unit_code"] == XUHUI_COMMITTEE
    assert headers["webhook-id"] == f"evt_{verified['data']['event_id']}"
    # A tampered body, and a message replayed after the tolerance, are refused.
    with pytest.raises(WebhookVerificationError):
        tampered = body.replace(XUHUI_COMMITTEE.encode(), PUDONG_COMMITTEE.encode())
        assert tampered != body
        Webhook(app["webhook_secret"]).verify(tampered, headers)
    old = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(app["webhook_secret"]).verify(body, old)


def test_two_signatures_while_the_secret_rotates(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    app = register(shequyun_client, admin, receiver.url)
    rotated = shequyun_client.post(
        f"/api/v1/apps/{app['id']}/webhook-secret", headers=admin.auth
    ).json()["secret"]
    resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    sent(shequyun_kernel)
    [request] = receiver.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (app["webhook_secret"], rotated):
        assert Webhook(secret).verify(request["body"], request["headers"])


def test_a_dead_receiver_gets_retries_then_dead_letter_then_one_replay_delivers_once(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    app = register(shequyun_client, admin, receiver.url)
    receiver.status = 500
    resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    shequyun_kernel.events.drain()
    clock = datetime.now(UTC)
    for attempt in range(MAX_ATTEMPTS):
        assert shequyun_kernel.openness.webhooks.deliver_due(now=lambda clock=clock: clock) == 1, (
            attempt
        )
        # Not due again before its backoff has passed.
        assert shequyun_kernel.openness.webhooks.deliver_due(now=lambda clock=clock: clock) == 0
        clock += timedelta(days=1)
    assert shequyun_kernel.openness.webhooks.deliver_due(now=lambda clock=clock: clock) == 0
    log = shequyun_client.get(
        f"/api/v1/apps/{app['id']}/deliveries?status=dead", headers=admin.auth
    ).json()["items"]
    [dead] = log
    assert dead["attempts"] == MAX_ATTEMPTS and dead["last_status"] == 500
    assert [a["status_code"] for a in dead["log"]] == [500] * MAX_ATTEMPTS
    assert len(receiver.requests) == MAX_ATTEMPTS

    receiver.status = 204
    replay = shequyun_client.post(
        f"/api/v1/apps/{app['id']}/deliveries/{dead['id']}/replay", headers=admin.auth
    )
    assert replay.status_code == 202
    assert shequyun_kernel.openness.webhooks.deliver_due() == 1
    assert shequyun_kernel.openness.webhooks.deliver_due() == 0
    assert len(receiver.requests) == MAX_ATTEMPTS + 1
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # the same message id each time: the receiver can de-duplicate
    done = shequyun_client.get(f"/api/v1/apps/{app['id']}/deliveries", headers=admin.auth).json()[
        "items"
    ]
    assert [d["status"] for d in done] == ["done"]


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    # Following it would send the platform's request, with the delivery's signed headers,
    # wherever the receiver (or whoever took its address over) says: an address inside the
    # platform's own network included.
    inside = Receiver().start()
    try:
        app = register(shequyun_client, admin, receiver.url)
        receiver.status, receiver.location = 302, inside.url
        resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
        assert sent(shequyun_kernel) == 1
        assert [r["method"] for r in receiver.requests] == ["POST"]
        assert inside.requests == []
        [delivery] = shequyun_client.get(
            f"/api/v1/apps/{app['id']}/deliveries", headers=admin.auth
        ).json()["items"]
        assert (delivery["status"], delivery["last_status"]) == ("pending", 302)
        assert delivery["last_error"] == "HTTP 302" and delivery["attempts"] == 1
    finally:
        inside.stop()


def test_persistent_failure_pauses_the_apps_webhooks(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    app = register(shequyun_client, admin, receiver.url)
    receiver.status = 503
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    for n in range(PAUSE_AFTER_DEAD):
        resident_in(shequyun_client, cadre, serial=f"{100 + n}", name=f"居民{n}")
    shequyun_kernel.events.drain()
    clock = datetime.now(UTC)
    while shequyun_kernel.openness.webhooks.deliver_due(now=lambda clock=clock: clock):
        clock += timedelta(days=1)
    state = shequyun_client.get(f"/api/v1/apps/{app['id']}", headers=admin.auth).json()
    assert state["webhook_state"] == "paused"
    # While paused, a new event waits untried.
    resident_in(shequyun_client, cadre, serial="199", name="新居民")
    assert sent(shequyun_kernel, now=lambda: clock) == 0
    receiver.status = 200
    resumed = shequyun_client.post(f"/api/v1/apps/{app['id']}/webhooks/resume", headers=admin.auth)
    assert resumed.json() == {"webhook_state": "active"}
    assert shequyun_kernel.openness.webhooks.deliver_due(now=lambda clock=clock: clock) == 1
    assert receiver.status == 200 and len(receiver.requests) == PAUSE_AFTER_DEAD * MAX_ATTEMPTS + 1


def test_a_receiver_that_hangs_does_not_hold_up_another_apps_deliveries(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    from .conftest import Receiver

    fast = Receiver().start()
    try:
        receiver.hold = threading.Event()  # the first app's receiver hangs until released
        register(shequyun_client, admin, receiver.url, slug="slow-app")
        register(shequyun_client, admin, fast.url, slug="fast-app")
        resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
        shequyun_kernel.events.drain()
        assert shequyun_kernel.openness.webhooks.deliver_due(wait=False) == 2
        assert fast.got.wait(30)
        assert receiver.got.wait(30)
        # The fast app has its event while the slow receiver still holds its request.
        assert not receiver.hold.is_set()
        body = json.loads(fast.requests[0]["body"])
        assert body["type"] == "resident.created"
    finally:
        receiver.hold.set()
        fast.stop()
