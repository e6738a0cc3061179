"""register_scheduled_jobs: work the platform runs on a schedule, once per due time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from shequyun_sdk import ScheduledJob, beijing_today, hookimpl

from ._plugins import manifest, plugin_listing

BEIJING = timezone(timedelta(hours=8))


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026, Beijing time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BEIJING)


class Noticeboard:
    """社区公告: archives expired notices every night, syncs with the street's system hourly."""

    MANIFEST = manifest("noticeboard", "社区公告")

    def __init__(self):
        self.archived = []
        self.days = []
        self.synced = 0
        self.street_system_down = False

    @hookimpl
    def register_scheduled_jobs(self, plugin, platform):
        return [
            ScheduledJob("archive", self.archive, daily_at="02:00"),
            ScheduledJob("sync", self.sync, every=timedelta(hours=1)),
        ]

    def archive(self, scheduled_for):
        self.days.append(scheduled_for)
        self.today = beijing_today()
        self.archived.append("过期公告")
        return f"归档 {len(self.archived)} 条过期公告"

    def sync(self):
        if self.street_system_down:
            raise ConnectionError("街道系统接口超时")
        self.synced += 1


@pytest.fixture
def noticeboard():
    return Noticeboard()


@pytest.fixture
def shequyun_plugins(noticeboard):
    return [noticeboard]


def test_jobs_are_named_after_their_plugin(scheduled_jobs):
    assert scheduled_jobs.names == [
        "kernel.attachments.prune",
        "kernel.indicators.snapshot",
        "kernel.notices.due_soon",
        "kernel.quality.daily",
        "kernel.residents.tally",
        "noticeboard.archive",
        "noticeboard.sync",
    ]
    scheduled_jobs.run_due(at=beijing(28, 10))
    assert scheduled_jobs.status("noticeboard.archive").schedule == "daily 02:00"
    assert scheduled_jobs.status("noticeboard.sync").schedule == "every 1h"


def test_a_daily_job_runs_once_a_day_at_its_beijing_time(scheduled_jobs, noticeboard):
    scheduled_jobs.run_due(at=beijing(28, 10))  # the platform starts on the 28th at 10:00
    assert scheduled_jobs.status("noticeboard.archive").next_due == beijing(29, 2)
    scheduled_jobs.run_due(at=beijing(29, 1, 59))
    assert noticeboard.archived == []
    [run] = [r for r in scheduled_jobs.run_due(at=beijing(29, 2)) if r.name.endswith("archive")]
    assert (run.outcome, run.summary) == ("ok", "归档 1 条过期公告")
    scheduled_jobs.run_due(at=beijing(29, 2, 1))
    assert noticeboard.archived == ["过期公告"]  # once, however often workers look
    status = scheduled_jobs.status("noticeboard.archive")
    assert status.last_started_at == beijing(29, 2)
    assert status.next_due == beijing(30, 2)


def test_a_handler_is_told_which_run_it_does_on_the_test_clock(scheduled_jobs, noticeboard):
    scheduled_jobs.run_due(at=beijing(28, 10))
    scheduled_jobs.run_due(at=beijing(29, 9, 30))  # the 02:00 run, made up late
    assert noticeboard.days == [beijing(29, 2)]
    assert noticeboard.days[0].tzname() == "Asia/Shanghai"
    assert noticeboard.today == beijing(29, 9, 30).date()  # the SDK's clock is the test's
    scheduled_jobs.advance(hours=1)
    scheduled_jobs.run("noticeboard.archive")  # by hand: the moment it was started
    assert noticeboard.days[1] == beijing(29, 10, 30)


def test_an_interval_job_makes_up_missed_runs_with_one_run(scheduled_jobs, noticeboard):
    scheduled_jobs.run_due(at=beijing(28, 10))
    scheduled_jobs.run_due(at=beijing(28, 11))
    assert noticeboard.synced == 1
    scheduled_jobs.run_due(at=beijing(28, 15, 20))  # nothing ran for four hours
    assert noticeboard.synced == 2
    assert scheduled_jobs.status("noticeboard.sync").next_due == beijing(28, 16)


def ours(runs):
    """The noticeboard's runs among ``runs``."""
    return [run for run in runs if run.name.startswith("noticeboard.")]


def test_a_failing_job_is_recorded_and_retried_at_its_next_due_time(scheduled_jobs, noticeboard):
    scheduled_jobs.run_due(at=beijing(28, 1))
    noticeboard.street_system_down = True
    runs = {r.name: r for r in scheduled_jobs.run_due(at=beijing(28, 2))}
    assert runs["noticeboard.sync"].outcome == "failed"
    assert runs["noticeboard.sync"].error == "ConnectionError: 街道系统接口超时"
    assert runs["noticeboard.archive"].outcome == "ok"  # not held up by the failure
    status = scheduled_jobs.status("noticeboard.sync")
    assert (status.last_outcome, status.last_error) == (
        "failed",
        "ConnectionError: 街道系统接口超时",
    )
    assert status.next_due == beijing(28, 3)
    # No retry storm (the kernel's own jobs may fall due meanwhile: hourly notices).
    assert ours(scheduled_jobs.run_due(at=beijing(28, 2, 30))) == []

    noticeboard.street_system_down = False
    [run] = ours(scheduled_jobs.run_due(at=beijing(28, 3)))
    assert run.outcome == "ok" and noticeboard.synced == 1
    status = scheduled_jobs.status("noticeboard.sync")
    assert (status.last_outcome, status.last_error) == ("ok", None)


def test_running_a_job_now_keeps_its_schedule(scheduled_jobs, noticeboard):
    scheduled_jobs.run_due(at=beijing(28, 10))
    run = scheduled_jobs.run("noticeboard.archive")
    assert run.outcome == "ok" and noticeboard.archived == ["过期公告"]
    assert scheduled_jobs.status("noticeboard.archive").next_due == beijing(29, 2)


class TestWhenRegisterScheduledJobsFails:
    class Broken:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def register_scheduled_jobs(self):
            raise RuntimeError("计划任务配置错误")

    class BadValue:
        MANIFEST = manifest("deliberation", "议事厅")

        @hookimpl
        def register_scheduled_jobs(self):
            return ["0 3 * * *"]

    class BadSchedule:
        MANIFEST = manifest("elderly", "为老服务")

        @hookimpl
        def register_scheduled_jobs(self):
            return [ScheduledJob("visits", print, daily_at="25:00")]

    class FailsAtStartup:
        MANIFEST = manifest("bureau_sync", "委办局同步")

        def __init__(self):
            self.runs = 0

        @hookimpl
        def register_scheduled_jobs(self):
            return [ScheduledJob("pull", self.pull, every=timedelta(minutes=10))]

        def pull(self):
            self.runs += 1

        @hookimpl
        def on_startup(self):
            raise ConnectionError("委办局接口不可用")

    @pytest.fixture
    def bureau(self):
        return self.FailsAtStartup()

    @pytest.fixture
    def shequyun_plugins(self, noticeboard, bureau):
        return [self.Broken(), self.BadValue(), self.BadSchedule(), bureau, noticeboard]

    def test_the_plugin_is_failed_and_other_jobs_still_run(
        self, shequyun_client, scheduled_jobs, noticeboard, bureau
    ):
        listing = plugin_listing(shequyun_client)
        assert listing["parking"]["reason"] == (
            "hook register_scheduled_jobs raised RuntimeError: 计划任务配置错误"
        )
        assert listing["deliberation"]["reason"] == (
            "register_scheduled_jobs returned a bad value: '0 3 * * *' is not a ScheduledJob"
        )
        assert listing["elderly"]["reason"].startswith(
            "hook register_scheduled_jobs raised ValueError: job 'visits': daily_at="
        )
        assert listing["bureau_sync"]["state"] == "failed"
        assert "bureau_sync.pull" not in scheduled_jobs.names  # a failed plugin's jobs never run
        scheduled_jobs.run_due(at=beijing(28, 10))
        scheduled_jobs.run_due(at=beijing(29, 10))
        assert bureau.runs == 0
        assert noticeboard.synced == 1
        assert not scheduled_jobs.status("bureau_sync.pull").active

    def test_a_plugin_that_fails_later_has_its_jobs_withdrawn(
        self, shequyun_kernel, scheduled_jobs, noticeboard
    ):
        scheduled_jobs.run_due(at=beijing(28, 10))
        shequyun_kernel.host.fail("noticeboard", "数据库表被误删")
        scheduled_jobs.run_due(at=beijing(29, 10))
        assert noticeboard.synced == 0 and noticeboard.archived == []
