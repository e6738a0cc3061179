"""Advisor points, advisors, their service records, the resource pool, monthly figures.

养老顾问 and 救助顾问 are platform users granted the role ``advisors.advisor`` on a street or a
committee; an :class:`~.models.Advisor` row ties such a user (or, for points not yet on the
platform, just a name) to a :class:`~.models.AdvisorPoint`. Every object carries the committee
or street it belongs to and is reached through the kernel's scope filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef, ValidationFailed
from shequyun_sdk.params import is_id
from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from .core import BEIJING, MANAGE, SERVE, VIEW, beijing
from .models import Advisor, AdvisorPoint, Resource, ServiceRecord

__all__ = [
    "CHANNELS",
    "KINDS",
    "create_advisor",
    "create_point",
    "create_resource",
    "match_resources",
    "monthly",
    "record_service",
]

KINDS = {"consultation": "咨询", "home_visit": "上门探访", "referral": "转介"}
CHANNELS = {"offline": "线下", "online": "线上", "phone": "电话", "radio": "广播"}
ADVISOR_KINDS = {"elderly": "养老顾问", "assistance": "救助顾问"}
POINT_KINDS = {"elderly": "养老顾问点", "assistance": "救助顾问点", "both": "综合顾问点"}
SECTORS = {"government": "政府", "social": "社会组织", "market": "市场"}


def _text(
    data: Mapping[str, Any],
    field: str,
    limit: int,
    problems: list[dict[str, str]],
    *,
    required: bool = True,
) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value.strip()) > limit or (required and not value.strip()):
        problems.append({"field": field, "message": f"请填写不超过{limit}字的文字"})
        return ""
    return value.strip()


def _choice(
    data: Mapping[str, Any], field: str, choices: Mapping[str, str], problems: list[dict[str, str]]
) -> str:
    value = data.get(field)
    if not isinstance(value, str) or value not in choices:
        problems.append({"field": field, "message": "应为" + "、".join(choices.values()) + "之一"})
        return ""
    return str(value)


def _raise(problems: list[dict[str, str]]) -> None:
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], details=problems)


def _unit(
    platform: Platform,
    session: Session,
    actor: Actor,
    permission: str,
    code: Any,
    field: str = "unit",
) -> UnitRef:
    unit = platform.unit(session, code) if isinstance(code, str) else None
    if unit is None or not platform.can(actor, permission, unit):
        raise NotFound("找不到该单位", field=field)
    return unit


def _ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


# -- points and advisors ----------------------------------------------------------------------


def create_point(
    platform: Platform, session: Session, actor: Actor, data: Mapping[str, Any]
) -> AdvisorPoint:
    problems: list[dict[str, str]] = []
    name = _text(data, "name", 80, problems)
    kind = _choice(data, "kind", POINT_KINDS, problems)
    address = _text(data, "address", 120, problems, required=False)
    phone = _text(data, "phone", 40, problems, required=False)
    _raise(problems)
    unit = _unit(platform, session, actor, MANAGE, data.get("unit"))
    covers = [
        _unit(platform, session, actor, MANAGE, code, "covers").id
        for code in (data.get("covers") or [unit.code])
    ]
    point = AdvisorPoint(
        name=name, kind=kind, unit_id=unit.id, address=address, phone=phone, covers=covers
    )
    session.add(point)
    session.flush()
    platform.audit(
        session,
        "advisors.point_created",
        actor=actor,
        target_type="advisors_point",
        target_id=point.id,
    )
    return point


def get_point(
    platform: Platform, session: Session, actor: Actor, point_id: Any, permission: str = VIEW
) -> AdvisorPoint:
    point = (
        session.exec(
            select(AdvisorPoint).where(
                AdvisorPoint.id == point_id,
                platform.scope_filter(actor, permission, AdvisorPoint.unit_id),
            )
        ).first()
        if is_id(point_id)
        else None
    )
    if point is None:
        raise NotFound("找不到该顾问点", field="point_id")
    return point


def create_advisor(
    platform: Platform, session: Session, actor: Actor, data: Mapping[str, Any]
) -> Advisor:
    problems: list[dict[str, str]] = []
    name = _text(data, "name", 80, problems)
    kind = _choice(data, "kind", ADVISOR_KINDS, problems)
    phone = _text(data, "phone", 40, problems, required=False)
    user_id = data.get("user_id")
    if user_id is not None and not is_id(user_id):
        problems.append({"field": "user_id", "message": "应为平台用户编号"})
    _raise(problems)
    point = get_point(platform, session, actor, data.get("point_id"), MANAGE)
    advisor = Advisor(
        user_id=user_id,
        name=name,
        kind=kind,
        point_id=point.id or 0,
        unit_id=point.unit_id,
        phone=phone,
    )
    session.add(advisor)
    session.flush()
    platform.audit(
        session,
        "advisors.advisor_created",
        actor=actor,
        target_type="advisors_advisor",
        target_id=advisor.id,
    )
    return advisor


def advisor_of(session: Session, actor: Actor) -> Advisor | None:
    """The advisor record of the signed-in user, if they are one."""
    return session.exec(
        select(Advisor).where(Advisor.user_id == actor.user_id, col(Advisor.active))
    ).first()


# -- service records --------------------------------------------------------------------------


def record_service(
    platform: Platform, session: Session, actor: Actor, data: Mapping[str, Any]
) -> ServiceRecord:
    """One consultation, visit or referral, by the signed-in advisor (or one named, for staff)."""
    problems: list[dict[str, str]] = []
    kind = _choice(data, "kind", KINDS, problems)
    channel = _choice(data, "channel", CHANNELS, problems)
    summary = _text(data, "summary", 2000, problems)
    at = datetime.now(UTC)
    if data.get("at"):
        try:
            at = datetime.fromisoformat(str(data["at"]))
            at = at if at.tzinfo else at.replace(tzinfo=BEIJING)
        except ValueError:
            problems.append({"field": "at", "message": "时间格式应为 YYYY-MM-DDTHH:MM"})
    _raise(problems)
    advisor = advisor_of(session, actor)
    if data.get("advisor_id") is not None:
        found = session.get(Advisor, data["advisor_id"]) if is_id(data["advisor_id"]) else None
        if found is None or not platform.can(
            actor, MANAGE, _unit_ref(platform, session, found.unit_id)
        ):
            raise NotFound("找不到该顾问", field="advisor_id")
        advisor = found
    if advisor is None:
        raise ValidationFailed("您还不是登记的社区顾问，请由街镇管理员登记", field="advisor_id")
    unit_id = advisor.unit_id
    resident_id = data.get("resident_id")
    if resident_id is not None:
        if not is_id(resident_id):
            raise ValidationFailed("居民编号应为整数", field="resident_id")
        try:
            resident = platform.get_resident(session, actor, resident_id)
        except NotFound:
            raise NotFound("找不到该居民", field="resident_id") from None
        unit = platform.unit(session, resident["unit"]["code"])
        unit_id = unit.id if unit is not None else unit_id
    record = ServiceRecord(
        advisor_id=advisor.id or 0,
        resident_id=resident_id,
        unit_id=unit_id,
        kind=kind,
        channel=channel,
        at=at,
        month=at.astimezone(BEIJING).strftime("%Y-%m"),
        summary=summary,
        policy_id=data.get("policy_id") if isinstance(data.get("policy_id"), str) else None,
        resource_id=data.get("resource_id") if is_id(data.get("resource_id")) else None,
        created_by=actor.username,
    )
    session.add(record)
    session.flush()
    platform.audit(
        session,
        "advisors.service_recorded",
        actor=actor,
        target_type="advisors_service",
        target_id=record.id,
        detail={"kind": kind, "resident_id": resident_id},
    )
    return record


def _unit_ref(platform: Platform, session: Session, unit_id: int) -> UnitRef:
    unit = platform.unit_by_id(session, unit_id)
    if unit is None:
        raise NotFound("找不到该单位")
    return unit


def service_log(
    platform: Platform, session: Session, actor: Actor, *, mine: bool = True, limit: int = 30
) -> list[dict[str, Any]]:
    query = select(ServiceRecord).where(platform.scope_filter(actor, SERVE, ServiceRecord.unit_id))
    if mine:
        advisor = advisor_of(session, actor)
        query = query.where(ServiceRecord.advisor_id == (advisor.id if advisor else -1))
    rows = session.exec(query.order_by(col(ServiceRecord.at).desc()).limit(limit)).all()
    refs = platform.resident_refs(session, [r.resident_id for r in rows if r.resident_id])
    return [
        {
            "id": r.id,
            "at": beijing(r.at),
            "kind": KINDS[r.kind],
            "channel": CHANNELS[r.channel],
            "resident": refs[r.resident_id].name if r.resident_id in refs else None,
            "summary": r.summary,
        }
        for r in rows
    ]


# -- resources --------------------------------------------------------------------------------


def create_resource(
    platform: Platform, session: Session, actor: Actor, data: Mapping[str, Any]
) -> Resource:
    problems: list[dict[str, str]] = []
    name = _text(data, "name", 80, problems)
    sector = _choice(data, "sector", SECTORS, problems)
    provider = _text(data, "provider", 120, problems)
    contact = _text(data, "contact", 80, problems, required=False)
    services = data.get("services") or []
    needs = data.get("needs") or []
    for field, values in (("services", services), ("needs", needs)):
        if not (
            isinstance(values, list)
            and all(isinstance(v, str) and 0 < len(v) <= 30 for v in values)
        ):
            problems.append({"field": field, "message": "应为文字列表"})
    capacity = data.get("capacity")
    if capacity is not None and not (isinstance(capacity, int) and capacity >= 0):
        problems.append({"field": "capacity", "message": "容量应为非负整数"})
    _raise(problems)
    unit = _unit(platform, session, actor, MANAGE, data.get("unit"))
    covers = [
        _unit(platform, session, actor, MANAGE, code, "covers").id
        for code in (data.get("covers") or [unit.code])
    ]
    resource = Resource(
        name=name,
        sector=sector,
        services=services,
        needs=needs,
        provider=provider,
        unit_id=unit.id,
        covers=covers,
        contact=contact,
        capacity=capacity,
    )
    session.add(resource)
    session.flush()
    platform.audit(
        session,
        "advisors.resource_created",
        actor=actor,
        target_type="advisors_resource",
        target_id=resource.id,
    )
    return resource


def resource_view(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "sector": SECTORS.get(r.sector, r.sector),
        "services": r.services,
        "needs": r.needs,
        "provider": r.provider,
        "contact": r.contact,
        "capacity": r.capacity,
    }


def match_resources(
    platform: Platform, session: Session, actor: Actor, resident_id: int
) -> list[dict[str, Any]]:
    """Resources covering the resident's committee that serve one of their needs (tags)."""
    resident = platform.get_resident(session, actor, resident_id)
    unit = platform.unit(session, resident["unit"]["code"])
    assert unit is not None
    around = set(_ids(unit.path))
    tags = set(resident.get("tags") or [])
    rows = session.exec(select(Resource).where(col(Resource.active))).all()
    matched = [
        (len(tags & set(r.needs)), r)
        for r in rows
        if around & set(r.covers) and (not r.needs or tags & set(r.needs))
    ]
    matched.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [{**resource_view(r), "matches": sorted(tags & set(r.needs))} for _, r in matched]


# -- monthly figures --------------------------------------------------------------------------


def monthly(
    platform: Platform, session: Session, actor: Actor, unit: UnitRef, month: str
) -> dict[str, Any]:
    """Points, advisors, services and people served in ``month``, per unit below ``unit``."""
    from .funnel import committees

    inside = {c.id: c for c in committees(platform, session, unit)}
    depth = len(_ids(unit.path))

    def child(unit_id: int) -> int | None:
        committee = inside.get(unit_id)
        if committee is None:
            return None
        ids = _ids(committee.path)
        return ids[depth] if len(ids) > depth else committee.id

    figures: dict[int, dict[str, int]] = {}

    def add(unit_id: int, key: str, value: int) -> None:
        target = child(unit_id)
        if target is None:
            target = unit_id if unit_id in _ids(unit.path) else None
        if target is None:
            return
        row = figures.setdefault(target, {"points": 0, "advisors": 0, "services": 0, "people": 0})
        row[key] += value

    scope_points = platform.scope_filter(actor, VIEW, AdvisorPoint.unit_id)
    for unit_id, count in session.execute(
        select(col(AdvisorPoint.unit_id), func.count())
        .where(scope_points, col(AdvisorPoint.active))
        .group_by(col(AdvisorPoint.unit_id))
    ).all():
        add(unit_id, "points", count)
    for unit_id, count in session.execute(
        select(col(Advisor.unit_id), func.count())
        .where(platform.scope_filter(actor, VIEW, Advisor.unit_id), col(Advisor.active))
        .group_by(col(Advisor.unit_id))
    ).all():
        add(unit_id, "advisors", count)
    for unit_id, count, people in session.execute(
        select(
            col(ServiceRecord.unit_id),
            func.count(),
            func.count(distinct(col(ServiceRecord.resident_id))),
        )
        .where(
            platform.scope_filter(actor, VIEW, ServiceRecord.unit_id), ServiceRecord.month == month
        )
        .group_by(col(ServiceRecord.unit_id))
    ).all():
        add(unit_id, "services", count)
        add(unit_id, "people", people)
    rows = []
    for unit_id, values in figures.items():
        ref = platform.unit_by_id(session, unit_id)
        rows.append({"unit": {"code": ref.code, "name": ref.name} if ref else None, **values})
    rows.sort(key=lambda r: (r["unit"] or {}).get("code", ""))
    total = {k: sum(r[k] for r in rows) for k in ("points", "advisors", "services", "people")}
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "month": month,
        "total": total,
        "children": rows,
    }
