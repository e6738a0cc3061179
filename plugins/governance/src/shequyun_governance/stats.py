"""民情民意: field logs and cases counted for a street or a district, and drilled down the tree.

Every figure is one ``GROUP BY`` over the rows the actor may see (the kernel's scope filter)
within the chosen unit's subtree, rolled up in Python to the unit's children: a district sees
its streets, a street its committees, a committee itself. Rates are ratios of sums, never
averages of the children's rates.

**On time** counts cases closed by their deadline; **late** counts cases closed after it and
open cases already past it. The on-time rate is on time / (on time + late): cases still within
their time do not count yet either way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from shequyun_sdk import Actor, NotFound, Platform, UnitRef, ValidationFailed
from sqlalchemy import func
from sqlmodel import Session, col, select

from .cases import OPEN, SOURCES, STATUSES
from .core import VIEW, acting_unit, ancestor_ids, plan_each_time, today, within
from .models import Case, LogEntry

__all__ = ["PERIODS", "Figures", "UnitRow", "as_dict", "figures", "figures_at", "period_of"]

PERIODS = {"week": "按周", "month": "按月"}


@dataclass
class UnitRow:
    """One child unit's figures."""

    unit: UnitRef
    logs: int = 0
    cases: int = 0
    open: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.late
        return self.on_time / decided if decided else None


@dataclass
class Figures:
    """Everything the 民情 page shows for one unit and period."""

    unit: UnitRef
    period: str
    since: date
    labels: list[str]
    logs_by_period: list[int]
    cases_by_period: list[int]
    logs_by_category: list[tuple[str, int]]
    cases_by_category: list[tuple[str, int]]
    cases_by_source: list[tuple[str, int]]
    cases_by_status: list[tuple[str, int]]
    units: list[UnitRow] = field(default_factory=list)
    hot_spots: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> UnitRow:
        total = UnitRow(self.unit)
        for row in self.units:
            total.logs += row.logs
            total.cases += row.cases
            total.open += row.open
            total.on_time += row.on_time
            total.late += row.late
        return total


def period_of(day: date, period: str) -> date:
    """The first day of ``day``'s week (Monday) or month."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _periods(until: date, period: str, count: int) -> list[date]:
    starts = []
    current = period_of(until, period)
    for _ in range(count):
        starts.append(current)
        if period == "week":
            current -= timedelta(days=7)
        else:
            current = (current - timedelta(days=1)).replace(day=1)
    return list(reversed(starts))


def _label(start: date, period: str, first: bool = False) -> str:
    """Short axis labels: ``3月`` (``2026年1月`` when the year starts or on the first), weeks by
    their Monday (``3/2``)."""
    if period == "week":
        return f"{start.month}/{start.day}"
    if first or start.month == 1:
        return f"{start.year}年{start.month}月"
    return f"{start.month}月"


def unit_outcomes(
    platform: Platform,
    session: Session,
    actor: Actor,
    unit: UnitRef,
    since: date,
) -> tuple[list[UnitRow], Counter[str]]:
    """The per-child table (cases, open, on time, late) and the cases by status: one GROUP BY
    over the cases the actor sees in ``unit``'s subtree opened since ``since``."""
    plan_each_time(session)
    day = today()
    overdue = col(Case.due_on) < day
    late_close = col(Case.closed_on) > col(Case.due_on)
    rows_found = session.exec(
        select(Case.unit_id, Case.status, late_close, overdue, func.count())  # type: ignore[call-overload]
        .where(within(platform, actor, unit, Case.unit_id), col(Case.created_on) >= since)
        .group_by(Case.unit_id, Case.status, late_close, overdue)
    ).all()
    children = _children(platform, session, unit)
    rows = {c.id: UnitRow(c) for c in children}
    owner = _owner_of(platform, session, unit, children)
    by_status: Counter[str] = Counter()
    for unit_id, status, closed_late, past_due, n in rows_found:
        by_status[status] += n
        row = rows.get(owner.get(unit_id, -1))
        if row is None:
            continue
        row.cases += n
        if status in OPEN:
            row.open += n
            if past_due:
                row.late += n
        elif closed_late:
            row.late += n
        else:
            row.on_time += n
    return [rows[c.id] for c in children], by_status


def figures(
    platform: Platform,
    session: Session,
    actor: Actor,
    *,
    unit: UnitRef | None = None,
    period: str = "month",
    count: int = 12,
) -> Figures:
    """The 民情 figures of ``unit`` (default: the actor's own) over the last ``count`` periods."""
    unit = unit or acting_unit(actor)
    starts = _periods(today(), period, count)
    since = starts[0]
    units, by_status = unit_outcomes(platform, session, actor, unit, since)
    seen_cases = [within(platform, actor, unit, Case.unit_id), col(Case.created_on) >= since]
    case_rows = session.exec(
        select(Case.created_on, Case.category_name, Case.source, func.count())  # type: ignore[call-overload]
        .where(*seen_cases)
        .group_by(Case.created_on, Case.category_name, Case.source)
    ).all()
    log_rows = session.exec(
        select(  # type: ignore[call-overload]
            LogEntry.unit_id, LogEntry.occurred_on, LogEntry.category_name, func.count()
        )
        .where(within(platform, actor, unit, LogEntry.unit_id), col(LogEntry.occurred_on) >= since)
        .group_by(LogEntry.unit_id, LogEntry.occurred_on, LogEntry.category_name)
    ).all()
    place_rows = session.exec(
        select(Case.place, func.count())
        .where(*seen_cases, col(Case.place).is_not(None))
        .group_by(col(Case.place))
        .order_by(func.count().desc(), col(Case.place))
        .limit(10)
    ).all()
    index = {start: i for i, start in enumerate(starts)}
    logs_by_period, cases_by_period = [0] * len(starts), [0] * len(starts)
    by_category: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    log_categories: Counter[str] = Counter()
    for created, category, source, n in case_rows:
        position = index.get(period_of(created, period))
        if position is not None:
            cases_by_period[position] += n
        by_category[category] += n
        by_source[SOURCES.get(source, source)] += n
    rows = {r.unit.id: r for r in units}
    owner = _owner_of(platform, session, unit, [r.unit for r in units])
    for unit_id, occurred, category, n in log_rows:
        position = index.get(period_of(occurred, period))
        if position is not None:
            logs_by_period[position] += n
        log_categories[category] += n
        row = rows.get(owner.get(unit_id, -1))
        if row is not None:
            row.logs += n
    return Figures(
        unit=unit,
        period=period,
        since=since,
        labels=[_label(s, period, i == 0) for i, s in enumerate(starts)],
        logs_by_period=logs_by_period,
        cases_by_period=cases_by_period,
        logs_by_category=log_categories.most_common(),
        cases_by_category=by_category.most_common(),
        cases_by_source=by_source.most_common(),
        cases_by_status=[(STATUSES[s], by_status[s]) for s in STATUSES if by_status[s]],
        units=units,
        hot_spots=[(str(place), int(n)) for place, n in place_rows],
    )


def figures_at(
    platform: Platform, session: Session, actor: Actor, code: str | None, period: str = "month"
) -> tuple[Figures, list[UnitRef]]:
    """The figures of unit ``code`` (default: the actor's own) and the trail of units from the
    actor's down to it, for drilling down. A unit outside the actor's subtree is not found."""
    if period not in PERIODS:
        raise ValidationFailed("周期应为 week（按周）或 month（按月）", field="period")
    unit = acting_unit(actor)
    trail = [unit]
    if code and code != unit.code:
        found = platform.unit(session, code)
        if found is None or not platform.can(actor, VIEW, found):
            raise NotFound("找不到该组织", field="unit_code")
        between = [
            u for u in platform.unit_ancestors(session, found) if u.path.startswith(unit.path)
        ]
        trail = [*between, found]
        unit = found
    return figures(platform, session, actor, unit=unit, period=period), trail


def as_dict(found: Figures) -> dict[str, Any]:
    """The figures as the API returns them (the per-unit rows with their codes, for drilling)."""

    def unit_row(row: UnitRow) -> dict[str, Any]:
        return {
            "unit": {"code": row.unit.code, "name": row.unit.name, "level": row.unit.level},
            "logs": row.logs,
            "cases": row.cases,
            "open": row.open,
            "on_time": row.on_time,
            "late": row.late,
            "on_time_rate": None if row.rate is None else round(row.rate, 4),
        }

    def pairs(rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"name": name, "count": n} for name, n in rows]

    return {
        "unit": {"code": found.unit.code, "name": found.unit.name, "level": found.unit.level},
        "period": found.period,
        "since": found.since.isoformat(),
        "trend": [
            {"label": label, "logs": logs, "cases": cases}
            for label, logs, cases in zip(
                found.labels, found.logs_by_period, found.cases_by_period, strict=True
            )
        ],
        "totals": unit_row(found.totals),
        "units": [unit_row(r) for r in found.units],
        "cases_by_category": pairs(found.cases_by_category),
        "cases_by_source": pairs(found.cases_by_source),
        "cases_by_status": pairs(found.cases_by_status),
        "logs_by_category": pairs(found.logs_by_category),
        "hot_spots": [{"place": place, "cases": n} for place, n in found.hot_spots],
    }


def _children(platform: Platform, session: Session, unit: UnitRef) -> list[UnitRef]:
    """The units a figure is broken down by: the unit's children, or the committee itself."""
    if unit.level == "committee":
        return [unit]
    return platform.unit_children(session, unit)


def _owner_of(
    platform: Platform, session: Session, unit: UnitRef, children: list[UnitRef]
) -> dict[int, int]:
    """``{unit id: the child of unit it lies in}`` for every unit in ``unit``'s subtree, from
    the paths of its committees (one query)."""
    if unit.level == "committee":
        return {unit.id: unit.id}
    depth = len(ancestor_ids(unit))
    child_ids = {c.id for c in children}
    owner = {c: c for c in child_ids}
    for committee in platform.unit_committees(session, unit, include_closed=True):
        path = ancestor_ids(committee)
        if len(path) > depth and path[depth] in child_ids:
            for unit_id in path[depth:]:
                owner[unit_id] = path[depth]
    return owner


def table(figures: Figures) -> tuple[list[str], list[list[Any]]]:
    """The per-unit table for export: headers and rows (the total last)."""
    headers = ["单位", "民情日志", "案件", "在办", "按期办结", "超期", "按期率"]
    rows: list[list[Any]] = []
    for row in [*figures.units, figures.totals]:
        name = row.unit.name
        rate = "" if row.rate is None else f"{row.rate:.1%}"
        rows.append([name, row.logs, row.cases, row.open, row.on_time, row.late, rate])
    rows[-1][0] = f"{figures.unit.name}（合计）"
    return headers, rows
