"""A small town for the 居社互动 tests: residents in the resident database, accounts, cadres.

The plugin is loaded through its entry point (the SDK harness discovers installed plugins), on
a fresh database per test. ``town`` creates residents through the kernel's residents API, as a
cadre would, and resident accounts through this plugin's API, as the mobile app would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

API = "/api/v1/plugins/interaction"
WEIFANG1 = "310115004001"  # 潍坊一村居委会
WEIFANG2 = "310115004002"  # 潍坊二村居委会
PASSWORD = "Resident-pass-1"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int, born: str = "19700312", region: str = "310115") -> str:
    """A valid 18-character ID number (GB 11643 check character included)."""
    first = f"{region}{born}{serial:03d}"
    total = sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


@dataclass
class Resident:
    id: int
    name: str
    id_number: str
    phone: str
    unit: str
    version: int = 1


@dataclass
class ResidentClient:
    """The mobile app, signed in as one resident account."""

    client: Any
    token: str
    resident: Resident | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {"X-Resident-Token": self.token}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(API + path, headers=self.headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(API + path, headers=self.headers, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put(API + path, headers=self.headers, json=json, **kwargs)


class Town:
    def __init__(self, client: Any, actors: Any) -> None:
        self.client = client
        self.actors = actors
        self._serial = itertools.count(100)
        self._phone = itertools.count(13800000001)
        self._cadres: dict[str, Any] = {}

    def cadre(self, unit: str = WEIFANG1) -> Any:
        if unit not in self._cadres:
            self._cadres[unit] = self.actors.cadre(unit)
        return self._cadres[unit]

    def resident(
        self,
        name: str,
        *,
        unit: str = WEIFANG1,
        building: str = "12",
        room: str | None = None,
        household: str | None = None,
        born: str = "19700312",
        phone: str | None = None,
    ) -> Resident:
        serial = next(self._serial)
        number = id_number(serial, born)
        phone = phone or str(next(self._phone))
        room = room or f"{serial}"
        payload = {
            "name": name,
            "id_number": number,
            "registration": "户籍",
            "phone": phone,
            "address": {
                "compound": "潍坊一村",
                "building": building,
                "entrance": "1",
                "room": room,
            },
            "household_number": household or f"H-{building}-{room}",
        }
        created = self.client.post("/api/v1/residents", headers=self.cadre(unit).auth, json=payload)
        assert created.status_code == 201, created.text
        return Resident(created.json()["id"], name, number, phone, unit)

    def account(self, phone: str) -> ResidentClient:
        signed = self.client.post(f"{API}/auth/signup", json={"phone": phone, "password": PASSWORD})
        assert signed.status_code == 201, signed.text
        login = self.client.post(f"{API}/auth/login", json={"phone": phone, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return ResidentClient(self.client, login.json()["token"])

    def verified(self, resident: Resident) -> ResidentClient:
        app = self.account(resident.phone)
        done = app.post("/me/verify", {"name": resident.name, "id_number": resident.id_number})
        assert done.status_code == 200, done.text
        app.resident = resident
        return app

    def transfer(self, resident: Resident, to_unit: str) -> None:
        current = self.client.get(
            f"/api/v1/residents/{resident.id}", headers=self.cadre(resident.unit).auth
        ).json()
        moved = self.client.post(
            f"/api/v1/residents/{resident.id}/transfer",
            headers=self.cadre(resident.unit).auth,
            json={
                "to_unit_code": to_unit,
                "effective_on": "2026-11-01",
                "reason": "搬家",
                "version": current["version"],
            },
        )
        assert moved.status_code == 200, moved.text
        resident.unit = to_unit

    def topic(self, unit: str = WEIFANG1, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "12号楼加装电梯意见征询",
            "body": "拟加装电梯，请各户表决。",
            "options": ["同意", "不同意"],
            "rule": "resident",
            "scope_kind": "committee",
            "closes_on": "2099-12-31",
            **overrides,
        }
        opened = self.client.post(f"{API}/manage/topics", headers=self.cadre(unit).auth, json=body)
        assert opened.status_code == 201, opened.text
        return opened.json()


@pytest.fixture
def shequyun_settings() -> dict[str, Any]:
    """Tests sign up many accounts from the one test client: lift the per-address limit
    (tests/test_attempt_limits.py checks it at its default)."""
    return {"plugin_settings": {"interaction": {"signups_per_address_hour": 10000}}}


@pytest.fixture
def town(shequyun_client: Any, shequyun_actors: Any) -> Town:
    return Town(shequyun_client, shequyun_actors)
