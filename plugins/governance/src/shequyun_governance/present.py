"""Cases and steps as the API and the pages show them, and which steps an actor may take now."""

from __future__ import annotations

from datetime import date
from typing import Any

from shequyun_sdk import Actor, Platform
from shequyun_sdk.workdays import WorkCalendar

from .cases import ACTIONS, PRIORITIES, PUNCTUALITY, SOURCES, STATUSES, punctuality
from .core import DISPATCH, HANDLE, acting_unit, today
from .flow import SATISFACTION
from .models import Case, CaseStep

__all__ = ["available_steps", "case_dict", "step_dict"]


def case_dict(calendar: WorkCalendar, case: Case, on: date | None = None) -> dict[str, Any]:
    state = punctuality(calendar, case, on)
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "description": case.description,
        "category": case.category_name,
        "category_id": case.category_id,
        "priority": case.priority,
        "priority_label": PRIORITIES[case.priority],
        "source": case.source,
        "source_label": SOURCES.get(case.source, case.source),
        "source_ref": case.source_ref,
        "status": case.status,
        "status_label": STATUSES[case.status],
        "punctuality": state,
        "punctuality_label": PUNCTUALITY[state],
        "unit": {"id": case.unit_id, "name": case.unit_name},
        "origin_unit_id": case.origin_unit_id,
        "dispatcher_unit_id": case.dispatcher_unit_id,
        "subject": None
        if case.subject_key is None
        else {"key": case.subject_key, "label": case.subject_label},
        "address": case.address,
        "lat": case.latitude,
        "long": case.longitude,
        "created_on": case.created_on.isoformat(),
        "accept_due": case.accept_due.isoformat(),
        "due_on": case.due_on.isoformat(),
        "working_days_left": None
        if case.closed_on is not None
        else calendar.working_days_between(on or today(), case.due_on),
        "accepted_at": _iso(case.accepted_at),
        "reported_at": _iso(case.reported_at),
        "closed_at": _iso(case.closed_at),
        "supervised": case.supervised,
        "extension": None
        if case.extension_days is None
        else {"days": case.extension_days, "reason": case.extension_reason},
        "satisfaction": case.satisfaction,
        "satisfaction_label": SATISFACTION.get(case.satisfaction or "", None),
        "log_id": case.log_id,
        "version": case.version,
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
    }


def step_dict(step: CaseStep) -> dict[str, Any]:
    return {
        "id": step.id,
        "action": step.action,
        "action_label": ACTIONS[step.action],
        "from_status": step.from_status,
        "to_status": step.to_status,
        "actor": step.actor,
        "actor_user_id": step.actor_user_id,
        "grant_id": step.grant_id,
        "role": step.role,
        "unit": {"id": step.unit_id, "name": step.unit_name},
        "target_unit": None
        if step.target_unit_id is None
        else {"id": step.target_unit_id, "name": step.target_unit_name},
        "note": step.note,
        "photos": [{"id": p, "url": f"/attachments/{p}"} for p in step.photos],
        "detail": step.detail,
        "at": step.at.isoformat(),
    }


def available_steps(platform: Platform, actor: Actor, case: Case) -> list[str]:
    """The steps ``actor`` may take on ``case`` now (the pages show these buttons; the step
    functions check again when one is taken)."""
    unit = acting_unit(actor)
    steps: list[str] = []
    handler = unit.id == case.unit_id and platform.can(actor, HANDLE, unit)
    own = case.dispatcher_unit_id == case.unit_id
    dispatcher = unit.id == case.dispatcher_unit_id and platform.can(
        actor, HANDLE if own else DISPATCH, unit
    )
    top_is_mine = bool(case.chain) and case.chain[-1][0] == unit.id
    if handler:
        if case.status in ("pending", "returned"):
            steps.append("accept")
        if case.status == "handling":
            steps += ["handle", "report"]
        if case.status in ("pending", "handling", "returned") and unit.level != "committee":
            steps.append("reassign")
        if case.status in ("pending", "handling") and not top_is_mine:
            steps.append("reject")
        if case.status in ("pending", "handling", "returned") and unit.level != "city":
            steps.append("escalate")
        if case.status in ("pending", "handling") and case.extension_days is None:
            steps.append("extend")
        if case.status == "returned" and case.origin_unit_id == unit.id:
            steps.append("close")
    if dispatcher:
        if case.status == "reported":
            steps.append("verify")
        if case.extension_days is not None:
            steps += ["extend_grant", "extend_deny"]
    if (
        case.status != "closed"
        and unit.id != case.unit_id
        and platform.can(actor, DISPATCH, unit)
        and case.unit_id in _path_ids(platform, actor, case)
    ):
        steps.append("supervise")
    involved = unit.id in (case.origin_unit_id, case.dispatcher_unit_id, case.unit_id)
    if case.status == "closed" and involved:
        steps.append("revisit")
    return steps


def _path_ids(platform: Platform, actor: Actor, case: Case) -> set[int]:
    """Whether the handler is below the actor's unit: the handler's id when it is."""
    with platform.session() as session:
        handler = platform.unit_by_id(session, case.unit_id)
    unit = acting_unit(actor)
    return {case.unit_id} if handler is not None and handler.path.startswith(unit.path) else set()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
