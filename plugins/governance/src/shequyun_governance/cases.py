"""末端处置 cases: who sees them, opening them, listing them, and their deadlines.

A case is **visible** to the unit handling it and every unit above it, and to every unit that
took part (opened, dispatched, rejected or escalated it) and is not above the handler any more
(:class:`~.models.CaseParty`); never to a sibling.
Both checks and lists use :func:`visible`, one SQL condition built on the kernel's scope filter.

Deadlines count working days on the platform's calendar (:meth:`Platform.work_calendar`): a
case must be accepted (签收) within ``accept_days`` working days of reaching a unit and handled
within its category's ``due_days`` (or the dispatcher's own figure). The step functions are in
:mod:`.flow`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shequyun_sdk import Actor, Forbidden, NotFound, Platform, UnitRef, ValidationFailed
from shequyun_sdk.cases import CASE_UPDATED, CaseUpdate
from shequyun_sdk.workdays import WorkCalendar
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import categories
from .core import (
    DISPATCH,
    HANDLE,
    VIEW,
    Errors,
    acting_unit,
    integer,
    now,
    text,
    today,
)
from .files import Upload, attach
from .models import Case, CaseParty, CaseStep

__all__ = [
    "ACTIONS",
    "PRIORITIES",
    "SOURCES",
    "STATUSES",
    "get",
    "history",
    "open_case",
    "punctuality",
    "visible",
]

STATUSES = {
    "pending": "待签收",
    "handling": "处置中",
    "reported": "待核查",
    "returned": "已退回",
    "closed": "已结案",
}
OPEN = ("pending", "handling", "reported", "returned")
ACTIONS = {
    "dispatch": "派单",
    "open": "立案",
    "accept": "签收",
    "handle": "处置",
    "report": "反馈",
    "verify": "核查",
    "close": "结案",
    "return": "核查退回",
    "reject": "退单",
    "escalate": "上报",
    "reassign": "转派",
    "extend": "申请延期",
    "extend_grant": "批准延期",
    "extend_deny": "不予延期",
    "supervise": "督办",
    "revisit": "回访",
}
SOURCES = {
    "dispatch": "上级派单",
    "city": "城运平台",
    "interaction": "居民在线服务",
    "fieldlog": "民情日志",
    "self": "自行发现",
}
PRIORITIES = {"normal": "一般", "urgent": "紧急"}
PUNCTUALITY = {"on_time": "按期", "at_risk": "临期", "overdue": "超期"}

#: Working days a unit has to accept (签收) a case that reached it.
DEFAULT_ACCEPT_DAYS = 1


def visible(platform: Platform, actor: Actor | None, permission: str = VIEW) -> Any:
    """The SQL condition on :class:`Case` rows ``actor`` may see: handled inside the actor's
    scope, or one of its parties is."""
    parties = select(CaseParty.case_id).where(
        platform.scope_filter(actor, permission, CaseParty.unit_id)
    )
    return or_(platform.scope_filter(actor, permission, Case.unit_id), col(Case.id).in_(parties))


def get(platform: Platform, session: Session, actor: Actor | None, case_id: int) -> Case:
    """The case ``case_id`` if ``actor`` may see it; NotFound otherwise (never 403: a sibling
    committee must not learn that the case exists)."""
    row = session.exec(select(Case).where(Case.id == case_id, visible(platform, actor))).first()
    if row is None:
        raise NotFound("找不到该案件")
    return row


def history(session: Session, case_id: int) -> list[CaseStep]:
    return list(
        session.exec(select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.id)))
    )


def punctuality(calendar: WorkCalendar, case: Case, on: date | None = None) -> str:
    """``on_time``, ``at_risk`` or ``overdue`` (closed cases: by their closing day)."""
    return calendar.punctuality(case.due_on, today=on or today(), done_on=case.closed_on)


def accept_days(platform: Platform) -> int:
    context = platform.plugin("governance")
    if context is None:
        return DEFAULT_ACCEPT_DAYS
    return int(context.settings.get("accept_days", DEFAULT_ACCEPT_DAYS))


# -- opening ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    """A case about to be opened, its input checked."""

    title: str
    description: str
    category_id: int
    category_name: str
    due_days: int
    priority: str
    target: UnitRef
    subject_key: str | None
    subject_label: str
    resident_id: int | None
    household_id: int | None
    place: str | None
    address: str
    latitude: float | None
    longitude: float | None
    photos: list[str]


def check_opening(
    platform: Platform,
    session: Session,
    actor: Actor,
    raw: Mapping[str, Any],
    *,
    default_target: UnitRef | None = None,
) -> Opening:
    """Every problem with a new case's fields at once (422), or the checked case."""
    errors = Errors()
    title = text(raw, "title", "案件标题", errors, max_length=120)
    description = text(raw, "description", "案件描述", errors, max_length=4000)
    category = categories.pick(session, "case", raw.get("category"), errors)
    priority = str(raw.get("priority") or "normal")
    if priority not in PRIORITIES:
        errors.add("priority", "紧急程度应为 normal（一般）或 urgent（紧急）")
    due_days = integer(raw, "due_days", "办理时限（工作日）", errors, low=1, high=60)
    address = text(raw, "address", "地址", errors, max_length=200, required=False)
    latitude = _coordinate(raw, "lat", -90, 90, errors)
    longitude = _coordinate(raw, "long", -180, 180, errors)
    code = raw.get("unit_code")
    target = default_target
    if code:
        target = platform.unit(session, str(code))
        if target is None or target.closed:
            errors.add("unit_code", "找不到该承办单位")
    if target is None:
        target = acting_unit(actor)
    subject_key, subject_label, resident_id, household_id = None, "", None, None
    place = None
    if raw.get("subject"):
        subject_key = str(raw["subject"])
        found = platform.resolve_picks(session, actor, [subject_key], permission=VIEW).get(
            subject_key
        )
        if found is None:
            errors.add("subject", "找不到该居民、家庭户或楼栋，或不在您的管辖范围内")
        else:
            subject_label = found.label
            resident_id, household_id = found.resident_id, found.household_id
            if found.compound and found.building:
                place = f"{found.compound}{found.building}号楼"
            if not address:
                address = found.label.split(" · ")[-1]
    photos = raw.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
        errors.add("photos", "照片应为附件编号的列表")
        photos = []
    errors.raise_if_any()
    assert category is not None
    return Opening(
        title=title,
        description=description,
        category_id=int(category.id or 0),
        category_name=category.name,
        due_days=due_days or category.due_days,
        priority=priority,
        target=target,
        subject_key=subject_key,
        subject_label=subject_label,
        resident_id=resident_id,
        household_id=household_id,
        place=place,
        address=address,
        latitude=latitude,
        longitude=longitude,
        photos=list(photos),
    )


def _coordinate(
    raw: Mapping[str, Any], name: str, low: float, high: float, errors: Errors
) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.add(name, "坐标应为数字")
        return None
    if not low <= number <= high:
        errors.add(name, f"坐标应在 {low}–{high} 之间")
        return None
    return number


def open_case(
    platform: Platform,
    session: Session,
    actor: Actor,
    opening: Opening,
    *,
    source: str = "dispatch",
    source_ref: str | None = None,
    origin: UnitRef | None = None,
    log_id: int | None = None,
    actor_name: str | None = None,
    uploads: Sequence[Upload] = (),
) -> Case:
    """Open a case at ``opening.target`` from ``origin`` (default: the actor's unit).

    Dispatching below oneself (派单) needs ``governance.dispatch`` on the target; a case for
    one's own unit (立案: from a field log, a resident's request) needs ``governance.handle``
    and starts accepted. The step, the audit entry and the events are written in ``session``.
    """
    origin = origin or acting_unit(actor)
    target = opening.target
    own = target.id == origin.id
    if own:
        if not platform.can(actor, HANDLE, target):
            raise Forbidden("您没有办理本单位案件的权限")
    elif not (target.path.startswith(origin.path) and platform.can(actor, DISPATCH, target)):
        raise ValidationFailed("只能向本单位下级派单", field="unit_code")
    calendar = platform.work_calendar(session)
    day = today()
    case = Case(
        number=f"tmp-{uuid.uuid4().hex[:18]}",
        title=opening.title,
        description=opening.description,
        category_id=opening.category_id,
        category_name=opening.category_name,
        priority=opening.priority,
        source=source,
        source_ref=source_ref,
        status="handling" if own else "pending",
        origin_unit_id=origin.id,
        dispatcher_unit_id=origin.id,
        unit_id=target.id,
        unit_name=target.name,
        chain=[[origin.id, target.id]],
        subject_key=opening.subject_key,
        subject_label=opening.subject_label,
        resident_id=opening.resident_id,
        household_id=opening.household_id,
        place=opening.place,
        address=opening.address,
        latitude=opening.latitude,
        longitude=opening.longitude,
        created_on=day,
        accept_due=calendar.add_working_days(day, accept_days(platform)),
        due_on=calendar.add_working_days(day, opening.due_days),
        accepted_at=now() if own else None,
        log_id=log_id,
        created_by=actor_name or actor.display_name,
    )
    session.add(case)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateSource(source, source_ref) from None
    assert case.id is not None
    case.number = f"ZL{day:%Y%m%d}{case.id:07d}"
    if not target.path.startswith(origin.path):
        # Opened from beside or below (never today: dispatch goes down), still followed.
        session.add(CaseParty(case_id=case.id, unit_id=origin.id))
    photos = claim_photos(platform, session, actor, case, opening.photos, uploads)
    record_step(
        platform,
        session,
        actor,
        case,
        "open" if own else "dispatch",
        None,
        note=opening.description if own else "",
        photos=photos,
        target=None if own else target,
        unit=origin,
        actor_name=actor_name,
        detail={"due_on": case.due_on.isoformat(), "accept_due": case.accept_due.isoformat()},
    )
    return case


class DuplicateSource(Exception):
    """A case with this ``(source, source_ref)`` exists already (the intake is idempotent)."""

    def __init__(self, source: str, source_ref: str | None) -> None:
        super().__init__(f"{source}:{source_ref}")
        self.source, self.source_ref = source, source_ref


def by_source(session: Session, source: str, source_ref: str) -> Case | None:
    return session.exec(
        select(Case).where(Case.source == source, Case.source_ref == source_ref)
    ).first()


def claim_photos(
    platform: Platform,
    session: Session,
    actor: Actor | None,
    case: Case,
    ids: Sequence[str],
    uploads: Sequence[Upload] = (),
) -> list[str]:
    """Attach photos to the case: readable by whoever may view the case's handling unit."""
    if not ids and not uploads:
        return []
    handler = platform.unit_by_id(session, case.unit_id)
    return attach(
        platform,
        session,
        actor,
        owner_ref=f"case:{case.id}",
        unit=handler,
        ids=ids,
        uploads=uploads,
        accept=("image", "document"),
    )


def _unit_fields(platform: Platform, session: Session, prefix: str, unit_id: int) -> dict[str, Any]:
    unit = platform.unit_by_id(session, unit_id)
    assert unit is not None
    return {f"{prefix}unit_code": unit.code, f"{prefix}unit_id": unit_id}


def record_step(
    platform: Platform,
    session: Session,
    actor: Actor | None,
    case: Case,
    action: str,
    from_status: str | None,
    *,
    note: str = "",
    photos: Sequence[str] = (),
    target: UnitRef | None = None,
    unit: UnitRef | None = None,
    actor_name: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CaseStep:
    """Write one step of the history, its audit entry and its events, in ``session``."""
    assert case.id is not None
    acting = unit or (actor.unit if actor is not None else None)
    step = CaseStep(
        case_id=case.id,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor_user_id=actor.user_id if actor is not None else None,
        actor=actor_name or (actor.display_name if actor is not None else "系统"),
        grant_id=actor.grant_id if actor is not None else None,
        role=actor.role if actor is not None else None,
        unit_id=acting.id if acting is not None else None,
        unit_name=acting.name if acting is not None else "",
        target_unit_id=target.id if target is not None else None,
        target_unit_name=target.name if target is not None else "",
        note=note,
        photos=list(photos),
        detail=dict(detail or {}),
    )
    session.add(step)
    platform.audit(
        session,
        f"governance.case_{action}",
        actor=actor,
        target_type="governance_case",
        target_id=case.id,
        detail={"number": case.number, "status": case.status, **(detail or {})},
    )
    payload = {
        "case_id": case.id,
        "number": case.number,
        "action": action,
        "status": case.status,
        **_unit_fields(platform, session, "", case.unit_id),
        **_unit_fields(platform, session, "origin_", case.origin_unit_id),
        "source": case.source,
        "source_ref": case.source_ref,
        "category": case.category_name,
        "due_on": case.due_on.isoformat(),
        "at": step.at.isoformat(),
    }
    platform.publish(session, f"governance.case.{action}", payload)
    if case.source_ref is not None:
        update: CaseUpdate = {
            "source": case.source,
            "source_ref": case.source_ref,
            "case_id": case.id,
            "case_number": case.number,
            "status": case.status,
            "status_label": STATUSES[case.status],
            "step": action,
            "step_label": ACTIONS[action],
            "note": note,
            "unit_name": case.unit_name,
            "at": step.at.isoformat(),
        }
        platform.publish(session, CASE_UPDATED, update)
    return step
