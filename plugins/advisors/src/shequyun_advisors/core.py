"""Permissions, statuses and small helpers shared by the plugin's services and handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shequyun_sdk import Actor, NotFound, Platform, UnitRef, ValidationFailed
from sqlmodel import Session

__all__ = [
    "MANAGE",
    "OUTREACH",
    "POLICIES",
    "SERVE",
    "VIEW",
    "area",
    "beijing",
    "mask_phone",
]

VIEW = "advisors.view"
OUTREACH = "advisors.outreach"
SERVE = "advisors.serve"
MANAGE = "advisors.manage"
POLICIES = "advisors.policies"

BEIJING = ZoneInfo("Asia/Shanghai")

#: Case statuses: what outreach did, and how far along the funnel it got (``reached``).
STATUSES: dict[str, tuple[str, int]] = {
    "found": ("待联系", 0),
    "contacted": ("已联系", 1),
    "applied": ("已申请", 2),
    "approved": ("已批准", 2),
    "declined": ("本人谢绝", 1),
    "not_eligible": ("经核实不符合", 1),
    "receiving": ("已享受", 3),
    "dropped": ("已移出名单", 0),
}
#: Outcomes a person may record on a case (the others come from the data).
OUTCOMES = ("contacted", "applied", "approved", "declined", "not_eligible")
CLOSED = ("declined", "not_eligible", "receiving", "dropped")
STAGES = (
    ("found", "发现"),
    ("contacted", "已联系"),
    ("applied", "已申请"),
    ("receiving", "已享受"),
)


def beijing(moment: datetime) -> str:
    """``2026-12-06 17:30`` in Beijing time, for pages and exports."""
    from .models import aware

    return aware(moment).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def area(
    platform: Platform,
    session: Session,
    actor: Actor,
    permission: str,
    unit_code: str | None,
) -> UnitRef:
    """The unit to work in: ``unit_code`` when inside the actor's grant, else their own unit.

    A code outside the grant (or unknown) answers "not found", never "forbidden", so that a
    street's advisor cannot learn which units exist elsewhere.
    """
    assert actor.unit is not None
    if not unit_code:
        return actor.unit
    if not (isinstance(unit_code, str) and unit_code.isdigit() and len(unit_code) == 12):
        raise ValidationFailed("单位编码应为12位数字", field="unit")
    unit = platform.unit(session, unit_code)
    if unit is None or not platform.can(actor, permission, unit):
        raise NotFound("找不到该单位", field="unit")
    return unit


def mask_phone(phone: Any) -> str | None:
    """Phones are shown masked everywhere in this plugin (``138****5678``)."""
    if not phone:
        return None
    text = str(phone)
    if "*" in text:
        return text
    return text[:3] + "****" + text[-4:] if len(text) >= 8 else "****"
