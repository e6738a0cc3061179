"""Indicator tables: closed periods kept as snapshots with the tree of their day, and pins.

A snapshot (:class:`Snapshot`) is one closed period (a week, a month, a quarter). It records the
org tree as it stood when the snapshot was taken (:class:`SnapshotUnit`: names, parents and
paths of that day) and the value of every indicator at every unit of that tree
(:class:`SnapshotValue`, rows of zero left out), so a trend reads a few indexed rows instead of
the history, and a unit split or merged later still shows in the periods it existed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

__all__ = ["Pin", "Snapshot", "SnapshotUnit", "SnapshotValue"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Snapshot(SQLModel, table=True):
    """One closed period whose values are kept. ``indicators`` maps each indicator's name to
    ``"ok"`` or the reason it could not be computed then."""

    __tablename__ = "kernel_indicator_snapshot"
    __table_args__ = (Index("uq_kernel_indicator_snapshot", "period_kind", "start", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    period_kind: str = Field(max_length=8)
    start: date
    end: date
    taken_at: datetime = Field(default_factory=utcnow)
    indicators: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SnapshotUnit(SQLModel, table=True):
    """An org unit as it stood when the snapshot was taken."""

    __tablename__ = "kernel_indicator_snapshot_unit"
    __table_args__ = (
        Index("ix_kernel_indicator_snapshot_unit_parent", "snapshot_id", "parent_id"),
    )

    snapshot_id: int = Field(foreign_key="kernel_indicator_snapshot.id", primary_key=True)
    unit_id: int = Field(primary_key=True)
    parent_id: int | None = None
    code: str = Field(max_length=12)
    name: str = Field(max_length=80)
    level: str = Field(max_length=16)
    path: str = Field(max_length=400)
    closed: bool = False


class SnapshotValue(SQLModel, table=True):
    """The summed ``value`` (and ``base``, for ratios) of one indicator at one unit.

    ``key`` is empty for the indicator's total and holds the breakdown key otherwise, with the
    key's label of that day in ``label``.
    """

    __tablename__ = "kernel_indicator_value"
    __table_args__ = (
        Index("ix_kernel_indicator_value_trend", "indicator", "unit_id", "key", "snapshot_id"),
    )

    snapshot_id: int = Field(foreign_key="kernel_indicator_snapshot.id", primary_key=True)
    indicator: str = Field(max_length=120, primary_key=True)
    unit_id: int = Field(primary_key=True)
    key: str = Field(default="", max_length=80, primary_key=True)
    label: str = Field(default="", max_length=120)
    value: float = 0.0
    base: float | None = None


class Pin(SQLModel, table=True):
    """An indicator a user pinned to the top of their dashboards (and the wall display)."""

    __tablename__ = "kernel_indicator_pin"

    user_id: int = Field(foreign_key="kernel_user.id", primary_key=True)
    indicator: str = Field(max_length=120, primary_key=True)
    position: int = 0
    pinned_at: datetime = Field(default_factory=utcnow)
