"""When a job falls due: schedule arithmetic in UTC, daily times in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shequyun_sdk.times import BEIJING
from shequyun_sdk.types import ScheduledJob

__all__ = ["BEIJING", "as_utc", "first_due", "next_due"]


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; naive values (SQLite returns them) are UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def first_due(job: ScheduledJob, now: datetime) -> datetime:
    """The first run of a job registered at ``now``: its first scheduled moment after it."""
    if job.every is not None:
        return as_utc(now) + job.every
    return _next_daily(job, now)


def next_due(job: ScheduledJob, due: datetime, finished: datetime) -> datetime:
    """The due time after a run that was due at ``due`` and ended at ``finished``.

    Always after ``finished``, so runs missed while nothing was running are made up by one run.
    A run made before its due time (``shequyun jobs run``) leaves the due time where it was.
    """
    due, finished = as_utc(due), as_utc(finished)
    if due > finished:
        return due
    if job.every is not None:
        return due + ((finished - due) // job.every + 1) * job.every
    return _next_daily(job, finished)


def _next_daily(job: ScheduledJob, after: datetime) -> datetime:
    assert job.daily_at is not None
    hour, minute = (int(part) for part in job.daily_at.split(":"))
    local = as_utc(after).astimezone(BEIJING)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)
