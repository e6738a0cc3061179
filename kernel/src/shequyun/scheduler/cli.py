"""``shequyun jobs``: the scheduled jobs, their last runs, and running one now."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from ..cli_support import migrated_kernel
from .service import JobBusy, JobStatus, UnknownJob
from .timing import BEIJING

__all__ = ["jobs"]


@click.group()
def jobs() -> None:
    """Scheduled jobs (daily digests, pruning): run by the web processes or `shequyun worker`."""


def _when(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _outcome(status: JobStatus) -> str:
    if status.running:
        return "running"
    if status.last_outcome == "failed":
        return f"failed: {status.last_error or ''}".splitlines()[0]
    if status.last_outcome == "ok":
        return f"ok: {status.last_summary}" if status.last_summary else "ok"
    return "-"


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_jobs(as_json: bool) -> None:
    """Every job: name, schedule (Beijing time), last run, next due time, last outcome."""
    with migrated_kernel(start=True) as kernel:
        found = kernel.scheduler.status()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "schedule": s.schedule,
                        "active": s.active,
                        "running": s.running,
                        "last_run": s.last_started_at.isoformat() if s.last_started_at else None,
                        "next_due": s.next_due.isoformat() if s.next_due else None,
                        "last_outcome": s.last_outcome,
                        "last_summary": s.last_summary,
                        "last_error": s.last_error,
                    }
                    for s in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not found:
        click.echo("no scheduled jobs")
        return
    width = max(len(s.name) for s in found)
    # Schedules and times are Beijing time; the header says so, as a log reader in UTC asks.
    click.echo(
        f"{'NAME':<{width}}  {'SCHEDULE':<12}  {'LAST RUN (UTC+8)':<16}  "
        f"{'NEXT DUE (UTC+8)':<16}  OUTCOME"
    )
    for s in found:
        outcome = _outcome(s) if s.active else f"(plugin not active) {_outcome(s)}"
        click.echo(
            f"{s.name:<{width}}  {s.schedule:<12}  {_when(s.last_started_at):<16}  "
            f"{_when(s.next_due):<16}  {outcome}".rstrip()
        )


@jobs.command("run")
@click.argument("name")
def run_job(name: str) -> None:
    """Run job NAME now, here, whether or not it is due; exit 1 when it fails."""
    with migrated_kernel(start=True) as kernel:
        try:
            run = kernel.scheduler.run_now(name)
        except UnknownJob:
            known = ", ".join(job.name for job in kernel.scheduler.active()) or "none"
            raise click.ClickException(
                f"no active scheduled job {name!r} (jobs: {known})"
            ) from None
        except JobBusy:
            raise click.ClickException(
                f"{name} is running in another process now; try again when it ends"
            ) from None
    if run.outcome == "ok":
        click.echo(f"{name}: ok" + (f": {run.summary}" if run.summary else ""))
        click.echo(f"next due {_when(run.next_due)} (UTC+8)")
        return
    click.echo(f"{name}: failed: {run.error}", err=True)
    sys.exit(1)
