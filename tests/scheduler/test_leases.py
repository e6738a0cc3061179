"""Several processes, one run per due time: the lease in ``kernel_scheduled_job``.

Each "process" here is a kernel of its own (its own engine and connection pool) on the same
database, as two ``shequyun worker`` processes or two web processes would be.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import ScheduledJob, hookimpl
from sqlalchemy import update

from shequyun.kernel import Kernel
from shequyun.scheduler import LEASE, JobBusy, ScheduledJobRow

from ..hooks._plugins import manifest

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class Clock:
    """A clock that moves only when the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Census:
    """Recounts the committees' residents every ten minutes; counts its own runs."""

    MANIFEST = manifest("census", "人口统计")

    def __init__(self):
        self.runs = 0
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.hold = None  # an Event the run waits for, to keep it running

    @hookimpl
    def register_scheduled_jobs(self):
        return [ScheduledJob("recount", self.recount, every=timedelta(minutes=10))]

    def recount(self):
        self.started.set()
        if self.hold is not None:
            self.hold.wait(timeout=30)
        with self.lock:
            self.runs += 1


@pytest.fixture
def census():
    return Census()


@pytest.fixture
def shequyun_plugins(census):
    return [census]


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def processes(shequyun_client, shequyun_kernel, census, clock):
    """Two kernels on one database, sharing one clock; the job falls due at START + 10 min."""
    other = Kernel(shequyun_kernel.settings, plugins=[census], discover=False)
    other.start(check_migrations=False)
    first, second = shequyun_kernel.scheduler, other.scheduler
    first.clock = second.clock = clock
    first.run_due()  # registers the job: due ten minutes from START
    second.run_due()
    clock.now = START + timedelta(minutes=10)
    yield first, second
    other.close()


def recounts(runs):
    """The census job's runs among ``runs`` (the kernel's own jobs may fall due meanwhile)."""
    return [run for run in runs if run.name == "census.recount"]


def test_two_processes_looking_at_once_run_a_due_job_once(processes, census, clock):
    for round_ in range(5):
        clock.now = START + timedelta(minutes=10 * (round_ + 1))
        both_ready = threading.Barrier(2)
        results = []

        def look(scheduler, results=results, both_ready=both_ready):
            both_ready.wait(timeout=10)
            results.append(recounts(scheduler.run_due()))

        threads = [threading.Thread(target=look, args=(s,)) for s in processes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(len(runs) for runs in results) == [0, 1]
        assert census.runs == round_ + 1


def test_a_job_running_in_one_process_is_left_alone_by_the_other(processes, census):
    first, second = processes
    census.hold = threading.Event()
    running = threading.Thread(target=first.run_due)
    running.start()
    try:
        assert census.started.wait(timeout=10)  # the first process claimed it and runs it
        assert {s.name: s.running for s in second.status()}["census.recount"]
        assert recounts(second.run_due()) == []
        with pytest.raises(JobBusy):
            second.run_now("census.recount")
    finally:
        census.hold.set()
        running.join(timeout=30)
    assert census.runs == 1
    assert [s.last_outcome for s in second.status() if s.name == "census.recount"] == ["ok"]


def test_the_lease_of_a_process_that_died_mid_run_expires(
    processes, census, clock, shequyun_kernel
):
    first, second = processes
    with shequyun_kernel.engine.begin() as conn:  # claimed by a process that then crashed
        conn.execute(
            update(ScheduledJobRow.__table__)
            .where(ScheduledJobRow.__table__.c.name == "census.recount")
            .values(lease_until=clock.now + LEASE, lease_owner="crashed")
        )
    assert recounts(first.run_due()) == [] and recounts(second.run_due()) == []
    clock.now += LEASE + timedelta(seconds=1)
    [run] = recounts(second.run_due())
    assert run.outcome == "ok" and census.runs == 1
    assert recounts(first.run_due()) == []
