"""The managed lists of field-log and case categories (seeded by the migration, extended by
holders of ``governance.manage``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, Platform
from sqlmodel import Session, col, select

from .core import MANAGE, Errors, integer, text
from .models import Category

__all__ = ["KINDS", "add", "listed", "pick"]

KINDS = {"log": "民情日志类别", "case": "案件类别"}
_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def listed(session: Session, kind: str, *, active_only: bool = True) -> list[Category]:
    query = select(Category).where(Category.kind == kind)
    if active_only:
        query = query.where(col(Category.active).is_(True))
    return list(session.exec(query.order_by(col(Category.position), col(Category.id))))


def pick(session: Session, kind: str, value: Any, errors: Errors) -> Category | None:
    """The active category of ``kind`` given by code, id or Chinese name; an error otherwise."""
    rows = listed(session, kind)
    for row in rows:
        if value in (row.code, row.name, row.id, str(row.id)):
            return row
    field = "category"
    errors.add(field, "请选择类别（" + "、".join(r.name for r in rows) + "）")
    return None


def add(platform: Platform, session: Session, actor: Actor, raw: Mapping[str, Any]) -> Category:
    """Add a category to a managed list (city-wide: one list for the whole platform)."""
    if not actor.has(MANAGE):
        raise Forbidden("您没有维护类别的权限")
    errors = Errors()
    kind = str(raw.get("kind") or "")
    if kind not in KINDS:
        errors.add("kind", "类型应为 log（民情日志）或 case（案件）")
    code = str(raw.get("code") or "").strip()
    if not _CODE.fullmatch(code):
        errors.add("code", "编码应为 2–40 位小写字母、数字或下划线，以字母开头")
    name = text(raw, "name", "名称", errors, max_length=40)
    due_days = integer(raw, "due_days", "办理时限（工作日）", errors, low=1, high=60) or 5
    errors.raise_if_any()
    existing = session.exec(
        select(Category).where(Category.kind == kind, Category.code == code)
    ).first()
    if existing is not None:
        raise Conflict("该编码已存在", field="code")
    row = Category(kind=kind, code=code, name=name, due_days=due_days, position=1000)
    session.add(row)
    session.flush()
    platform.audit(
        session,
        "governance.category_added",
        actor=actor,
        target_type="governance_category",
        target_id=row.id,
        detail={"kind": kind, "code": code, "name": name},
    )
    return row


def as_dict(row: Category) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "code": row.code,
        "name": row.name,
        "due_days": row.due_days,
    }
