"""徐汇区 for the 社区治理 tests: the district, 天平路街道 and its two committees, with staff.

Only this plugin is loaded (not every installed one): the suite proves that governance works
without the 居社互动 plugin, whose escalations reach it through the SDK's case-channel events.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import shequyun_governance

API = "/api/v1/plugins/governance"
DISTRICT = "310104000000"  # 徐汇区
STREET = "310104003000"  # 天平路街道
WANPING = "310104003001"  # 宛平南路居委会
JIANGUO = "310104003002"  # 建国西路居委会 (the sibling)

#: A 1×1 PNG: the smallest photo the attachment store accepts as an image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int, born: str = "19500312", region: str = "310104") -> str:
    first = f"{region}{born}{serial:03d}"
    total = sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


@pytest.fixture
def shequyun_discover() -> bool:
    return False


@pytest.fixture
def shequyun_plugins() -> list[Any]:
    return [shequyun_governance]


class Xuhui:
    """Staff of 徐汇区 by level, and helpers to call the API as them."""

    def __init__(self, client: Any, actors: Any) -> None:
        self.client = client
        self.actors = actors
        self.district = actors.district_admin(DISTRICT)
        self.street = actors.street_admin(STREET)
        self.cadre = actors.cadre(WANPING)
        self.sibling = actors.cadre(JIANGUO)
        self._serial = 100

    def call(self, who: Any, method: str, path: str, json: Any = None) -> Any:
        return self.client.request(method, API + path, headers=who.auth, json=json)

    def open(self, who: Any, **body: Any) -> dict[str, Any]:
        payload = {
            "title": "宛平南路88弄路灯不亮",
            "description": "弄堂口两盏路灯一周未亮，居民夜间出行不便。",
            "category": "facility",
            **body,
        }
        created = self.call(who, "POST", "/cases", payload)
        assert created.status_code == 201, created.text
        return created.json()

    def step(self, who: Any, case_id: int, action: str, **body: Any) -> Any:
        return self.call(who, "POST", f"/cases/{case_id}/steps/{action}", body)

    def photo(self, who: Any) -> str:
        uploaded = self.client.post(
            "/api/v1/attachments", headers=who.auth, files={"file": ("lamp.png", PNG, "image/png")}
        )
        assert uploaded.status_code == 201, uploaded.text
        return str(uploaded.json()["id"])

    def resident(self, name: str, *, building: str = "12", room: str = "402") -> int:
        self._serial += 1
        created = self.client.post(
            "/api/v1/residents",
            headers=self.cadre.auth,
            json={
                "name": name,
                "id_number": id_number(self._serial),
                "registration": "户籍",
                "address": {"compound": "宛平小区", "building": building, "room": room},
                "household_number": f"WP-{building}-{room}",
            },
        )
        assert created.status_code == 201, created.text
        return int(created.json()["id"])


@pytest.fixture
def xuhui(shequyun_client: Any, shequyun_actors: Any) -> Xuhui:
    return Xuhui(shequyun_client, shequyun_actors)
