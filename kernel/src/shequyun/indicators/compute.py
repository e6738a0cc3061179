"""Running one indicator's query for a subtree and a period, and adding it up the tree.

Each indicator runs in its own database session, so a query that raises (or aborts its
PostgreSQL transaction) spoils only its own figures: the result says ``error`` and every other
indicator of the dashboard is computed as usual.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk.indicators import IndicatorQuery, Period
from sqlalchemy import Float, cast, func, literal
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..residents.models import Resident
from .registry import Declared
from .tree import Sums, Tree, roll_up

__all__ = ["Computed", "compute", "resident_columns"]

log = logging.getLogger("shequyun.indicators")


@dataclass
class Computed:
    """One indicator's sums over a tree: ``sums[unit id][key] = [value, base]``.

    ``keys`` are the breakdown's keys in display order with their ``labels``; ``error`` is set
    (and ``sums`` empty) when the query could not be run.
    """

    declared: Declared
    sums: Sums = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def cell(self, unit_id: int, key: str = "") -> tuple[float, float]:
        """The summed ``(value, base)`` of a unit (zero when nothing was counted there)."""
        found = self.sums.get(unit_id, {}).get(key)
        return (found[0], found[1]) if found is not None else (0.0, 0.0)

    def figure(self, unit_id: int, key: str = "") -> float | None:
        """What the unit shows: the sum, or the ratio of its sums (None without a base)."""
        value, base = self.cell(unit_id, key)
        return self.declared.spec.figure(value, base)


def resident_columns() -> Any:
    """The active residents' non-sensitive columns, as ``IndicatorQuery.residents``."""
    return (
        select_columns(
            col(Resident.id).label("id"),
            col(Resident.unit_id).label("unit_id"),
            col(Resident.household_id).label("household_id"),
            col(Resident.gender).label("gender"),
            col(Resident.birth_date).label("birth_date"),
            col(Resident.registration).label("registration"),
        )
        .where(col(Resident.status) == "active")
        .subquery("residents")
    )


def compute(
    engine: Engine, declared: Declared, tree: Tree, period: Period, as_of: datetime
) -> Computed:
    """Run ``declared``'s query over ``tree`` for ``period`` and add the rows up the tree."""
    spec = declared.spec
    result = Computed(declared)
    try:
        with Session(engine) as session:
            query = IndicatorQuery(
                session=session,
                period=period,
                as_of=as_of.astimezone(UTC),
                within=tree.within,
                residents=resident_columns(),
                days_since=_days_since(session, as_of),
            )
            statement = spec.query(query)
            rows = list(_rows(session.execute(statement), declared))
            breakdown = spec.breakdown
            additive = breakdown is None or breakdown.additive
            result.sums = roll_up(tree, rows, total=additive)
            if breakdown is not None:
                found = sorted({key for _, key, _, _ in rows if key})
                result.keys, result.labels = _keys(session, breakdown, found)
            session.rollback()  # an indicator only reads
    except Exception as exc:
        log.exception("indicator %s could not be computed", declared.name)
        result.sums, result.keys, result.labels = {}, [], {}
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    return result


def _rows(result: Any, declared: Declared) -> Iterator[tuple[int, str, float, float | None]]:
    """``(unit_id, key, value, base)`` of each row, checked; columns found by their labels."""
    columns = list(result.keys())
    for needed in ("unit_id", "value"):
        if needed not in columns:
            raise TypeError(f"indicator {declared.name}: the query has no column {needed!r}")
    ratio = declared.spec.aggregation == "ratio"
    if ratio and "base" not in columns:
        raise TypeError(f"indicator {declared.name}: a ratio needs a column 'base'")
    at_unit, at_value = columns.index("unit_id"), columns.index("value")
    at_base = columns.index("base") if ratio else None
    at_key = columns.index("key") if declared.spec.breakdown and "key" in columns else None
    for row in result:
        unit_id = row[at_unit]
        if unit_id is None:
            continue
        value = _number(row[at_value], declared, "value")
        base = _number(row[at_base], declared, "base") if at_base is not None else None
        key = "" if at_key is None or row[at_key] is None else str(row[at_key])
        yield int(unit_id), key, value, base


def _number(raw: Any, declared: Declared, column: str) -> float:
    if raw is None:
        return 0.0
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise TypeError(
            f"indicator {declared.name}: column {column!r} holds {raw!r}, not a number"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"indicator {declared.name}: column {column!r} is {number}")
    return number


def _keys(session: Session, breakdown: Any, found: list[str]) -> tuple[list[str], dict[str, str]]:
    """The breakdown's keys in display order (declared ones first) and their labels."""
    declared: Mapping[str, str] = breakdown.labels
    labels = dict(declared)
    extra = [key for key in found if key not in labels]
    if breakdown.label_for is not None and extra:
        looked_up = breakdown.label_for(session, extra)
        labels.update({str(k): str(v) for k, v in looked_up.items()})
    keys = [key for key in declared if key in found or not breakdown.label_for]
    keys += [key for key in extra if key not in keys]
    return keys, {key: labels.get(key, key) for key in keys}


def _days_since(session: Session, as_of: datetime) -> Any:
    """``days_since(column)`` for ``IndicatorQuery``: days from a timestamp to ``as_of``."""
    moment = as_of.astimezone(UTC)
    if session.get_bind().dialect.name == "sqlite":
        # Timestamps are stored as naive UTC text, which julianday() reads.
        text = moment.replace(tzinfo=None).isoformat(sep=" ")

        def sqlite_days(column: Any) -> Any:
            return func.julianday(literal(text)) - func.julianday(column)

        return sqlite_days

    def postgres_days(column: Any) -> Any:
        seconds = func.extract("epoch", literal(moment) - column)
        return cast(seconds, Float) / 86400.0

    return postgres_days
