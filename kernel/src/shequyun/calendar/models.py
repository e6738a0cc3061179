"""The calendar's one table: days administrators set over the shipped arrangement."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Field, SQLModel

__all__ = ["CalendarEdit"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class CalendarEdit(SQLModel, table=True):
    """One day set by an administrator: ``holiday``, ``workday``, or ``ordinary`` (which drops
    the shipped entry for the day, so Monday–Friday work and weekends rest again)."""

    __tablename__ = "kernel_calendar_day"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=12)
    name: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=200)
    updated_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
