"""Reading and editing the working-day calendar (:meth:`shequyun_sdk.Platform.work_calendar`).

The calendar in force is :meth:`WorkCalendar.shipped` with the edits of ``kernel_calendar_day``
laid over it. Edits are few (a year's 调休 once the State Council publishes it, a local change),
so the whole table is read each time; one indexed scan of a handful of rows.
"""

from __future__ import annotations

from datetime import date

from shequyun_sdk import Actor, Forbidden, ValidationFailed
from shequyun_sdk.workdays import DAY_KINDS, CalendarDay, WorkCalendar
from sqlmodel import Session, col, select

from ..identity import audit
from .models import CalendarEdit, utcnow

__all__ = ["MANAGE", "clear_day", "edits", "load", "set_day"]

MANAGE = "calendar.manage"
KINDS = {**DAY_KINDS, "ordinary": "按常规（周一至周五上班）"}


def load(session: Session) -> WorkCalendar:
    """The calendar in force: the shipped arrangement with every edit applied."""
    rows = session.exec(select(CalendarEdit)).all()
    changes = [CalendarDay(r.day, r.kind, r.name, "edited") for r in rows if r.kind != "ordinary"]
    removed = [r.day for r in rows if r.kind == "ordinary"]
    return WorkCalendar.shipped().with_days(changes, removed=removed)


def edits(session: Session, year: int | None = None) -> list[CalendarEdit]:
    """The edited days (of ``year``), in date order."""
    query = select(CalendarEdit).order_by(col(CalendarEdit.day))
    if year is not None:
        query = query.where(
            col(CalendarEdit.day) >= date(year, 1, 1), col(CalendarEdit.day) <= date(year, 12, 31)
        )
    return list(session.exec(query))


def _check(actor: Actor | None, *, cli: bool) -> None:
    if not cli and (actor is None or not actor.has(MANAGE)):
        raise Forbidden("您没有维护节假日安排的权限")


def set_day(
    session: Session,
    actor: Actor | None,
    day: date,
    kind: str,
    name: str = "",
    note: str = "",
    *,
    cli: bool = False,
) -> CalendarEdit:
    """Make ``day`` a ``holiday``, a ``workday`` or ``ordinary``; audited as
    ``calendar.day_set``. ``cli`` is the operator at the command line (no actor needed)."""
    _check(actor, cli=cli)
    problems = []
    if kind not in KINDS:
        problems.append(
            {
                "field": "kind",
                "message": "类型应为 holiday（放假）、workday（上班）或 ordinary（按常规）",
            }
        )
    name = (name or "").strip()
    if len(name) > 40:
        problems.append({"field": "name", "message": "名称不能超过 40 个字"})
    if len(note or "") > 200:
        problems.append({"field": "note", "message": "说明不能超过 200 个字"})
    if kind == "holiday" and not name:
        problems.append({"field": "name", "message": "请填写节日名称（如 春节）"})
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], details=problems)
    row = session.get(CalendarEdit, day) or CalendarEdit(day=day, kind=kind)
    row.kind, row.name, row.note = kind, name, (note or "").strip()
    row.updated_by = actor.username if actor is not None else "cli"
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        "calendar.day_set",
        actor=actor,
        target_type="calendar_day",
        target_id=day.isoformat(),
        detail={"kind": kind, "name": name},
    )
    return row


def clear_day(session: Session, actor: Actor | None, day: date, *, cli: bool = False) -> bool:
    """Drop the edit of ``day`` (the shipped arrangement applies again); False when none."""
    _check(actor, cli=cli)
    row = session.get(CalendarEdit, day)
    if row is None:
        return False
    session.delete(row)
    audit.record(
        session,
        "calendar.day_cleared",
        actor=actor,
        target_type="calendar_day",
        target_id=day.isoformat(),
    )
    return True
