"""A case down the tree and back up: 徐汇区 → 天平路街道 → 宛平南路居委会 → verified and closed.

The sibling committee 建国西路 never learns that the case exists (404 at every step) while the
district sees the whole history.
"""

from __future__ import annotations

from sqlmodel import select

from .conftest import WANPING


def sibling_sees_nothing(xuhui, case_id):
    assert xuhui.call(xuhui.sibling, "GET", f"/cases/{case_id}").status_code == 404
    for action in ("accept", "handle", "report", "verify", "reject", "escalate", "supervise"):
        tried = xuhui.step(xuhui.sibling, case_id, action, note="试图办理")
        assert tried.status_code == 404, (action, tried.text)
    listed = xuhui.call(xuhui.sibling, "GET", "/cases").json()
    assert case_id not in [c["id"] for c in listed["items"]]


def test_dispatched_down_the_tree_and_back_up(xuhui, drain_events):
    case = xuhui.open(xuhui.district, unit_code="310104003000", priority="urgent")
    case_id = case["id"]
    assert case["status"] == "pending" and case["unit"]["name"] == "天平路街道"
    assert case["source"] == "dispatch" and case["number"].startswith("ZL")
    sibling_sees_nothing(xuhui, case_id)

    # The street passes it on to the committee that can deal with it.
    street_view = xuhui.call(xuhui.street, "GET", f"/cases/{case_id}").json()
    assert "reassign" in street_view["steps"] and "accept" in street_view["steps"]
    moved = xuhui.step(xuhui.street, case_id, "reassign", unit_code=WANPING, note="请居委核实")
    assert moved.status_code == 200, moved.text
    assert moved.json()["unit"]["name"] == "宛平南路居委会" and moved.json()["status"] == "pending"
    sibling_sees_nothing(xuhui, case_id)

    accepted = xuhui.step(xuhui.cadre, case_id, "accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "handling"
    photo = xuhui.photo(xuhui.cadre)
    handled = xuhui.step(xuhui.cadre, case_id, "handle", note="已联系物业更换灯泡", photos=[photo])
    assert handled.status_code == 200, handled.text
    sibling_sees_nothing(xuhui, case_id)
    reported = xuhui.step(xuhui.cadre, case_id, "report", note="两盏路灯已修复，居民确认")
    assert reported.json()["status"] == "reported"
    # Only the dispatcher checks the report: the committee cannot close its own work here.
    assert xuhui.step(xuhui.cadre, case_id, "verify", passed=True).status_code == 403

    closed = xuhui.step(xuhui.street, case_id, "verify", passed=True, note="现场核实已亮")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["punctuality"] == "on_time"
    sibling_sees_nothing(xuhui, case_id)

    whole = xuhui.call(xuhui.district, "GET", f"/cases/{case_id}").json()
    steps = [(s["action"], s["unit"]["name"]) for s in whole["history"]]
    assert steps == [
        ("dispatch", "徐汇区"),
        ("reassign", "天平路街道"),
        ("accept", "宛平南路居委会"),
        ("handle", "宛平南路居委会"),
        ("report", "宛平南路居委会"),
        ("verify", "天平路街道"),
        ("close", "天平路街道"),
    ]
    handle_step = whole["history"][3]
    assert handle_step["photos"] == [{"id": photo, "url": f"/attachments/{photo}"}]
    assert handle_step["actor_user_id"] == xuhui.cadre.user.id
    assert handle_step["grant_id"] == xuhui.cadre.grant.id and handle_step["at"]
    assert whole["history"][1]["target_unit"]["name"] == "宛平南路居委会"
    # The photo is served to the district (above the committee), never to the sibling.
    assert xuhui.client.get(f"/attachments/{photo}", headers=xuhui.district.auth).status_code == 200
    assert xuhui.client.get(f"/attachments/{photo}", headers=xuhui.sibling.auth).status_code in (
        403,
        404,
    )

    # Every step is an outbox event too.
    from shequyun.events import OutboxEvent  # the kernel's outbox, read as an operator would

    platform = xuhui.client.app.state.platform
    with platform.session() as session:
        types = [e.type for e in session.exec(select(OutboxEvent)).all()]
    assert [t for t in types if t.startswith("governance.case.")] == [
        f"governance.case.{a}" for a, _ in steps
    ]


def test_the_dispatcher_returns_a_report_and_the_district_supervises(xuhui):
    case_id = xuhui.open(xuhui.street, unit_code=WANPING)["id"]
    xuhui.step(xuhui.cadre, case_id, "accept")
    xuhui.step(xuhui.cadre, case_id, "report", note="已处理")
    returned = xuhui.step(xuhui.street, case_id, "verify", passed=False, note="照片不清楚，请补充")
    assert returned.json()["status"] == "handling"
    supervised = xuhui.step(xuhui.district, case_id, "supervise", note="请加快办理")
    assert supervised.status_code == 200 and supervised.json()["supervised"] == 1
    # The committee cannot supervise itself, nor a sibling anything.
    assert xuhui.step(xuhui.cadre, case_id, "supervise", note="x").status_code == 403


def test_reject_and_escalate_move_the_case_back_up(xuhui):
    case_id = xuhui.open(xuhui.street, unit_code=WANPING)["id"]
    rejected = xuhui.step(xuhui.cadre, case_id, "reject", note="不在本居委辖区")
    assert rejected.status_code == 200
    back = rejected.json()
    assert back["unit"]["name"] == "天平路街道" and back["status"] == "returned"
    # Back at the street, which opened it: it may close it without handling.
    closed = xuhui.step(xuhui.street, case_id, "close", note="经核实不属于本街道，已告知来源")
    assert closed.json()["status"] == "closed"

    own = xuhui.open(
        xuhui.cadre, title="楼道堆物", description="3号楼楼道堆放杂物", category="safety"
    )
    assert own["status"] == "handling" and own["source"] == "self"
    up = xuhui.step(xuhui.cadre, own["id"], "escalate", note="需街道协调执法")
    assert up.json()["unit"]["name"] == "天平路街道" and up.json()["status"] == "pending"
    # The committee that raised it still follows it.
    assert xuhui.call(xuhui.cadre, "GET", f"/cases/{own['id']}").status_code == 200
    assert xuhui.call(xuhui.sibling, "GET", f"/cases/{own['id']}").status_code == 404


def test_extension_asked_and_granted_moves_the_deadline(xuhui):
    case = xuhui.open(xuhui.street, unit_code=WANPING)
    xuhui.step(xuhui.cadre, case["id"], "accept")
    asked = xuhui.step(xuhui.cadre, case["id"], "extend", days=3, note="需等配件")
    assert asked.json()["extension"] == {"days": 3, "reason": "需等配件"}
    assert xuhui.step(xuhui.cadre, case["id"], "extend", days=2, note="再等").status_code == 409
    granted = xuhui.step(xuhui.street, case["id"], "extend_grant")
    assert granted.status_code == 200
    platform = xuhui.client.app.state.platform
    with platform.session() as session:
        calendar = platform.work_calendar(session)
    from datetime import date

    assert (
        granted.json()["due_on"]
        == calendar.add_working_days(date.fromisoformat(case["due_on"]), 3).isoformat()
    )
    assert granted.json()["extension"] is None


def test_bad_input_names_the_field(xuhui):
    bad = xuhui.call(xuhui.district, "POST", "/cases", {"title": "", "category": "nope"})
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"title", "description", "category"}
    outside = xuhui.call(
        xuhui.street,
        "POST",
        "/cases",
        {"title": "x", "description": "y", "category": "other", "unit_code": "310115004001"},
    )
    assert outside.status_code == 422 and outside.json()["error"]["field"] == "unit_code"
    assert xuhui.step(xuhui.street, 999999, "accept").status_code == 404
    case_id = xuhui.open(xuhui.street, unit_code=WANPING)["id"]
    assert xuhui.step(xuhui.cadre, case_id, "fly").status_code == 422
    assert xuhui.step(xuhui.cadre, case_id, "report", note="x").status_code == 409  # not accepted
