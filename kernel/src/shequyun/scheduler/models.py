"""The schedule table: one row per scheduled job, shared by every process of the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

__all__ = ["ScheduledJobRow"]


class ScheduledJobRow(SQLModel, table=True):
    """When a job is next due, who holds it now, and how its last run went.

    ``lease_until``/``lease_owner`` are set by the process that claimed a run and cleared when
    the run ends; a lease left behind by a crashed process simply expires.
    """

    __tablename__ = "kernel_scheduled_job"

    name: str = Field(max_length=120, primary_key=True)
    schedule: str = Field(max_length=40)
    next_due: datetime
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=40)
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_outcome: str | None = Field(default=None, max_length=16)
    last_summary: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
