"""Scoped permission checks: one rule for single objects and for lists.

A grant applies to its unit's subtree. Both :func:`can` and :func:`scope_filter` start from
:func:`grant_prefix`, the path prefix the actor may reach with a permission, so "may I see this
record?" and "which records may I see?" can never disagree.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import Boolean, Integer, String, and_, false, func, literal, literal_column, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import col, select

from . import actors
from .models import LEVELS, OrgUnit

# scope_filter treats a committee's subtree as the committee alone; revisit it when a level
# (buildings, compounds) is added below committees.
assert LEVELS[-1] == "committee"

__all__ = [
    "can",
    "grant_prefix",
    "in_subtree",
    "path_under",
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
    return in_subtree(unit_column, value)


def subtree_filter(unit: UnitRef, unit_column: Any) -> ColumnElement[bool]:
    """A condition on an org-unit id column: ``unit`` and the units below it (no grant
    involved: it narrows a query that :func:`scope_filter` already bounds)."""
    if unit.level == "city":
        return true()
    if unit.level == "committee":
        return unit_column == unit.id  # type: ignore[no-any-return]
    return in_subtree(unit_column, unit.path)


def in_subtree(unit_column: Any, prefix: Any) -> ColumnElement[bool]:
    """A condition on an org-unit id column: the unit is one whose path starts with
    ``prefix`` (a path, or a bind parameter or column standing for one), written as
    :func:`path_under` so that PostgreSQL reads the units by their path index."""
    units = select(col(OrgUnit.id)).where(path_under(col(OrgUnit.path), prefix))
    return unit_column.in_(units)  # type: ignore[no-any-return]


def path_under(path: Any, prefix: Any) -> ColumnElement[bool]:
    """``path`` starts with ``prefix`` (a path such as ``/1/17/``, or a bind parameter or
    column standing for one).

    SQLite gets ``path LIKE prefix || '%'``. PostgreSQL gets the same rows as the range
    ``prefix`` ≤ path < ``prefix`` with its last character raised by one, in the byte-order
    operators of the path's ``varchar_pattern_ops`` index, the upper bound computed in SQL:
    psycopg prepares a statement on its fifth run, and the prepared (generic) plan of
    ``LIKE :prefix || '%'`` cannot use the index and reads every unit of the city (1.3-4.9
    ms of a district's query, at Shanghai's 6,400 units); the range's generic plan is an
    index range scan. A path ends with ``/`` and holds digits and ``/`` only, so the two are
    the same rows (no LIKE wildcard, and the last character is one byte)."""
    if isinstance(prefix, str):
        prefix = literal(prefix, String)
    return _PathUnder(path, prefix)


class _PathUnder(ColumnElement[bool]):
    """:func:`path_under`'s condition, written per database when compiled."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, not compared with true
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it from the class)
        ("path", InternalTraversal.dp_clauseelement),
        ("prefix", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, path: Any, prefix: Any) -> None:
        self.path = path
        self.prefix = prefix


@compiles(_PathUnder)
def _like_prefix(element: _PathUnder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.path.startswith(element.prefix), **kw)


@compiles(_PathUnder, "postgresql")
def _prefix_range(element: _PathUnder, compiler: SQLCompiler, **kw: Any) -> str:
    path, prefix = element.path, element.prefix
    one = literal_column("1", Integer)
    end = func.left(prefix, -one).op("||")(func.chr(func.ascii(func.right(prefix, one)) + one))
    return compiler.process(and_(path.op("~>=~")(prefix), path.op("~<~")(end)), **kw)
