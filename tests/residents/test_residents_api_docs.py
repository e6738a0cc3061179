"""docs/api/residents.md shows what the API answers: every JSON block marked with
``<!-- answer: NAME -->`` is compared with the answer NAME of the walk below, run against a
fresh platform with the installed plugins (so the attributes are the first-party ones).

A shown object may leave keys out (the page shows what a step changes); what it shows must be
equal. Times (``updated_at``, ``at``) and ``age`` (it grows with the calendar) are not compared.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ..conftest import REPO

PAGE = REPO / "docs" / "api" / "residents.md"
ANSWER = re.compile(r"<!-- answer: ([\w-]+) -->\n+```json\n(.*?)```", re.S)
UNCOMPARED = {"updated_at", "at", "age"}


@pytest.fixture
def shequyun_discover():
    return True  # the page shows a deployment's attributes: the first-party plugins'


def change(client, resident_id: int, changes: dict) -> dict:
    """Apply ``changes`` to a resident: read its version, send it, and on ``stale_version``
    (someone changed the record meanwhile) try once more on the current version.
    ``client``: an httpx.Client with the platform as base_url and your token's header."""
    read = client.get(f"/api/v1/residents/{resident_id}")
    read.raise_for_status()
    version = read.json()["version"]
    for _attempt in range(2):
        response = client.patch(
            f"/api/v1/residents/{resident_id}", json={**changes, "version": version}
        )
        if response.status_code != 409 or response.json()["error"]["code"] != "stale_version":
            break
        version = response.json()["error"]["current"]["version"]
    response.raise_for_status()
    return response.json()


def register(client, resident: dict) -> int:
    """Register ``resident`` and return its id; when a retry finds the ID number registered
    already in your reach (the first attempt went through), return that resident's id."""
    response = client.post("/api/v1/residents", json=resident)
    if response.status_code == 409:
        details = response.json()["error"].get("details") or [{}]
        if "resident_id" in details[0]:
            return int(details[0]["resident_id"])
    response.raise_for_status()
    return int(response.json()["id"])


def walk(client, actors) -> dict[str, Any]:
    """Every call the page shows, in its order; the answers by name."""
    cadre = actors.make("identity.cadre", "310115004001", username="wang.fang")
    api = cadre.client()
    answers: dict[str, Any] = {}

    def keep(name: str, response: Any, status: int) -> dict[str, Any]:
        assert response.status_code == status, (name, response.text)
        answers[name] = response.json()
        return answers[name]

    keep("vocabulary", api.get("/api/v1/residents/vocabulary"), 200)
    wang = {
        "name": "王秀英",
        "id_number": "310115194503121244",
        "registration": "户籍",
        "phone": "138 1234 5678",
        "unit_code": "310115004001",
        "address": {"compound": "潍坊一村", "building": "12", "entrance": "3", "room": "402"},
        "household_number": "W-0402",
        "tags": ["独居老人", "低保"],
        "attributes": {"advisors.disability_grade": 2},
    }
    created = keep("created", api.post("/api/v1/residents", json=wang), 201)
    chen = {
        "name": "陈国强",
        "id_number": "310115195108230314",
        "registration": "常住",
        "address": wang["address"],
        "household_number": "W-0402",
    }
    keep("created-chen", api.post("/api/v1/residents", json=chen), 201)
    bad = {
        "name": "",
        "id_number": "310115194503121240",
        "phone": "12",
        "registration": "外地",
        "tags": ["广场舞"],
        "attributes": {"advisors.disability_grade": 9},
        "colour": "red",
    }
    keep("invalid", api.post("/api/v1/residents", json=bad), 422)
    keep("duplicate", api.post("/api/v1/residents", json=wang), 409)
    elsewhere = actors.cadre("310104003001").client()
    moved_in = {k: v for k, v in wang.items() if k != "unit_code"}
    keep("duplicate-elsewhere", elsewhere.post("/api/v1/residents", json=moved_in), 409)
    assert register(api, wang) == created["id"]  # the retry helper finds the first attempt

    url = f"/api/v1/residents/{created['id']}"
    assert keep("resident", api.get(url), 200) == created
    keep("page", api.get("/api/v1/residents", params={"limit": 1}), 200)
    cursor = answers["page"]["next_cursor"]
    keep("page-2", api.get("/api/v1/residents", params={"limit": 1, "cursor": cursor}), 200)
    search = {"tag": "独居老人", "age_min": "80", "compound": "潍坊一村"}
    keep("search", api.get("/api/v1/residents", params=search), 200)
    keep("by-id-number", api.get("/api/v1/residents?id_number=310115194503121244"), 200)
    district = actors.district_admin("310115000000").client()
    keep("by-street", district.get("/api/v1/residents?unit=310115004000"), 200)
    keep("by-unit-name", district.get("/api/v1/residents?unit=潍坊新村街道"), 422)
    keep("unknown-parameter", api.get("/api/v1/residents?order=name"), 400)
    keep("sort-unknown", api.get("/api/v1/residents?sort=age"), 422)

    changes = {"version": 1, "phone": "13900001111", "tags": ["独居老人", "低保", "重点关注"]}
    keep("changed", api.patch(url, json=changes), 200)
    keep("stale", api.patch(url, json={"version": 1, "name": "王秀华"}), 409)
    keep("unit-change", api.patch(url, json={"version": 2, "unit_code": "310115004002"}), 422)
    cleared = keep("cleared", api.patch(url, json={"version": 2, "household_number": None}), 200)
    assert change(api, created["id"], {"household_number": "W-0402"})["version"] == 4
    assert cleared["household"] is None
    mismatch = {"version": 4, "gender": "男", "birth_date": "1990-01-01"}
    keep("mismatch", api.patch(url, json=mismatch), 422)
    keep("history", api.get(f"{url}/history"), 200)
    keep("sort-updated", api.get("/api/v1/residents?sort=-updated&limit=1"), 200)
    keep("sort-name", api.get("/api/v1/residents?sort=name"), 200)

    reveal = {"fields": ["id_number", "phone"], "reason": "上门核实身份"}
    keep("revealed", api.post(f"{url}/reveal", json=reveal), 200)
    keep("reveal-no-reason", api.post(f"{url}/reveal", json={"fields": ["phone"]}), 422)
    worker = actors.social_worker("310115004001").client()
    keep("reveal-forbidden", worker.post(f"{url}/reveal", json=reveal), 403)
    street = actors.street_admin("310115004000").client()
    audit = street.get("/api/v1/audit", params={"action": "resident.revealed"}).json()
    answers["reveal-audit"] = audit["items"][0]["detail"]

    chen_id = answers["created-chen"]["id"]
    move = {
        "to_unit_code": "310104003001",
        "effective_on": "2026-11-01",
        "reason": "搬至女儿家",
        "version": 1,
    }
    undated = {**move, "effective_on": "11/1/2026"}
    keep("transfer-bad-date", api.post(f"/api/v1/residents/{chen_id}/transfer", json=undated), 422)
    keep("transferred", api.post(f"/api/v1/residents/{chen_id}/transfer", json=move), 200)
    keep("moved-out", api.get("/api/v1/residents/moved-out"), 200)
    keep("after-transfer-old", api.get(f"/api/v1/residents/{chen_id}"), 404)
    keep("after-transfer-new", elsewhere.get(f"/api/v1/residents/{chen_id}"), 200)
    keep("transfer-history", elsewhere.get(f"/api/v1/residents/{chen_id}/history"), 200)

    removal = {"version": 4, "reason": "已去世"}
    keep("removed", api.request("DELETE", url, json=removal), 200)
    keep("removed-again", api.request("DELETE", url, json={**removal, "version": 5}), 409)
    keep("removed-change", api.patch(url, json={"version": 5, "name": "王秀华"}), 409)
    keep("not-found", elsewhere.get(url), 404)
    keep("bad-id", api.get("/api/v1/residents/abc"), 404)
    keep("forbidden", district.patch(url, json={"version": 5, "name": "王秀华"}), 403)
    return answers


def _shown_in(real: Any, shown: Any, where: str = "") -> None:
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            assert key in real, f"{where}.{key} is not in the answer"
            if key not in UNCOMPARED:
                _shown_in(real[key], value, f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(real, list) and len(real) == len(shown), where
        for i, (r, s) in enumerate(zip(real, shown, strict=True)):
            _shown_in(r, s, f"{where}[{i}]")
    else:
        assert real == shown, f"{where}: the page shows {shown!r}, the API answers {real!r}"


def test_the_pages_answers_are_the_apis(shequyun_client, shequyun_actors):
    answers = walk(shequyun_client, shequyun_actors)
    shown = ANSWER.findall(PAGE.read_text(encoding="utf-8"))
    assert len(shown) >= 20
    for name, block in shown:
        assert name in answers, f"the page shows answer {name!r}, which the walk does not make"
        _shown_in(answers[name], json.loads(block), name)
