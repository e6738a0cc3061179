"""A resident's data changed: follow up their open cases.

``resident.updated`` (a tag such as 低保 set, an attribute such as the care grade recorded) and
``resident.moved`` re-evaluate that one resident for each policy they have an open case of, in
SQL as everywhere: a resident who now receives drops out of the list as ``receiving`` (the
funnel's last step); one the data now rules out, not yet contacted, is dropped; a moved
resident's case follows them to their new committee (and so to its advisors). Idempotent: the
outcome depends only on the data, so an event delivered twice changes nothing more.
"""

from __future__ import annotations

from shequyun_sdk import Actor, Event, Platform
from sqlmodel import col, select

from . import pool
from .core import CLOSED, OUTREACH, STATUSES
from .models import Case, CaseEvent, utcnow

__all__ = ["resident_changed"]


def resident_changed(platform: Platform, event: Event, actor: Actor) -> None:
    resident_id = int(event.payload["resident_id"])
    with platform.session() as session:
        cases = session.exec(
            select(Case).where(Case.resident_id == resident_id, col(Case.status).not_in(CLOSED))
        ).all()
        if not cases:
            return
        people = platform.resident_population(actor, permission=OUTREACH)
        day = pool.today()
        for case in cases:
            policy = pool.get_policy(session, case.policy_id)
            if policy is None:
                continue
            compiled = pool.compiled(platform, session, policy, people, day)
            row = session.execute(
                select(compiled.query).where(compiled.columns.resident_id == resident_id)
            ).first()
            before = case.status
            if row is None:  # removed (注销)
                case.status, note = "dropped", "居民已注销"
            elif row.receiving:
                case.status, note = "receiving", "居民信息显示已享受"
            elif row.verdict == 0 and case.status == "found":
                case.status, note = "dropped", "居民信息变化后不再符合"
            else:
                note = ""
            if row is not None and row.unit_id != case.unit_id:
                case.unit_id = row.unit_id
                note = note or "居民迁至新居委，名单随之转交"
            if not note:
                continue
            case.reached = max(case.reached, STATUSES[case.status][1])
            case.updated_at = utcnow()
            case.version += 1
            if case.status in CLOSED:
                case.closed_at = case.updated_at
            session.add(case)
            session.add(
                CaseEvent(
                    case_id=case.id or 0,
                    actor="系统",
                    action="data",
                    from_status=before,
                    to_status=case.status if case.status != before else "",
                    note=f"{note}（事件 {event.id}）",
                )
            )
