"""Beijing time, the platform's time: what "today" means for a deadline, a digest or an age.

Servers run in UTC; the portal, deadlines and daily jobs speak Beijing time (Asia/Shanghai,
UTC+8 all year: China keeps no daylight saving time). Use these instead of ``date.today()``,
which answers in the server's zone and is a day off every night between 00:00 and 08:00.

In a scheduled job, prefer the run's ``scheduled_for`` argument to the clock: it says which run
this is, and it follows the ``scheduled_jobs`` test clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

__all__ = ["BEIJING", "beijing_now", "beijing_today", "to_beijing"]

#: Asia/Shanghai as a fixed offset (UTC+8); no time-zone database needed.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_now() -> datetime:
    """Now, as an aware datetime in Beijing time."""
    return datetime.now(BEIJING)


def beijing_today() -> date:
    """Today's date in Beijing."""
    return beijing_now().date()


def to_beijing(moment: datetime) -> datetime:
    """``moment`` in Beijing time; a naive ``moment`` is taken as UTC (as databases return it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)
