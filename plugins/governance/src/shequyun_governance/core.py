"""What every part of the plugin shares: permissions, input checks, time and unit helpers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef, ValidationFailed
from shequyun_sdk.params import parse_int
from shequyun_sdk.workdays import BEIJING, beijing_today
from sqlalchemy import false as sa_false
from sqlalchemy import text as sa_text
from sqlmodel import Session

__all__ = [
    "DISPATCH",
    "HANDLE",
    "INTAKE",
    "LOG",
    "MANAGE",
    "PUBLISH",
    "VIEW",
    "Errors",
    "ancestor_ids",
    "beijing_day",
    "now",
    "plan_each_time",
    "text",
    "today",
    "unit_by_id",
    "within",
]

VIEW = "governance.view"
LOG = "governance.log"
HANDLE = "governance.handle"
DISPATCH = "governance.dispatch"
PUBLISH = "governance.publish"
MANAGE = "governance.manage"
INTAKE = "governance.intake"


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return beijing_today()


def beijing_day(moment: datetime) -> date:
    """The Beijing date of ``moment`` (naive values are UTC, as SQLite returns them)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).date()


def ancestor_ids(unit: UnitRef) -> list[int]:
    """The ids on ``unit``'s path, the city first and ``unit`` itself last."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def unit_by_id(platform: Platform, session: Session, unit_id: int) -> UnitRef:
    """The unit ``unit_id``; NotFound when it is gone (never for ids a row recorded)."""
    unit = platform.unit_by_id(session, unit_id)
    if unit is None:
        raise NotFound("找不到该组织", field="unit_code")
    return unit


def within(
    platform: Platform, actor: Actor, unit: UnitRef | None, column: Any, permission: str = VIEW
) -> Any:
    """Rows of ``column`` (an org-unit id) that ``actor`` reaches, narrowed to ``unit``'s
    subtree, as *one* condition: the subtree itself when it lies in the actor's scope, the
    actor's scope when ``unit`` is above it, nothing when they are apart. (Two ``IN``
    subqueries on the same column made PostgreSQL plan a district's figures ten times slower.)
    """
    if unit is None:
        return platform.scope_filter(actor, permission, column)
    if platform.can(actor, permission, unit):
        return platform.subtree_filter(unit, column)
    if actor.unit is not None and unit.contains(actor.unit):
        return platform.scope_filter(actor, permission, column)
    return sa_false()


def plan_each_time(session: Session) -> None:
    """Have PostgreSQL plan the rest of this transaction's queries for their actual values.

    A subtree's size is a parameter of the query (``path LIKE :prefix || '%'``): one committee,
    a street's 25 or a district's 350. psycopg prepares a statement once it has run five times
    on a connection, and PostgreSQL then settles on a *generic* plan that guesses a few dozen
    units: for a district it walks the case index unit by unit and sorts on disk, two to four
    times slower than the hash join the actual prefix gets (bench governance-stats-pg). Planning
    each aggregation afresh costs well under a millisecond. Nothing to do on SQLite.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa_text("SET LOCAL plan_cache_mode = force_custom_plan"))


def acting_unit(actor: Actor) -> UnitRef:
    assert actor.unit is not None  # requires() and the permission checks let only granted actors in
    return actor.unit


class Errors:
    """Collects every problem with an input, then raises them together (422)."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ValidationFailed(first["message"], field=first["field"], details=self.items)


def text(
    raw: Mapping[str, Any],
    name: str,
    label: str,
    errors: Errors,
    *,
    max_length: int = 2000,
    required: bool = True,
) -> str:
    """A trimmed string field, with a Chinese message naming ``label`` when it is wrong."""
    value = raw.get(name)
    value = "" if value is None else value
    if not isinstance(value, str):
        errors.add(name, f"{label}应为文字")
        return ""
    value = value.strip()
    if not value:
        if required:
            errors.add(name, f"请填写{label}")
        return ""
    if len(value) > max_length:
        errors.add(name, f"{label}不能超过 {max_length} 个字")
    return value


def integer(
    raw: Mapping[str, Any], name: str, label: str, errors: Errors, *, low: int, high: int
) -> int | None:
    """An optional whole number within ``low``–``high`` (given as a number or digits)."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        number = parse_int(value, name, low=-(2**63), high=2**63 - 1)
    except ValidationFailed:
        errors.add(name, f"{label}应为整数")
        return None
    if not low <= number <= high:
        errors.add(name, f"{label}应在 {low}–{high} 之间")
        return None
    return number


def day(raw: Mapping[str, Any], name: str, label: str, errors: Errors) -> date | None:
    """An optional ``YYYY-MM-DD`` date."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(name, f"{label}应写作 YYYY-MM-DD")
        return None


def photo_ids(raw: Mapping[str, Any], name: str, errors: Errors, limit: int = 9) -> list[str]:
    """A list of attachment ids (``att_…``), at most ``limit``."""
    value = raw.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(name, "照片应为附件编号的列表")
        return []
    if len(value) > limit:
        errors.add(name, f"最多 {limit} 张照片")
        return []
    return list(dict.fromkeys(value))
