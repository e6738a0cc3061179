"""Schedules: what a ScheduledJob accepts, and when a job falls due next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from shequyun_sdk import ScheduledJob, hookimpl

from shequyun.scheduler.timing import first_due, next_due

from ..hooks._plugins import manifest

BEIJING = timezone(timedelta(hours=8))


def nothing():
    return None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Digest", "every": timedelta(hours=1)}, "must be lower case"),
        ({"name": "digest"}, "exactly one of every= and daily_at="),
        ({"name": "digest", "every": timedelta(hours=1), "daily_at": "08:00"}, "exactly one"),
        ({"name": "digest", "every": timedelta(seconds=30)}, "whole minutes, at least one"),
        ({"name": "digest", "every": timedelta(seconds=90)}, "whole minutes"),
        ({"name": "digest", "every": 60}, "whole minutes"),
        ({"name": "digest", "daily_at": "8:00"}, "must be 'HH:MM'"),
        ({"name": "digest", "daily_at": "24:00"}, "must be 'HH:MM'"),
    ],
)
def test_a_job_says_what_is_wrong_with_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScheduledJob(handler=nothing, **kwargs)


def test_schedules_in_words():
    assert ScheduledJob("a", nothing, every=timedelta(minutes=15)).schedule == "every 15m"
    assert ScheduledJob("a", nothing, every=timedelta(minutes=90)).schedule == "every 90m"
    assert ScheduledJob("a", nothing, every=timedelta(hours=2)).schedule == "every 2h"
    assert ScheduledJob("a", nothing, daily_at="03:30").schedule == "daily 03:30"


def test_daily_times_are_beijing_times():
    job = ScheduledJob("visits", nothing, daily_at="00:30")
    # 2026-11-28 16:00 UTC is already 00:00 on the 29th in Beijing.
    assert first_due(job, datetime(2026, 11, 28, 16, 0, tzinfo=UTC)) == datetime(
        2026, 11, 29, 0, 30, tzinfo=BEIJING
    )
    assert first_due(job, datetime(2026, 11, 28, 16, 30, tzinfo=UTC)) == datetime(
        2026, 11, 30, 0, 30, tzinfo=BEIJING
    )


def test_the_next_due_time_is_always_ahead_of_the_run():
    hourly = ScheduledJob("sync", nothing, every=timedelta(hours=1))
    due = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert next_due(hourly, due, due + timedelta(seconds=5)) == due + timedelta(hours=1)
    assert next_due(hourly, due, due + timedelta(hours=1)) == due + timedelta(hours=2)
    assert next_due(hourly, due, due - timedelta(minutes=5)) == due  # run early, by hand


class Visits:
    """为老服务: reminds cadres of home visits; its operator moves the time between releases."""

    MANIFEST = manifest("elderly", "为老服务")
    daily_at = "07:00"

    @hookimpl
    def register_scheduled_jobs(self):
        return [ScheduledJob("visits", nothing, daily_at=self.daily_at)]


@pytest.fixture
def shequyun_plugins():
    return [Visits()]


def test_a_changed_schedule_takes_effect_at_the_next_start(scheduled_jobs, shequyun_kernel):
    scheduled_jobs.run_due(at=datetime(2026, 11, 28, 6, 0, tzinfo=BEIJING))
    assert scheduled_jobs.status("elderly.visits").next_due == datetime(
        2026, 11, 28, 7, 0, tzinfo=BEIJING
    )
    Visits.daily_at = "09:00"
    try:
        shequyun_kernel.scheduler.collect(shequyun_kernel.platform)  # what a restart does
        status = scheduled_jobs.status("elderly.visits")
    finally:
        Visits.daily_at = "07:00"
    assert (status.schedule, status.next_due) == (
        "daily 09:00",
        datetime(2026, 11, 28, 9, 0, tzinfo=BEIJING),
    )
