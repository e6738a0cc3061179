"""The attachment table: one row per stored file reference (content is kept by hash)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

__all__ = ["Attachment"]


def _now() -> datetime:
    return datetime.now(UTC)


class Attachment(SQLModel, table=True):
    __tablename__ = "kernel_attachment"
    __table_args__ = (
        Index("ix_kernel_attachment_owner", "owner", "owner_ref"),
        Index("ix_kernel_attachment_unclaimed", "owner", "created_at"),
    )

    id: str = Field(max_length=40, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    content_type: str = Field(max_length=100)
    filename: str = Field(max_length=200)
    uploaded_by: int | None = Field(default=None, foreign_key="kernel_user.id")
    unit_id: int | None = Field(default=None, foreign_key="kernel_org_unit.id")
    owner: str | None = Field(default=None, max_length=40)
    owner_ref: str | None = Field(default=None, max_length=120)
    public: bool = False
    read_permissions: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=_now)
    claimed_at: datetime | None = None
