"""Running the jobs plugins registered through ``register_scheduled_jobs``, once per due time.

Every process that runs jobs (web processes in the embedded default, ``shequyun worker``
processes) looks for due rows in ``kernel_scheduled_job`` and claims each with one atomic
``UPDATE … WHERE next_due <= now AND (lease_until IS NULL OR lease_until < now)``: the process
whose UPDATE changed the row (rowcount 1) runs the job, every other one changed nothing and moves
on. This is the same on SQLite (writes are serialised) and PostgreSQL (the second UPDATE waits
for the first to commit, then finds the lease taken). The run ends by moving ``next_due`` on and
clearing the lease; a process that dies mid-run leaves a lease that expires after :data:`LEASE`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk.identity import Actor
from shequyun_sdk.types import ScheduledJob
from sqlalchemy import Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ..handlers import wanted
from ..metrics import JOB_RUNS
from ..outages import OutageWatch, database_unavailable
from ..plugin_host import PluginHost, PluginRecord
from .models import ScheduledJobRow
from .timing import BEIJING, as_utc, first_due, next_due

__all__ = ["LEASE", "Job", "JobBusy", "JobRun", "JobStatus", "Scheduler", "UnknownJob"]

log = logging.getLogger("shequyun.scheduler")

#: How long a claimed run is protected from other processes; a longer run may be started twice.
LEASE = timedelta(hours=1)
#: Seconds between two looks for due jobs in a background runner.
CHECK_SECONDS = 30.0

OK, FAILED = "ok", "failed"

TABLE: Table = ScheduledJobRow.__table__  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """A registered job: its full name (``<plugin>.<name>``), its plugin and what it is."""

    name: str
    plugin: str
    spec: ScheduledJob


@dataclass(frozen=True)
class JobRun:
    """How one run went: ``outcome`` is ``ok`` (with ``summary``) or ``failed`` (``error``)."""

    name: str
    outcome: str
    summary: str | None
    error: str | None
    next_due: datetime


@dataclass(frozen=True)
class JobStatus:
    """A line of ``shequyun jobs list``."""

    name: str
    schedule: str
    active: bool
    running: bool
    next_due: datetime | None
    last_started_at: datetime | None
    last_outcome: str | None
    last_summary: str | None
    last_error: str | None


class UnknownJob(LookupError):
    """No active plugin registered a job of that name."""


class JobBusy(RuntimeError):
    """Another process holds the job's lease: it is running there now."""


class Scheduler:
    """The scheduled jobs of one kernel; ``clock`` is injectable for tests.

    A handler that names ``scheduled_for`` receives the moment its run was due (Beijing time),
    one that names ``actor`` its plugin's own actor, made by ``actor_for(plugin)``.
    """

    def __init__(
        self,
        engine: Engine,
        host: PluginHost,
        *,
        clock: Callable[[], datetime] = utcnow,
        actor_for: Callable[[str], Actor] | None = None,
    ):
        self.engine = engine
        self.host = host
        self.clock = clock
        self.actor_for = actor_for
        #: Seconds between two looks for due jobs in the background thread.
        self.interval = CHECK_SECONDS
        self.jobs: dict[str, Job] = {}
        self._rows_ready = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- registration ---------------------------------------------------------------------

    def collect(self, platform: Any) -> None:
        """Ask every active plugin for its jobs; a bad answer marks that plugin failed."""
        self.jobs = {}
        self._rows_ready = False
        for record, jobs in self.host.collect("register_scheduled_jobs", platform=platform):
            found: dict[str, Job] = {}
            try:
                for spec in jobs:
                    if not isinstance(spec, ScheduledJob):
                        raise TypeError(f"{spec!r} is not a ScheduledJob")
                    name = full_name(record, spec.name)
                    if name in found:
                        raise ValueError(f"two scheduled jobs are named {spec.name!r}")
                    found[name] = Job(name, record.name, spec)
            except (TypeError, ValueError) as exc:
                self.host.fail(
                    record.name, f"register_scheduled_jobs returned a bad value: {exc}", exc
                )
                continue
            self.jobs.update(found)

    def active(self) -> list[Job]:
        """The jobs whose plugin is active now, by name."""
        return [j for _, j in sorted(self.jobs.items()) if self.host.is_active(j.plugin)]

    # -- running ------------------------------------------------------------------------------

    def run_due(self, *, stop: threading.Event | None = None) -> list[JobRun]:
        """Claim and run every due job of an active plugin, one after the other.

        Jobs another process claimed first are skipped. An error, the job's or the database's,
        is logged and never stops the other jobs. ``stop`` ends the round between two jobs.
        """
        now = as_utc(self.clock())
        self._ensure_rows(now)
        active = {job.name: job for job in self.active()}
        if not active:
            return []
        with self.engine.connect() as conn:
            due_names = conn.execute(
                select(TABLE.c.name)
                .where(TABLE.c.next_due <= now, _lease_free(now))
                .order_by(TABLE.c.next_due, TABLE.c.name)
            ).scalars()
            due = [active[name] for name in due_names if name in active]
        runs = []
        for job in due:
            if stop is not None and stop.is_set():
                break
            try:
                run = self._claim_and_run(job, due_only=True)
            except Exception as exc:
                if database_unavailable(exc):
                    raise  # the round ends; the background loop waits the outage out
                log.exception("scheduled job %s: could not claim or record its run", job.name)
                continue
            if run is not None:
                runs.append(run)
        return runs

    def run_now(self, name: str) -> JobRun:
        """Run job ``name`` now whether or not it is due (``shequyun jobs run``).

        Raises :class:`UnknownJob`, or :class:`JobBusy` while another process runs it. Its
        due time stays where it was, unless it had passed.
        """
        job = self.jobs.get(name)
        if job is None or not self.host.is_active(job.plugin):
            raise UnknownJob(name)
        self._ensure_rows(as_utc(self.clock()))
        run = self._claim_and_run(job, due_only=False)
        if run is None:
            raise JobBusy(name)
        return run

    def status(self) -> list[JobStatus]:
        """Every job with its schedule and last run, the jobs of inactive plugins included."""
        now = as_utc(self.clock())
        self._ensure_rows(now)
        with self.engine.connect() as conn:
            rows = {row.name: row for row in conn.execute(select(TABLE))}
        found = []
        for name in sorted(rows):  # every registered job has its row by now
            job, row = self.jobs.get(name), rows[name]
            found.append(
                JobStatus(
                    name=name,
                    schedule=job.spec.schedule if job is not None else row.schedule,
                    active=job is not None and self.host.is_active(job.plugin),
                    running=row.lease_until is not None and as_utc(row.lease_until) > now,
                    next_due=as_utc(row.next_due),
                    last_started_at=_aware(row.last_started_at),
                    last_outcome=row.last_outcome,
                    last_summary=row.last_summary,
                    last_error=row.last_error,
                )
            )
        return found

    # -- in the background -----------------------------------------------------------------

    def start_background(self) -> None:
        """Look for due jobs every :attr:`interval` seconds in a thread of this process."""
        if self._thread is not None:
            return
        stop = self._stop = threading.Event()

        def loop() -> None:
            watch = OutageWatch(log, "scheduled jobs")
            while not stop.is_set():
                try:
                    self.run_due(stop=stop)
                except Exception as exc:  # the database may be briefly away; look again soon
                    stop.wait(min(self.interval, watch.failed(exc)))
                    continue
                watch.succeeded()
                stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="shequyun-scheduler", daemon=True)
        self._thread.start()

    def stop_background(self, timeout: float = 30.0) -> None:
        """Stop the background thread, letting a running job finish for up to ``timeout`` s."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        if thread.is_alive():
            log.warning(
                "a scheduled job was still running at shutdown; it runs again when its "
                "lease expires"
            )

    @property
    def running_in_background(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the table -----------------------------------------------------------------------------

    def _ensure_rows(self, now: datetime) -> None:
        """Give every registered job a row, and a new due time when its schedule changed."""
        if self._rows_ready:
            return
        with self.engine.begin() as conn:
            known = {row.name: row.schedule for row in conn.execute(select(TABLE))}
            for job in self.jobs.values():
                values = {"schedule": job.spec.schedule, "next_due": first_due(job.spec, now)}
                if job.name not in known:
                    conn.execute(_insert_new(conn.dialect.name, {"name": job.name, **values}))
                elif known[job.name] != job.spec.schedule:
                    conn.execute(update(TABLE).where(TABLE.c.name == job.name).values(**values))
        self._rows_ready = True

    def _claim_and_run(self, job: Job, *, due_only: bool) -> JobRun | None:
        now = as_utc(self.clock())
        token = secrets.token_hex(8)
        conditions = [TABLE.c.name == job.name, _lease_free(now)]
        if due_only:
            conditions.append(TABLE.c.next_due <= now)
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(TABLE)
                .where(*conditions)
                .values(lease_until=now + LEASE, lease_owner=token, last_started_at=now)
            )
            if claimed.rowcount != 1:
                return None
            due = as_utc(
                conn.execute(select(TABLE.c.next_due).where(TABLE.c.name == job.name)).scalar_one()
            )
        summary = error = None
        try:
            result = job.spec.handler(**self._arguments(job, due if due_only else now))
        except Exception as exc:
            log.exception("scheduled job %s failed", job.name)
            outcome, error = FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            outcome = OK
            summary = None if result is None else str(result)[:200]
            log.info("scheduled job %s done%s", job.name, f": {summary}" if summary else "")
        finished = as_utc(self.clock())
        following = next_due(job.spec, due, finished)
        with self.engine.begin() as conn:
            recorded = conn.execute(
                update(TABLE)
                .where(TABLE.c.name == job.name, TABLE.c.lease_owner == token)
                .values(
                    lease_until=None,
                    lease_owner=None,
                    next_due=following,
                    last_finished_at=finished,
                    last_outcome=outcome,
                    last_summary=summary,
                    last_error=error,
                )
            )
        if recorded.rowcount != 1:
            log.warning("scheduled job %s ran past its lease; another process took it", job.name)
        JOB_RUNS.labels(job.name, outcome).inc()
        return JobRun(job.name, outcome, summary, error, following)

    def _arguments(self, job: Job, scheduled_for: datetime) -> dict[str, Any]:
        asked = wanted(job.spec.handler, ("actor", "scheduled_for"))
        arguments: dict[str, Any] = {}
        if "scheduled_for" in asked:
            arguments["scheduled_for"] = scheduled_for.astimezone(BEIJING)
        if "actor" in asked and self.actor_for is not None:
            arguments["actor"] = self.actor_for(job.plugin)
        return arguments


def full_name(record: PluginRecord, local: str) -> str:
    """``<plugin>.<name>``; the kernel's own default plugins' jobs start with ``kernel.``."""
    return f"kernel.{record.name}.{local}" if record.builtin else f"{record.name}.{local}"


def _lease_free(now: datetime) -> Any:
    return or_(TABLE.c.lease_until.is_(None), TABLE.c.lease_until < now)


def _insert_new(dialect: str, values: dict[str, Any]) -> Any:
    """INSERT that leaves an existing row alone: processes starting together race here."""
    if dialect == "postgresql":
        return postgresql.insert(TABLE).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(TABLE).values(**values).on_conflict_do_nothing()
    raise RuntimeError(f"no insert-or-ignore for {dialect}")  # pragma: no cover


def _aware(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None
