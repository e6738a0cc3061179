"""A notice: one message to one user, read or not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["Notice"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Notice(SQLModel, table=True):
    """A message to a user. ``key`` makes each notice once per user (events are delivered at
    least once, and the deadline job runs every hour)."""

    __tablename__ = "kernel_notice"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_kernel_notice_key"),
        Index("ix_kernel_notice_unread", "user_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="kernel_user.id")
    kind: str = Field(max_length=24)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=1000)
    link: str = Field(default="", max_length=300)
    key: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
