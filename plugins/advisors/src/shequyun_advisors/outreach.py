"""政策找人: find candidates in an area, list them with reasons, follow them up.

Every rule of outreach is a function here, called alike by the API, the pages and the event
subscriber: scope (the kernel's, through the population and ``scope_filter``), masking (only
the resident views the kernel masks), audit (every list view, export and case read), history
(one :class:`~.models.CaseEvent` per change) and events.

A *case* is one resident found for one policy. :func:`sync` finds new cases in an area in one
``INSERT … SELECT`` per policy from the compiled SQL, marks as receiving those the data now
shows receiving, and drops untouched cases the data rules out; the list then reads cases,
re-evaluating only the residents of the page for their current reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from shequyun_sdk import Actor, Conflict, NotFound, Platform, UnitRef, ValidationFailed
from sqlalchemy import and_, case, exists, func, insert, literal, update
from sqlmodel import Session, col, select

from . import pool
from .core import CLOSED, OUTCOMES, OUTREACH, STATUSES, beijing
from .models import Case, CaseEvent, Receipt, utcnow
from .policy.evaluate import Outcome
from .policy.model import PASS, VERDICT_TITLES, VERDICTS, Policy
from .policy.reasons import render_reason

__all__ = ["case_view", "get_case", "list_candidates", "record_outcome", "sync"]

PAGE = 50


def _verdict_name(column: Any) -> Any:
    return case(*((column == code, literal(name)) for code, name in VERDICTS.items()))


def sync(
    platform: Platform,
    session: Session,
    actor: Actor,
    unit: UnitRef,
    policies: Sequence[Policy],
    day: date | None = None,
) -> dict[str, int]:
    """Bring the cases of ``unit`` up to date with the data; new cases found, per policy."""
    day = day or pool.today()
    people = platform.resident_population(actor, permission=OUTREACH, within=unit)
    cases = Case.__table__
    now = utcnow()
    found: dict[str, int] = {}
    for policy in policies:
        compiled = pool.compiled(platform, session, policy, people, day)
        c = compiled.columns
        new = (
            select(
                literal(policy.id),
                c.resident_id,
                c.unit_id,
                literal("found"),
                literal(0),
                _verdict_name(c.verdict),
                literal(now),
                literal(now),
                literal(1),
                literal(""),
            )
            .where(compiled.candidate)
            .where(
                ~exists().where(
                    cases.c.policy_id == policy.id, cases.c.resident_id == c.resident_id
                )
            )
        )
        before = _count(session, policy.id)
        session.execute(
            insert(cases).from_select(
                [
                    "policy_id",
                    "resident_id",
                    "unit_id",
                    "status",
                    "reached",
                    "verdict",
                    "found_at",
                    "updated_at",
                    "version",
                    "assignee",
                ],
                new,
            )
        )
        # rowcount of INSERT … SELECT is not reliable across drivers: count instead
        found[policy.id] = _count(session, policy.id) - before
        receiving = select(c.resident_id).where(c.receiving == 1)
        _close(session, policy.id, receiving, "receiving", now, from_status=None)
        ruled_out = select(c.resident_id).where(c.verdict == 0, c.receiving == 0)
        _close(session, policy.id, ruled_out, "dropped", now, from_status="found")
    platform.audit(
        session,
        "advisors.synced",
        actor=actor,
        target_type="unit",
        target_id=unit.code,
        detail={"found": found, "day": day.isoformat()},
    )
    return found


def _count(session: Session, policy_id: str) -> int:
    query = select(func.count()).select_from(Case).where(Case.policy_id == policy_id)
    return int(session.execute(query).scalar_one())


def _close(
    session: Session,
    policy_id: str,
    residents: Any,
    status: str,
    now: datetime,
    *,
    from_status: str | None,
) -> None:
    open_cases = and_(
        col(Case.policy_id) == policy_id,
        col(Case.status).not_in(CLOSED),
        col(Case.resident_id).in_(residents),
    )
    if from_status is not None:
        open_cases = and_(open_cases, col(Case.status) == from_status)
    ids = list(session.exec(select(col(Case.id)).where(open_cases)).all())  # type: ignore[call-overload]
    if not ids:
        return
    reached = STATUSES[status][1]
    session.execute(
        update(Case)
        .where(col(Case.id).in_(ids))
        .values(
            status=status,
            reached=_at_least(reached),
            closed_at=now,
            updated_at=now,
            version=Case.version + 1,
        )
    )
    for case_id in ids:
        session.add(
            CaseEvent(case_id=case_id, actor="系统", action=status, to_status=status, note="")
        )


def _at_least(reached: int) -> Any:
    return case((col(Case.reached) > reached, col(Case.reached)), else_=reached)


def _scoped(platform: Platform, actor: Actor, unit: UnitRef | None, committees: Any) -> Any:
    condition = platform.scope_filter(actor, OUTREACH, Case.unit_id)
    if committees is not None:
        condition = and_(condition, col(Case.unit_id).in_(committees))
    return condition


def list_candidates(
    platform: Platform,
    session: Session,
    actor: Actor,
    unit: UnitRef,
    *,
    committees: Sequence[int] | None,
    policy_id: str | None = None,
    status: str = "open",
    after: int | None = None,
    limit: int = PAGE,
    export: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of ``unit``'s cases (masked), with current reasons; audited."""
    if status not in ("open", "all", *STATUSES):
        raise ValidationFailed("状态不正确", field="status")
    query = select(Case).where(_scoped(platform, actor, unit, committees))
    if policy_id:
        query = query.where(Case.policy_id == policy_id)
    if status == "open":
        query = query.where(col(Case.status).not_in(CLOSED))
    elif status != "all":
        query = query.where(Case.status == status)
    if after is not None:
        query = query.where(col(Case.id) > after)
    rows = list(session.exec(query.order_by(col(Case.id)).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = views(platform, session, actor, rows)
    platform.audit(
        session,
        "advisors.candidates_exported" if export else "advisors.candidates_viewed",
        actor=actor,
        target_type="unit",
        target_id=unit.code,
        detail={"policy": policy_id, "status": status, "count": len(items)},
    )
    return items, (rows[-1].id if more and rows else None)


def views(
    platform: Platform, session: Session, actor: Actor, rows: Sequence[Case]
) -> list[dict[str, Any]]:
    """Cases as the API shows them: the kernel's masked resident view, reasons of today."""
    day = pool.today()
    policies = {p.id: p for p in pool.pool(session, in_force=False)}
    results = _evaluate(platform, session, actor, rows, policies, day)
    residents = platform.resident_views(
        session, actor, [row.resident_id for row in rows], permission=OUTREACH
    )
    return [
        case_view(
            row, policies.get(row.policy_id), residents.get(row.resident_id), results.get(row.id)
        )
        for row in rows
    ]


def _evaluate(
    platform: Platform,
    session: Session,
    actor: Actor,
    rows: Sequence[Case],
    policies: dict[str, Policy],
    day: date,
) -> dict[int, tuple[int, list[Outcome], int | None]]:
    """Current verdict, reasons and amount of each case, one query per policy on the page."""
    found: dict[int, tuple[int, list[Outcome], int | None]] = {}
    people = platform.resident_population(actor, permission=OUTREACH)
    by_policy: dict[str, list[Case]] = {}
    for row in rows:
        by_policy.setdefault(row.policy_id, []).append(row)
    for policy_id, cases in by_policy.items():
        policy = policies.get(policy_id)
        if policy is None:
            continue
        compiled = pool.compiled(platform, session, policy, people, day)
        wanted = {c.resident_id: c.id for c in cases}
        query = select(compiled.query).where(compiled.columns.resident_id.in_(list(wanted)))
        for result in session.execute(query).all():
            codes = compiled.leaf_codes(result)
            clue = compiled.clue_codes(result)
            outcomes = [
                Outcome(leaf.id, codes[leaf.id], render_reason(policy, leaf, codes[leaf.id], day))
                for leaf in policy.leaves()
            ] + [
                Outcome(leaf.id, clue[leaf.id], render_reason(policy, leaf, clue[leaf.id], day))
                for leaf in policy.clue_leaves()
                if clue[leaf.id] == PASS  # only the clues that led here
            ]
            found[wanted[result.resident_id]] = (result.verdict, outcomes, result.amount)
    return found


def case_view(
    row: Case,
    policy: Policy | None,
    resident: dict[str, Any] | None,
    result: tuple[int, list[Outcome], int | None] | None,
) -> dict[str, Any]:
    verdict = VERDICTS[result[0]] if result is not None else row.verdict
    return {
        "id": row.id,
        "policy": {"id": row.policy_id, "name": policy.name if policy else row.policy_id},
        "status": row.status,
        "status_title": STATUSES[row.status][0],
        "verdict": verdict,
        "verdict_title": VERDICT_TITLES.get(verdict, verdict),
        "amount": result[2] if result is not None else None,
        "reasons": distinct_reasons(result[1] if result is not None else []),
        "assignee": row.assignee or None,
        "found_at": beijing(row.found_at),
        "updated_at": beijing(row.updated_at),
        "version": row.version,
        "resident": _resident(resident) if resident is not None else None,
    }


def distinct_reasons(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Reasons in condition order, each text once (two conditions may both lack one input)."""
    seen: set[str] = set()
    reasons = []
    for o in outcomes:
        if o.reason and o.reason not in seen:
            seen.add(o.reason)
            reasons.append({"id": o.id, "outcome": o.outcome, "reason": o.reason})
    return reasons


def _resident(view: dict[str, Any]) -> dict[str, Any]:
    """Only masked fields of the kernel's view: never an ID number or phone in clear."""
    address = view.get("address") or {}
    household = view.get("household") or {}
    return {
        "id": view["id"],
        "name": view["name"],
        "gender": view.get("gender_label"),
        "age": view.get("age"),
        "registration": view.get("registration_label"),
        "unit": view["unit"],
        "address": address.get("label"),
        "household": household.get("number"),
        "id_number": view.get("id_number"),
        "phone": view.get("phone"),
        "tags": view.get("tags", []),
    }


def get_case(
    platform: Platform, session: Session, actor: Actor, case_id: int, *, audit: bool = True
) -> Case:
    """The case, if ``actor`` may do outreach on its committee; otherwise "not found"."""
    row = session.exec(
        select(Case).where(Case.id == case_id, platform.scope_filter(actor, OUTREACH, Case.unit_id))
    ).first()
    if row is None:
        raise NotFound("找不到该对象", field="case_id")
    if audit:
        platform.audit(
            session,
            "advisors.case_viewed",
            actor=actor,
            target_type="advisors_case",
            target_id=row.id,
        )
    return row


def history(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
    ).all()
    return [
        {
            "at": beijing(e.at),
            "actor": e.actor,
            "action": e.action,
            "from": e.from_status or None,
            "to": e.to_status or None,
            "to_title": STATUSES[e.to_status][0] if e.to_status in STATUSES else None,
            "note": e.note,
        }
        for e in rows
    ]


def record_outcome(
    platform: Platform,
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    outcome: Any,
    note: Any = "",
    version: Any = None,
) -> Case:
    """Record what outreach found; history, audit and the ``advisors.case.updated`` event.

    ``approved`` on a policy whose receiving marker is the plugin's own register records the
    benefit, so the case counts as receiving at once; for the others the case stays
    ``approved`` until the resident's data shows receiving (a tag, an attribute).
    """
    row = get_case(platform, session, actor, case_id, audit=False)
    problems = []
    if outcome not in OUTCOMES:
        problems.append(
            {"field": "outcome", "message": "结果应为已联系、已申请、已批准、谢绝或不符合之一"}
        )
    if not isinstance(note, str) or len(note) > 400:
        problems.append({"field": "note", "message": "备注应为不超过400字的文字"})
    if version is not None and not (isinstance(version, int) and not isinstance(version, bool)):
        problems.append({"field": "version", "message": "版本应为整数"})
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], details=problems)
    if version is not None and version != row.version:
        raise Conflict("该记录已被他人更新，请刷新后重试", field="version")
    if row.status in CLOSED:
        raise Conflict(f"该对象已{STATUSES[row.status][0]}，不能再记录", field="outcome")
    now = utcnow()
    status = outcome
    if outcome == "approved":
        policy = pool.get_policy(session, row.policy_id)
        if policy is not None and policy.receiving.recorded:
            session.add(
                Receipt(
                    policy_id=row.policy_id,
                    resident_id=row.resident_id,
                    since=pool.today(),
                    source="outreach",
                    recorded_by=actor.username,
                )
            )
            status = "receiving"
    before = row.status
    row.status = status
    row.reached = max(row.reached, STATUSES[status][1])
    row.updated_at = now
    row.version += 1
    if status in CLOSED:
        row.closed_at = now
    session.add(row)
    session.add(
        CaseEvent(
            case_id=row.id,
            actor=actor.display_name or actor.username,
            action=outcome,
            from_status=before,
            to_status=status,
            note=note,
        )
    )
    platform.audit(
        session,
        "advisors.outcome_recorded",
        actor=actor,
        target_type="advisors_case",
        target_id=row.id,
        detail={"policy": row.policy_id, "from": before, "to": status},
    )
    platform.publish(
        session,
        "advisors.case.updated",
        {
            "case_id": row.id,
            "policy_id": row.policy_id,
            "unit_code": _unit_code(platform, session, row.unit_id),
            "unit_id": row.unit_id,
            "status": status,
        },
    )
    return row


def _unit_code(platform: Platform, session: Session, unit_id: int) -> str:
    unit = platform.unit_by_id(session, unit_id)
    assert unit is not None
    return unit.code


def assign(
    platform: Platform, session: Session, actor: Actor, case_id: int, *, assignee: Any
) -> Case:
    """Give a case to someone (an advisor's or cadre's name, or oneself with ``"me"``)."""
    row = get_case(platform, session, actor, case_id, audit=False)
    if assignee == "me":
        name, user_id = actor.display_name or actor.username, actor.user_id
    elif isinstance(assignee, str) and 0 < len(assignee.strip()) <= 80:
        name, user_id = assignee.strip(), None
    else:
        raise ValidationFailed("请填写负责人", field="assignee")
    row.assignee, row.assignee_user_id = name, user_id
    row.updated_at = utcnow()
    row.version += 1
    session.add(row)
    session.add(
        CaseEvent(
            case_id=row.id,
            actor=actor.display_name or actor.username,
            action="assigned",
            note=f"交由{name}跟进",
        )
    )
    platform.audit(
        session,
        "advisors.case_assigned",
        actor=actor,
        target_type="advisors_case",
        target_id=row.id,
        detail={"assignee": name},
    )
    return row
