"""Scoped permission checks: one rule for single objects and for lists.

A grant applies to its unit's subtree. Both :func:`can` and :func:`scope_filter` start from
:func:`grant_prefix`, the path prefix the actor may reach with a permission, so "may I see this
record?" and "which records may I see?" can never disagree.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from .models import OrgUnit

__all__ = ["can", "grant_prefix", "scope_filter", "unit_scope_filter"]


def grant_prefix(actor: Actor | None, permission: str) -> str | None:
    """The path prefix ``actor`` may reach with ``permission``, or None when nowhere."""
    if actor is None or actor.unit is None or permission not in actor.permissions:
        return None
    return actor.unit.path


def can(actor: Actor | None, permission: str, unit: UnitRef) -> bool:
    """Whether ``actor`` holds ``permission`` on ``unit``."""
    prefix = grant_prefix(actor, permission)
    return prefix is not None and unit.path.startswith(prefix)


def unit_scope_filter(actor: Actor | None, permission: str) -> ColumnElement[bool]:
    """A condition on :class:`OrgUnit` rows: the units ``actor`` reaches with ``permission``."""
    prefix = grant_prefix(actor, permission)
    if prefix is None:
        return false()
    return col(OrgUnit.path).startswith(prefix)


def scope_filter(actor: Actor | None, permission: str, unit_column: Any) -> ColumnElement[bool]:
    """A condition on any table with an org-unit id column: rows ``actor`` may reach."""
    prefix = grant_prefix(actor, permission)
    if prefix is None:
        return false()
    units = select(col(OrgUnit.id)).where(unit_scope_filter(actor, permission))
    return unit_column.in_(units)  # type: ignore[no-any-return]
