"""Scheduled jobs: work plugins register through ``register_scheduled_jobs``, run on time by
whichever process of the platform claims it first (see :mod:`.service`)."""

from __future__ import annotations

from .models import ScheduledJobRow
from .service import LEASE, Job, JobBusy, JobRun, JobStatus, Scheduler, UnknownJob

__all__ = [
    "LEASE",
    "Job",
    "JobBusy",
    "JobRun",
    "JobStatus",
    "ScheduledJobRow",
    "Scheduler",
    "UnknownJob",
]
