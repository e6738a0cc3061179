"""``shequyun calendar``: show and edit the working-day calendar from the command line."""

from __future__ import annotations

from datetime import date

import click
from shequyun_sdk import ApiError
from shequyun_sdk.workdays import DAY_KINDS, beijing_today
from sqlmodel import Session

from ..cli_support import migrated_kernel
from . import service

__all__ = ["calendar"]

WEEKDAYS = "一二三四五六日"


@click.group("calendar")
def calendar() -> None:
    """The working-day calendar (放假与调休) that deadlines count by."""


@calendar.command("show")
@click.argument("year", type=int, required=False)
def show(year: int | None) -> None:
    """List a YEAR's holidays and make-up working days (default: this year)."""
    year = year or beijing_today().year
    with migrated_kernel() as kernel, Session(kernel.engine) as session:
        work = service.load(session)
    if not work.knows(year):
        click.echo(f"{year} 年没有放假安排数据：只按周一至周五上班计算。")
    elif year in work.provisional:
        click.echo(f"{year} 年的数据是暂定的：{work.years[year]}")
    for day in work.days_of(year):
        edited = "（已修改）" if day.source == "edited" else ""
        weekday = WEEKDAYS[day.day.weekday()]
        click.echo(f"{day.day} 周{weekday} {DAY_KINDS[day.kind]} {day.name}{edited}")


@calendar.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(sorted(service.KINDS)))
@click.argument("name", required=False, default="")
@click.option("--note", default="", help="Why (the notice it follows).")
def set_command(day: object, kind: str, name: str, note: str) -> None:
    """Make DAY a holiday, a workday (调休上班) or ordinary; NAME is the festival (春节)."""
    assert hasattr(day, "date")
    the_day: date = day.date()
    with migrated_kernel() as kernel, Session(kernel.engine) as session:
        try:
            service.set_day(session, None, the_day, kind, name, note, cli=True)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{the_day} 已设为 {service.KINDS[kind]} {name}".rstrip())


@calendar.command("unset")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def unset(day: object) -> None:
    """Drop the edit of DAY: the shipped arrangement applies again."""
    assert hasattr(day, "date")
    the_day: date = day.date()
    with migrated_kernel() as kernel, Session(kernel.engine) as session:
        cleared = service.clear_day(session, None, the_day, cli=True)
        session.commit()
    click.echo(f"{the_day} 已恢复为发布的安排" if cleared else f"{the_day} 没有修改过")
