"""Scheduled jobs under test: a clock the test moves by hand, so no test waits for time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shequyun_sdk import times

from .service import JobRun, JobStatus, Scheduler
from .timing import as_utc

__all__ = ["ScheduledJobs"]


class ScheduledJobs:
    """The ``scheduled_jobs`` fixture: run jobs now, or as the platform would at a moment.

    The scheduler's clock stands still at the moment the fixture was made until the test moves
    it with ``run_due(at=...)`` or ``advance(...)``; so do ``shequyun_sdk.beijing_now()`` and
    ``beijing_today()`` for the code the test runs, job handlers included, until :meth:`close`.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.now = datetime.now(UTC)
        scheduler.clock = lambda: self.now
        self._previous = times.set_clock(lambda: self.now)

    def close(self) -> None:
        """Give the SDK's clock back (the fixture does it after the test)."""
        times.set_clock(self._previous)

    @property
    def names(self) -> list[str]:
        """The full names of the active plugins' jobs."""
        return [job.name for job in self.scheduler.active()]

    def run(self, name: str) -> JobRun:
        """Run job ``name`` now, as ``shequyun jobs run NAME`` does."""
        return _held_to_the_catalogue([self.scheduler.run_now(name)])[0]

    def run_due(self, at: datetime | None = None) -> list[JobRun]:
        """Move the clock to ``at`` (an aware datetime) and run what is due, as a worker does."""
        if at is not None:
            if at.tzinfo is None:
                raise ValueError("give an aware datetime, e.g. with tzinfo=BEIJING")
            self.now = as_utc(at)
        return _held_to_the_catalogue(self.scheduler.run_due())

    def advance(self, **delta: float) -> None:
        """Move the clock on: ``advance(hours=1)``."""
        self.now += timedelta(**delta)

    def status(self, name: str) -> JobStatus:
        """Job ``name`` as ``shequyun jobs list`` shows it: schedule, last run, next due."""
        for found in self.scheduler.status():
            if found.name == name:
                return found
        raise KeyError(name)


def _held_to_the_catalogue(runs: list[JobRun]) -> list[JobRun]:
    """Fail the test when a job published an event against its declaration: the scheduler
    records a handler's error as the run's outcome and goes on, so a malformed event would
    otherwise pass as one failed run among others (the harness refuses such events)."""
    for run in runs:
        if run.outcome == "failed" and (run.error or "").startswith("EventContractError: "):
            raise AssertionError(f"scheduled job {run.name}: {run.error}")
    return runs
