"""Scoped permission checks: one rule for single objects and for lists.

A grant applies to its unit's subtree. Both :func:`can` and :func:`scope_filter` start from
:func:`grant_prefix`, the path prefix the actor may reach with a permission, so "may I see this
record?" and "which records may I see?" can never disagree.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from . import actors
from .models import LEVELS, OrgUnit

# scope_filter treats a committee's subtree as the committee alone; revisit it when a level
# (buildings, compounds) is added below committees.
assert LEVELS[-1] == "committee"

__all__ = [
    "can",
    "grant_prefix",
    "reach_filter",
    "scope_filter",
    "scope_reach",
    "subtree_filter",
    "unit_scope_filter",
]


def grant_prefix(actor: Actor | None, permission: str) -> str | None:
    """The path prefix ``actor`` may reach with ``permission``, or None when nowhere.

    Every scope check starts here, so this is where an actor the kernel did not issue is
    refused (:func:`.actors.check`).
    """
    actors.check(actor)
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
    """A condition on any table with an org-unit id column: rows ``actor`` may reach.

    The condition is the subtree of the grant's unit, written so the database plans it well:
    the whole city is no condition at all, a committee (a leaf: nothing sits below committees
    yet) is an equality the unit index answers directly, anything between is a subquery on
    the unit paths.
    """
    kind, value = scope_reach(actor, permission)
    return reach_filter(kind, unit_column, value)


def scope_reach(actor: Actor | None, permission: str) -> tuple[str, Any]:
    """How :func:`scope_filter` bounds ``actor``'s rows, as a kind and the value it compares:
    ``("nowhere", None)``, ``("city", None)``, ``("committee", unit id)`` or
    ``("subtree", path prefix)``. A hot query built once per kind (:func:`reach_filter` over a
    bind parameter) and executed with the value is the same condition as :func:`scope_filter`'s.
    """
    prefix = grant_prefix(actor, permission)
    if prefix is None or actor is None or actor.unit is None:
        return "nowhere", None
    if actor.unit.level == "city":
        return "city", None
    if actor.unit.level == "committee":
        return "committee", actor.unit.id
    return "subtree", prefix


def reach_filter(kind: str, unit_column: Any, value: Any) -> ColumnElement[bool]:
    """The condition on ``unit_column`` for a reach of :func:`scope_reach`; ``value`` is its
    value or a bind parameter standing for it."""
    if kind == "nowhere":
        return false()
    if kind == "city":
        return true()
    if kind == "committee":
        return unit_column == value  # type: ignore[no-any-return]
    units = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(value))
    return unit_column.in_(units)  # type: ignore[no-any-return]


def subtree_filter(unit: UnitRef, unit_column: Any) -> ColumnElement[bool]:
    """A condition on an org-unit id column: ``unit`` and the units below it (no grant
    involved: it narrows a query that :func:`scope_filter` already bounds)."""
    if unit.level == "city":
        return true()
    if unit.level == "committee":
        return unit_column == unit.id  # type: ignore[no-any-return]
    units = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(unit.path))
    return unit_column.in_(units)  # type: ignore[no-any-return]
