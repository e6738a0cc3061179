"""Cadres' notices: a new task, a reminder, a returned submission, a deadline coming, each in
the portal with an unread count in the header, and each also an event for SMS adapters."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, select

from shequyun.events import OutboxEvent
from shequyun.notices.collection_notices import remind_due_soon
from shequyun.notices.models import Notice, utcnow

from .test_collection_pages import GOOD, publish, task_id_of


def unread(html: str) -> int:
    found = re.search(
        r'class="notices-link"[^>]*>[^<]*(?:<span class="count"[^>]*>(\d+)</span>)?', html
    )
    assert found, "no 通知 link in the header"
    return int(found[1] or 0)


def test_a_cadre_is_told_of_a_new_task_a_reminder_and_a_return(
    shequyun_client, shequyun_actors, shequyun_kernel, drain_events
):
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310115004001")
    other = shequyun_actors.cadre("310115004002")
    _form_id, campaign_id = publish(shequyun_client, bureau)
    drain_events()
    portal = cadre.portal()
    assert unread(portal.get("/collection/tasks").text) == 1
    page = portal.get("/notices").text
    assert "新采集任务：加装电梯意愿摸底" in page and "新任务" in page

    task_id = task_id_of(shequyun_client, cadre)
    bureau.portal().post(f"/collection/campaigns/{campaign_id}/remind", data={})
    drain_events()
    drain_events()  # redelivery adds nothing: notices are keyed
    assert unread(portal.get("/notices").text) == 2
    assert unread(other.portal().get("/notices").text) == 2  # the other committee's cadre too

    portal.post(
        f"/collection/tasks/{task_id}",
        data={**GOOD, "action": "submit", "client_key": "notice-key-0001"},
    )
    bureau.portal().post(
        f"/collection/tasks/{task_id}/return", data={"comment": "户数与上月不符，请核实"}
    )
    drain_events()
    page = portal.get("/notices").text
    assert "填报被退回：加装电梯意愿摸底" in page and "户数与上月不符，请核实" in page

    with Session(shequyun_kernel.engine) as session:
        mine = session.exec(
            select(Notice).where(Notice.user_id == cadre.user.id).order_by(Notice.id)
        ).all()
        assert [n.kind for n in mine] == ["task", "reminder", "returned"]
        events = session.exec(select(OutboxEvent).where(OutboxEvent.type == "notice.created")).all()
        assert len(events) == 3 + 2  # every notice leaves as an event too
        assert events[-1].payload["link"] == f"/collection/tasks/{task_id}"

    opened = portal.post(f"/notices/{mine[-1].id}/read", follow_redirects=False)
    assert opened.headers["location"] == f"/collection/tasks/{task_id}"
    assert unread(portal.get("/notices").text) == 2
    portal.post("/notices/all/read")
    assert unread(portal.get("/notices").text) == 0
    # Someone else's notice cannot be read (or marked) by id.
    assert (
        other.portal()
        .post(f"/notices/{mine[0].id}/read", follow_redirects=False)
        .headers["location"]
        == "/notices"
    )


def test_a_deadline_within_a_day_is_noticed_once(
    shequyun_client, shequyun_actors, shequyun_kernel, drain_events
):
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310115004001")
    publish(shequyun_client, bureau, targets=("310115004001",))
    drain_events()
    notices = shequyun_kernel.notices
    with Session(shequyun_kernel.engine) as session:
        assert remind_due_soon(notices, session, utcnow()) == 0  # a week away
        soon = utcnow() + timedelta(days=6, hours=12)
        assert remind_due_soon(notices, session, soon) == 1
        assert remind_due_soon(notices, session, soon + timedelta(hours=1)) == 0
        session.commit()
    page = cadre.portal().get("/notices").text
    assert "即将截止：加装电梯意愿摸底" in page


def test_people_who_fill_nothing_have_no_notices_but_see_the_link(shequyun_actors):
    portal = shequyun_actors.bureau().portal()
    page = portal.get("/notices")
    assert page.status_code == 200 and "暂无通知" in page.text and unread(page.text) == 0
