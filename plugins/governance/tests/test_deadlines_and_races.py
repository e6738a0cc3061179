"""Working-day deadlines, and two people acting on one case at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from shequyun_governance import cases, flow
from shequyun_sdk import ApiError

from .conftest import WANPING


@pytest.fixture
def on_30_september(monkeypatch):
    """Today is Wednesday 30 September 2026, the eve of the 国庆 holiday (1–7 October)."""
    monkeypatch.setattr(cases, "today", lambda: date(2026, 9, 30))
    monkeypatch.setattr(flow, "today", lambda: date(2026, 9, 30))


def test_the_deadline_skips_the_holiday(xuhui, on_30_september):
    # 安全隐患: 2 working days. Thursday 1 October to Wednesday 7 October are holidays, so the
    # days counted are Thursday 8 and Friday 9 October.
    case = xuhui.open(xuhui.street, unit_code=WANPING, category="safety")
    assert case["created_on"] == "2026-09-30"
    assert case["accept_due"] == "2026-10-08"
    assert case["due_on"] == "2026-10-09"
    # 设施维修, 7 working days: Saturday 10 October is worked in exchange (调休上班).
    longer = xuhui.open(xuhui.street, unit_code=WANPING, category="facility")
    assert longer["due_on"] == "2026-10-15"  # 8, 9, 10 (Saturday), 12, 13, 14, 15


def test_an_edited_calendar_moves_new_deadlines(xuhui, on_30_september):
    admin = xuhui.actors.platform_admin()
    made_ordinary = xuhui.client.put(
        "/api/v1/calendar/days/2026-10-08",
        json={"kind": "holiday", "name": "国庆节"},
        headers=admin.auth,
    )
    assert made_ordinary.status_code == 200
    case = xuhui.open(xuhui.street, unit_code=WANPING, category="safety")
    assert case["due_on"] == "2026-10-10"  # 8 October is now a holiday; Saturday 10 is worked


def test_two_cadres_accepting_at_once_one_wins_one_gets_409(xuhui):
    case = xuhui.open(xuhui.street, unit_code=WANPING)
    other = xuhui.actors.cadre(WANPING)
    # Both loaded the case at version 1 and press 签收 together.
    version = case["version"]
    first = xuhui.step(xuhui.cadre, case["id"], "accept", version=version)
    second = xuhui.step(other, case["id"], "accept", version=version)
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert second.json()["error"]["code"] == "stale"


def test_two_threads_taking_a_step_at_once_leave_one_winner(xuhui):
    case = xuhui.open(xuhui.street, unit_code=WANPING)
    platform = xuhui.client.app.state.platform
    actors = [xuhui.cadre.actor, xuhui.actors.cadre(WANPING).actor]
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def press(actor):
        start.wait()
        try:
            flow.take_step(platform, actor, case["id"], "accept", {})
            outcomes.append(200)
        except ApiError as exc:
            outcomes.append(exc.status_code)

    threads = [threading.Thread(target=press, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200, 409]
    with platform.session() as session:
        steps = [s.action for s in cases.history(session, case["id"])]
    assert steps.count("accept") == 1
