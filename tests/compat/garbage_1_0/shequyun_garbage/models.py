"""The app's table: one check-in per committee per day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class CheckIn(SQLModel, table=True):
    """A committee's garbage-sorting check on one day.

    ``unit_id`` and ``unit_code`` refer to the kernel's org unit by value (no foreign key into
    kernel tables, as the plugin guide asks).
    """

    __tablename__ = "garbage_checkin"
    __table_args__ = (UniqueConstraint("unit_id", "day", name="uq_garbage_checkin_day"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=12)
    unit_name: str = Field(max_length=80)
    day: date
    households: int
    correct_rate: int
    note: str = Field(default="", max_length=200)
    recorded_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "unit": {"code": self.unit_code, "name": self.unit_name},
            "day": self.day.isoformat(),
            "households": self.households,
            "correct_rate": self.correct_rate,
            "note": self.note,
            "recorded_by": self.recorded_by,
        }
