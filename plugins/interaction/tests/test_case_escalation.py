"""A request passed to the 末端处置 case channel, and its case's progress shown to the resident,
through the SDK's contract alone (``shequyun_sdk.cases``): only this plugin is loaded here, so
no case channel answers and the test plays the channel. ``test_case_channel.py`` goes the whole
way through the 社区治理 plugin.
"""

from __future__ import annotations

import pytest
import shequyun_interaction
from shequyun_sdk.cases import CASE_ESCALATION, CASE_UPDATED
from sqlmodel import select

from .conftest import API

REPAIR = {"category": "repair", "title": "顶楼漏水", "body": "12号楼顶楼连续漏水"}


@pytest.fixture
def shequyun_discover():
    return False


@pytest.fixture
def shequyun_plugins():
    return [shequyun_interaction]


def outbox(platform, event_type):
    from shequyun.events import OutboxEvent  # the kernel's outbox, read as an operator would

    with platform.session() as session:
        rows = session.exec(select(OutboxEvent).where(OutboxEvent.type == event_type)).all()
        return [r.payload for r in rows]


def test_escalating_publishes_the_contract_event_and_updates_come_back(town, drain_events):
    wang = town.verified(town.resident("王秀英"))
    request_id = wang.post("/requests", REPAIR).json()["id"]
    cadre = town.cadre()
    sent = town.client.post(
        f"{API}/manage/requests/{request_id}/escalate",
        json={"note": "需房管所维修"},
        headers=cadre.auth,
    )
    assert sent.status_code == 200, sent.text
    platform = town.client.app.state.platform
    [asked] = outbox(platform, CASE_ESCALATION)
    assert asked["source"] == "interaction" and asked["source_ref"] == f"request:{request_id}"
    assert asked["unit_code"] == "310115004001" and asked["resident_id"] == wang.resident.id
    again = town.client.post(
        f"{API}/manage/requests/{request_id}/escalate", json={}, headers=cadre.auth
    )
    assert again.status_code == 409
    other = town.cadre("310115004002")
    refused = town.client.post(
        f"{API}/manage/requests/{request_id}/escalate", json={}, headers=other.auth
    )
    assert refused.status_code == 404

    # A case channel (any: here the test itself) reports a step back.
    with platform.session() as session:
        platform.publish(
            session,
            CASE_UPDATED,
            {
                "source": "interaction",
                "source_ref": f"request:{request_id}",
                "case_id": 1,
                "case_number": "ZL202612060000001",
                "status": "pending",
                "status_label": "待签收",
                "step": "escalate",
                "step_label": "上报",
                "note": "",
                "unit_name": "潍坊新村街道",
                "at": "2026-12-06T10:00:00+00:00",
            },
        )
    drain_events()
    seen = wang.get(f"/requests/{request_id}").json()
    assert seen["case"]["number"] == "ZL202612060000001"
    assert seen["case"]["status_label"] == "待签收"
    assert "治理案件 ZL202612060000001：上报（待签收）" in seen["replies"][-1]["body"]
    notes = wang.get("/notifications").json()["items"]
    assert any("上报（待签收）" in n["title"] for n in notes)
