"""Writing findings: per rule, one ``DELETE`` and one ``INSERT … SELECT``, set-based.

The same two statements serve the full scan (every resident the rule covers) and the update
after an event (only the residents the event touched): the findings of a rule for those
residents are replaced by what the rule's query finds for them now.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    delete,
    exists,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..identity.models import OrgUnit
from .checks import CHECKS, Context, R
from .models import Finding, Waiver
from .rules import Rule

__all__ = ["evaluate", "evaluate_touched", "forget_rules", "rule_query"]

_FINDING: Table = Finding.__table__  # type: ignore[attr-defined]
_WAIVER: Table = Waiver.__table__  # type: ignore[attr-defined]
_UNIT: Table = OrgUnit.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "rule_code", "rule_version", "level", "resident_id", "household_id", "unit_id",
    "group_key", "found_at",
)  # fmt: skip


def _area(rule: Rule) -> ColumnElement[bool] | None:
    if rule.unit_path is None:
        return None
    units = select(_UNIT.c.id).where(_UNIT.c.path.startswith(rule.unit_path))
    within: ColumnElement[bool] = R.c.unit_id.in_(units)
    return within


def rule_query(rule: Rule, ctx: Context) -> Any:
    """The residents ``rule`` holds for (``resident_id, household_id, unit_id, group_key``)."""
    query = CHECKS[rule.check].build(rule.params, ctx)
    waived = exists(
        select(1).where(_WAIVER.c.rule_code == rule.code, _WAIVER.c.resident_id == R.c.id)
    )
    query = query.where(~waived)
    area = _area(rule)
    if area is not None:
        query = query.where(area)
    if ctx.touched is not None:
        query = query.where(R.c.id.in_(ctx.touched))
    return query


def _rows(rule: Rule, ctx: Context) -> Any:
    found = rule_query(rule, ctx).subquery(f"found_{rule.code}")
    return select(
        literal(rule.code, String).label("rule_code"),
        literal(rule.version, Integer).label("rule_version"),
        literal(rule.level, String).label("level"),
        found.c.id,
        found.c.household_id,
        found.c.unit_id,
        found.c.group_key,
        literal(ctx.now, DateTime(timezone=True)).label("found_at"),
    )


def _insert(connection: Connection, rows: Any) -> int:
    # psycopg reports no row count for INSERT ... SELECT unless asked to keep it.
    statement = insert(_FINDING).from_select(list(_COLUMNS), rows)
    result = connection.execute(statement.execution_options(preserve_rowcount=True))
    return max(result.rowcount or 0, 0)


def evaluate(connection: Connection, rules: Iterable[Rule], ctx: Context) -> dict[str, int]:
    """Rewrite the findings of ``rules`` for everyone they cover; count per rule.

    Per rule one ``DELETE`` and one ``INSERT … SELECT``, in the caller's transaction.
    """
    written: dict[str, int] = {}
    for rule in rules:
        connection.execute(delete(_FINDING).where(_FINDING.c.rule_code == rule.code))
        written[rule.code] = _insert(connection, _rows(rule, ctx)) if rule.active else 0
    return written


def evaluate_touched(connection: Connection, rules: Iterable[Rule], ctx: Context) -> int:
    """Rewrite the findings of every rule for the residents ``ctx.touched`` names.

    Two statements whatever the number of rules: one ``DELETE`` of their findings and one
    ``INSERT … SELECT`` of the rules' queries joined by ``UNION ALL`` (each narrowed to the
    touched residents), so keeping findings current costs two round trips per event.
    """
    assert ctx.touched is not None
    chosen = list(rules)
    codes = [rule.code for rule in chosen]
    connection.execute(
        delete(_FINDING).where(
            _FINDING.c.rule_code.in_(codes), _FINDING.c.resident_id.in_(ctx.touched)
        )
    )
    active = [_rows(rule, ctx) for rule in chosen if rule.active]
    if not active:
        return 0
    return _insert(connection, union_all(*active) if len(active) > 1 else active[0])


def forget_rules(connection: Connection, keep: Iterable[str]) -> None:
    """Drop the findings of rules no longer in force."""
    codes = list(keep)
    connection.execute(delete(_FINDING).where(_FINDING.c.rule_code.not_in(codes)))
