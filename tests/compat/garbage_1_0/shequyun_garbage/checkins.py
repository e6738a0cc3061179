"""Recording and reading check-ins, scoped by the kernel (never by hand)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shequyun_sdk import Actor, Conflict, EventType, Platform, ValidationFailed
from shequyun_sdk.events import DATE, UNIT, payload
from shequyun_sdk.params import parse_int
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .models import CheckIn

#: Published when a committee checks in; declared in ``register_event_types``.
CHECKED_IN = EventType(
    "garbage.checked_in",
    "A committee recorded the day's garbage-sorting check (垃圾分类打卡).",
    payload({**UNIT, "day": DATE, "households": {"type": "integer", "minimum": 0}}),
    example={"unit_code": "310104003001", "unit_id": 10, "day": "2026-05-01", "households": 40},
)

VIEW = "garbage.view"
RECORD = "garbage.record"


def recent(platform: Platform, actor: Actor, limit: int = 30) -> list[CheckIn]:
    """The latest check-ins of the committees the actor may see."""
    with platform.session() as session:
        return list(
            session.exec(
                select(CheckIn)
                .where(platform.scope_filter(actor, VIEW, CheckIn.unit_id))
                .order_by(col(CheckIn.day).desc(), col(CheckIn.id).desc())
                .limit(limit)
            )
        )


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """Typed values, or ValidationFailed listing every problem (messages in Chinese)."""
    errors = []
    values: dict[str, Any] = {}
    for name, low, high, label in (
        ("households", 0, 20000, "参与户数"),
        ("correct_rate", 0, 100, "正确投放率"),
    ):
        try:
            value = parse_int(raw.get(name), name, low=-(2**31), high=2**31)
        except ValidationFailed:
            errors.append({"field": name, "message": f"{label}应为整数"})
            continue
        if not low <= value <= high:
            errors.append({"field": name, "message": f"{label}应在 {low} 到 {high} 之间"})
        values[name] = value
    note = str(raw.get("note", "") or "").strip()
    if len(note) > 200:
        errors.append({"field": "note", "message": "备注不能超过 200 个字"})
    values["note"] = note
    try:
        values["day"] = date.fromisoformat(str(raw.get("day") or date.today().isoformat()))
    except ValueError:
        errors.append({"field": "day", "message": "日期格式应为 2026-11-27"})
    if errors:
        raise ValidationFailed(errors[0]["message"], field=errors[0]["field"], details=errors)
    return values


def record(platform: Platform, actor: Actor, raw: dict[str, Any]) -> CheckIn:
    """Record today's (or a given day's) check-in for the actor's own committee."""
    values = clean(raw)
    unit = actor.unit
    if unit is None or unit.level != "committee" or not platform.can(actor, RECORD, unit):
        raise ValidationFailed("只有居委干部可以为本居委打卡", field="unit")
    try:
        with platform.session() as session:
            checkin = CheckIn(
                unit_id=unit.id,
                unit_code=unit.code,
                unit_name=unit.name,
                recorded_by=actor.username,
                **values,
            )
            session.add(checkin)
            session.flush()
            platform.audit(
                session,
                "garbage.checked_in",
                actor=actor,
                target_type="garbage_checkin",
                target_id=checkin.id,
                detail={"day": values["day"].isoformat()},
            )
            platform.publish(
                session,
                CHECKED_IN.name,
                {
                    "unit_code": unit.code,
                    "unit_id": unit.id,
                    "day": values["day"].isoformat(),
                    "households": values["households"],
                },
            )
            return checkin
    except IntegrityError:
        raise Conflict("该居委当天已打卡", field="day") from None


def today_total(session: Session, platform: Platform, actor: Actor) -> int:
    rows = session.exec(
        select(CheckIn.households)
        .where(platform.scope_filter(actor, VIEW, CheckIn.unit_id))
        .where(CheckIn.day == date.today())
    )
    return sum(rows)
