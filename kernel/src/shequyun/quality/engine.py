"""Writing findings: per rule, one ``DELETE`` and one ``INSERT … SELECT``, set-based.

The same two statements serve the full scan (every resident the rule covers) and the update
after an event (only the residents the event touched): the findings of a rule for those
residents are replaced by what the rule's query finds for them now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
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
from .checks import CHECKS, Context, R, since_values
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
        bindparam("found_at", ctx.now, type_=DateTime(timezone=True)).label("found_at"),
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
    touched residents), so keeping findings current costs two round trips per event. Building
    the ten rules' queries costs more than running them for a few residents, so the statements
    are built once per set of rules and day, with the residents and the moment as parameters.
    """
    assert ctx.touched is not None
    chosen = list(rules)
    drop, add = _touched_statements(chosen, ctx.today)
    moments = since_values([rule for rule in chosen if rule.active], ctx.now)
    values = {"touched": list(ctx.touched), "found_at": ctx.now, **moments}
    connection.execute(drop, {"touched": values["touched"]})
    if add is None:
        return 0
    result = connection.execute(add, values)
    return max(result.rowcount or 0, 0)


#: ``(rules, day)`` → the refresh's two statements; a few entries (the rules change rarely).
_TOUCHED: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _touched_statements(rules: list[Rule], today: date) -> tuple[Any, Any]:
    key = (today, *((r.code, r.version, r.active, r.unit_path, repr(r.params)) for r in rules))
    found = _TOUCHED.get(key)
    if found is not None:
        return found
    touched: Any = bindparam("touched", expanding=True)
    drop = delete(_FINDING).where(
        _FINDING.c.rule_code.in_([rule.code for rule in rules]),
        _FINDING.c.resident_id.in_(touched),
    )
    # The moment's values are bound again at each run (found_at, since_<months>).
    ctx = Context(today=today, now=datetime.now(UTC), touched=touched)
    active: list[Any] = [_rows(rule, ctx) for rule in rules if rule.active]
    add = None
    if active:
        rows: Any = union_all(*active) if len(active) > 1 else active[0]
        add = insert(_FINDING).from_select(list(_COLUMNS), rows)
        # psycopg reports no row count for INSERT ... SELECT unless asked to keep it.
        add = add.execution_options(preserve_rowcount=True)
    if len(_TOUCHED) >= 8:
        _TOUCHED.clear()
    _TOUCHED[key] = (drop, add)
    return drop, add


def forget_rules(connection: Connection, keep: Iterable[str]) -> None:
    """Drop the findings of rules no longer in force."""
    codes = list(keep)
    connection.execute(delete(_FINDING).where(_FINDING.c.rule_code.not_in(codes)))
