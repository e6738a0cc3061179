"""A resident's request escalated through the SDK's case-channel events, with no other plugin."""

from __future__ import annotations

from shequyun_sdk.cases import CASE_ESCALATION, CASE_UPDATED, escalation, read_update
from sqlmodel import select

from .conftest import WANPING


def test_an_escalation_event_opens_one_case_and_updates_flow_back(xuhui, drain_events):
    resident_id = xuhui.resident("王秀英")
    platform = xuhui.client.app.state.platform
    payload = escalation(
        source="interaction",
        source_ref="request:7",
        unit_code=WANPING,
        title="12号楼屋顶漏水",
        description="连续下雨后顶楼漏水，居民多次反映",
        category="repair",
        resident_id=resident_id,
        requested_by="张社工",
    )
    with platform.session() as session:
        platform.publish(session, CASE_ESCALATION, payload)
        platform.publish(session, CASE_ESCALATION, payload)  # delivered twice: still one case
    drain_events()
    listed = xuhui.call(xuhui.cadre, "GET", "/cases?source=interaction").json()
    assert listed["total"] == 1
    case = listed["items"][0]
    assert case["status"] == "handling" and case["category"] == "设施维修"
    assert case["subject"]["label"].startswith("王秀英")
    assert xuhui.call(xuhui.sibling, "GET", f"/cases/{case['id']}").status_code == 404
    xuhui.step(xuhui.cadre, case["id"], "escalate", note="需房管部门维修")

    from shequyun.events import OutboxEvent

    with platform.session() as session:
        updates = [
            read_update(e.payload)
            for e in session.exec(select(OutboxEvent).where(OutboxEvent.type == CASE_UPDATED))
        ]
    assert [(u["step"], u["status"], u["source_ref"]) for u in updates] == [
        ("open", "handling", "request:7"),
        ("escalate", "pending", "request:7"),
    ]
    assert updates[1]["unit_name"] == "天平路街道" and updates[1]["status_label"] == "待签收"


def test_a_malformed_escalation_is_dropped_not_retried_forever(
    xuhui, drain_events, unchecked_events
):
    platform = xuhui.client.app.state.platform
    # As a plugin built without the declaration (or a broken one) might publish it.
    with unchecked_events(), platform.session() as session:
        platform.publish(session, CASE_ESCALATION, {"source": "x"})
    drain_events()
    assert xuhui.call(xuhui.district, "GET", "/cases").json()["total"] == 0
