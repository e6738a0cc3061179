"""A request passed to the 社区治理 plugin's case channel: the resident sees the case's status."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import API, PASSWORD, ResidentClient
from .test_pages import BASE, resident_browser

REPAIR = {"category": "repair", "title": "顶楼漏水", "body": "12号楼顶楼连续漏水"}

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("shequyun_governance") is None,
    reason="the 社区治理 plugin is not installed",
)


def test_through_the_governance_plugin_the_resident_sees_the_case_status(town, drain_events):
    resident = town.resident("王秀英")
    browser = resident_browser(town, resident)  # signs up and verifies through the pages
    login = town.client.post(
        f"{API}/auth/login", json={"phone": resident.phone, "password": PASSWORD}
    )
    wang = ResidentClient(town.client, login.json()["token"], resident)
    request_id = wang.post("/requests", REPAIR).json()["id"]
    cadre = town.cadre()
    town.client.post(f"{API}/manage/requests/{request_id}/escalate", json={}, headers=cadre.auth)
    drain_events()
    mine = wang.get(f"/requests/{request_id}").json()
    assert mine["case"]["status_label"] == "处置中"
    number = mine["case"]["number"]

    governance = "/api/v1/plugins/governance"
    cases = town.client.get(f"{governance}/cases?source=interaction", headers=cadre.auth).json()
    [case] = cases["items"]
    assert case["number"] == number and case["subject"]["label"].startswith("王秀英")
    up = town.client.post(
        f"{governance}/cases/{case['id']}/steps/escalate",
        json={"note": "需街道协调房管所"},
        headers=cadre.auth,
    )
    assert up.status_code == 200, up.text
    drain_events()
    now = wang.get(f"/requests/{request_id}").json()
    assert now["case"]["status_label"] == "待签收"
    page = browser.get(f"{BASE}/requests/{request_id}").text
    assert number in page and "待签收" in page
