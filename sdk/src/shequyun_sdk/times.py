"""Beijing time, the platform's time: what "today" means for a deadline, a digest or an age.

Servers run in UTC; the portal, deadlines and daily jobs speak Beijing time (Asia/Shanghai,
UTC+8 all year: China keeps no daylight saving time). Use these instead of ``date.today()``,
which answers in the server's zone and is a day off every night between 00:00 and 08:00.

In a scheduled job, prefer the run's ``scheduled_for`` argument to the clock: it says which run
this is, and it follows the ``scheduled_jobs`` test clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

__all__ = ["BEIJING", "beijing_now", "beijing_today", "set_clock", "to_beijing"]

#: Asia/Shanghai as a fixed offset (UTC+8); no time-zone database needed.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_clock: Callable[[], datetime] | None = None


def beijing_now() -> datetime:
    """Now, as an aware datetime in Beijing time (the test's clock under ``scheduled_jobs``)."""
    if _clock is not None:
        return _clock().astimezone(BEIJING)
    return datetime.now(BEIJING)


def set_clock(clock: Callable[[], datetime] | None) -> Callable[[], datetime] | None:
    """Make :func:`beijing_now` and :func:`beijing_today` read ``clock`` (an aware datetime
    each call), or the real clock again with None; returns the clock replaced.

    For test harnesses: the ``scheduled_jobs`` fixture sets its hand-moved clock, so the code a
    job runs sees the same day the test moved to. Plugins never call it.
    """
    global _clock
    previous, _clock = _clock, clock
    return previous


def beijing_today() -> date:
    """Today's date in Beijing."""
    return beijing_now().date()


def to_beijing(moment: datetime) -> datetime:
    """``moment`` in Beijing time; a naive ``moment`` is taken as UTC (as databases return it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)
