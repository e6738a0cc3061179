"""The change feed: scoped like every read, resumable, gap-free under concurrent writers."""

from __future__ import annotations

import threading
from typing import Any

from shequyun.apps.feed import event_unit_code

from .conftest import PUDONG_COMMITTEE, XUHUI_COMMITTEE, manifest, resident_in


def read_all(client: Any, headers: dict[str, str], cursor: int = 0, limit: int = 100) -> tuple:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/api/v1/feed?cursor={cursor}&limit={limit}", headers=headers).json()
        items += page["items"]
        if page["next_cursor"] == cursor:
            return items, cursor
        cursor = page["next_cursor"]


def test_an_app_for_xuhui_reads_only_xuhui_in_the_feed(
    shequyun_client, shequyun_kernel, shequyun_actors, admin
):
    body = manifest(scopes=["residents.read", "apps.feed"])
    app = shequyun_client.post("/api/v1/apps", json=body, headers=admin.auth).json()
    mine = resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    theirs = resident_in(shequyun_client, shequyun_actors.cadre(PUDONG_COMMITTEE), serial="222")
    shequyun_kernel.events.drain()
    token = shequyun_client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
    ).json()["access_token"]
    items, _ = read_all(shequyun_client, {"Authorization": f"Bearer {token}"})
    assert [(i["type"], i["payload"]["resident_id"]) for i in items] == [
        ("resident.created", mine["id"])
    ]
    everything, _ = read_all(shequyun_client, admin.auth)
    assert {i["payload"].get("resident_id") for i in everything} >= {mine["id"], theirs["id"]}
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    assert shequyun_client.get("/api/v1/feed", headers=cadre.auth).status_code == 403
    bad = shequyun_client.get("/api/v1/feed?cursor=-1", headers=admin.auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


def test_resumed_after_a_crash_the_feed_misses_and_repeats_nothing(
    shequyun_client, shequyun_kernel, admin
):
    """Writers publish and two outbox workers number events concurrently while a reader
    pages through the feed, 'crashing' (a new client from the saved cursor) every page."""
    kernel = shequyun_kernel
    published: list[int] = []
    lock = threading.Lock()
    done = threading.Event()
    with kernel.platform.session() as session:
        unit = kernel.platform.unit(session, XUHUI_COMMITTEE)

    def write(n: int) -> None:
        for i in range(40):
            with kernel.platform.session() as session:
                kernel.events.publish(
                    session,
                    "resident.updated",
                    {
                        "resident_id": n * 1000 + i + 1,  # the number of the write, plus one
                        "unit_code": unit.code,
                        "unit_id": unit.id,
                        "version": 2,
                        "fields": ["phone"],
                    },
                )
        with lock:
            published.append(n)

    def number() -> None:
        while not done.is_set() or kernel.events.deliver_due(limit=50):
            kernel.events.deliver_due(limit=50)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    numberers = [threading.Thread(target=number) for _ in range(2)]
    for thread in [*writers, *numberers]:
        thread.start()
    seen: list[int] = []
    cursor = 0
    while True:
        finished = not any(t.is_alive() for t in writers)
        from starlette.testclient import TestClient

        reader = TestClient(shequyun_client.app)  # a fresh process, as after a crash
        page = reader.get(f"/api/v1/feed?cursor={cursor}&limit=7", headers=admin.auth).json()
        seen += [i["payload"]["resident_id"] - 1 for i in page["items"]]
        cursor = page["next_cursor"]
        if finished and not page["items"]:
            done.set()
            for thread in numberers:
                thread.join()
            rest, cursor = read_all(reader, admin.auth, cursor)
            seen += [i["payload"]["resident_id"] - 1 for i in rest]
            break
    expected = [n * 1000 + i for n in range(3) for i in range(40)]
    assert len(seen) == len(set(seen)) == len(expected)
    assert sorted(seen) == expected


def test_the_unit_of_an_event_comes_from_its_payload():
    assert event_unit_code({"unit_code": "310104003001"}) == "310104003001"
    assert event_unit_code({"from_unit_code": "a", "to_unit_code": "310104003001"}) == (
        "310104003001"
    )
    assert event_unit_code({"form_id": 3}) is None
