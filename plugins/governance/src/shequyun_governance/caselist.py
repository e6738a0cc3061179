"""Case lists: what one actor sees, narrowed by status, category, source, unit or text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shequyun_sdk import Actor, Platform, ValidationFailed
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from .cases import OPEN, SOURCES, STATUSES, visible
from .core import Errors, acting_unit, integer, within
from .models import Case

__all__ = ["CaseFilters", "list_cases", "read_filters"]


@dataclass(frozen=True)
class CaseFilters:
    """What a case list may be narrowed to. ``mine``: only cases my own unit handles now."""

    status: str | None = None
    category_id: int | None = None
    source: str | None = None
    unit_code: str | None = None
    mine: bool = False
    due_before: date | None = None
    q: str | None = None


def read_filters(raw: Mapping[str, Any]) -> CaseFilters:
    errors = Errors()
    status = raw.get("status") or None
    if status is not None and status not in (*STATUSES, "open"):
        errors.add("status", "状态应为 " + "、".join([*STATUSES, "open"]))
    source = raw.get("source") or None
    if source is not None and source not in SOURCES:
        errors.add("source", "来源应为 " + "、".join(SOURCES))
    category = integer(raw, "category_id", "类别", errors, low=1, high=10**9)
    due = raw.get("due_before") or None
    due_before = None
    if due is not None:
        try:
            due_before = date.fromisoformat(str(due))
        except ValueError:
            errors.add("due_before", "日期应写作 YYYY-MM-DD")
    errors.raise_if_any()
    return CaseFilters(
        status=status,
        category_id=category,
        source=source,
        unit_code=raw.get("unit_code") or None,
        mine=str(raw.get("mine") or "") in ("1", "true", "yes"),
        due_before=due_before,
        q=(raw.get("q") or "").strip() or None,
    )


def list_cases(
    platform: Platform,
    session: Session,
    actor: Actor,
    filters: CaseFilters,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Case], int]:
    """One page of the cases ``actor`` sees, open ones by due date first, and the total."""
    if filters.mine:
        conditions: list[Any] = [Case.unit_id == acting_unit(actor).id]
    elif filters.unit_code:
        # Handled under that unit (and visible, which handling inside one's scope implies).
        unit = platform.unit(session, filters.unit_code)
        if unit is None:
            raise ValidationFailed("找不到该组织", field="unit_code")
        conditions = [within(platform, actor, unit, Case.unit_id)]
    else:
        conditions = [visible(platform, actor)]
    if filters.status == "open":
        conditions.append(col(Case.status).in_(OPEN))
    elif filters.status:
        conditions.append(Case.status == filters.status)
    if filters.category_id:
        conditions.append(Case.category_id == filters.category_id)
    if filters.source:
        conditions.append(Case.source == filters.source)
    if filters.due_before:
        conditions.append(col(Case.due_on) <= filters.due_before)
    if filters.q:
        pattern = f"%{filters.q.replace('%', '').replace('_', '')}%"
        conditions.append(or_(col(Case.title).like(pattern), col(Case.number).like(pattern)))
    query = select(Case).where(*conditions)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Case.closed_at).is_not(None), col(Case.due_on), col(Case.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)
