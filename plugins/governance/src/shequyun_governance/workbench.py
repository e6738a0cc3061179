"""The cadre's workbench cards: cases due soon and overdue, households not visited."""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import Actor, Platform, PluginContext, WorkbenchCard
from sqlalchemy import func
from sqlmodel import col, select
from starlette.requests import Request

from . import fieldlog
from .cases import OPEN
from .core import HANDLE, LOG, acting_unit, today
from .models import Case

__all__ = ["cards"]


def cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard]:
    _ = platform.translator(request, plugin)
    unit = acting_unit(actor)
    found: list[WorkbenchCard] = []
    if actor.has(HANDLE):
        with platform.session() as session:
            calendar = platform.work_calendar(session)
            soon = calendar.add_working_days(today(), 1)
            # One expression object each in SELECT and GROUP BY: PostgreSQL must see the same
            # parameter in both, or it refuses the grouping.
            overdue, near = col(Case.due_on) < today(), col(Case.due_on) <= soon
            rows = session.exec(
                select(Case.status, overdue, near, func.count())
                .where(Case.unit_id == unit.id, col(Case.status).in_(OPEN))
                .group_by(Case.status, overdue, near)
            ).all()
        total = sum(n for *_, n in rows)
        pending = sum(n for s, *_, n in rows if s == "pending")
        late = sum(n for _, over, _, n in rows if over)
        due = sum(n for _, over, near, n in rows if near and not over)
        lines = (_("待签收 {count} 件", count=pending), _("临期 {count} 件", count=due))
        if late:
            lines += (_("已超期 {count} 件", count=late),)
        found.append(
            WorkbenchCard(
                _("末端处置"), lines, href=plugin.url("/cases?mine=1"), value=str(total), order=20
            )
        )
    if actor.has(LOG) and unit.level == "committee":
        months = int(plugin.settings.get("coverage_months", 3))
        with platform.session() as session:
            rows = fieldlog.coverage(platform, session, actor, months=months, unit=unit)
        missing = sum(r.households - r.visited for r in rows)
        found.append(
            WorkbenchCard(
                _("民情日志"),
                (
                    _("走访、发现，随手记"),
                    _("近 {n} 个月未走访 {count} 户", n=months, count=missing),
                ),
                href=plugin.url("/logs/new"),
                value="+",
                order=21,
            )
        )
    return found
