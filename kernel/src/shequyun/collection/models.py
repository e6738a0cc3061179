"""Collection tables: forms and their versions, campaigns, tasks, submissions and their history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "TASK_STATUSES",
    "Campaign",
    "CampaignTarget",
    "Form",
    "FormVersion",
    "SubmissionKey",
    "Task",
    "TaskEvent",
]

#: A task moves not_started → draft → submitted, and back to returned when sent back.
TASK_STATUSES = {
    "not_started": "未开始",
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Form(SQLModel, table=True):
    """A collection form owned by the unit of the publisher who created it."""

    __tablename__ = "kernel_form"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    owner_unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class FormVersion(SQLModel, table=True):
    """One version of a form. Published versions never change.

    ``columns`` maps each field to its stable export column: a field renamed in a later
    version (``renamed_from`` in the UI layer) keeps the column of its earlier name, so exports
    across versions keep their columns.
    """

    __tablename__ = "kernel_form_version"
    __table_args__ = (UniqueConstraint("form_id", "number", name="uq_kernel_form_version"),)

    id: int | None = Field(default=None, primary_key=True)
    form_id: int = Field(foreign_key="kernel_form.id")
    number: int
    schema_: dict[str, Any] = Field(sa_column=Column("schema", JSON, nullable=False))
    ui: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    columns: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=12)
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


class Campaign(SQLModel, table=True):
    """A form version sent to part of the hierarchy, with a deadline."""

    __tablename__ = "kernel_campaign"

    id: int | None = Field(default=None, primary_key=True)
    form_version_id: int = Field(foreign_key="kernel_form_version.id")
    title: str = Field(max_length=120)
    instructions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    mode: str = Field(default="unit", max_length=12)
    roster_filter: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    writeback: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    publisher_user_id: int | None = None
    publisher_unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    starts_at: datetime
    deadline: datetime
    status: str = Field(default="open", max_length=12)
    created_at: datetime = Field(default_factory=utcnow)


class CampaignTarget(SQLModel, table=True):
    """A unit the campaign was sent to (the committees below it received tasks)."""

    __tablename__ = "kernel_campaign_target"

    campaign_id: int = Field(foreign_key="kernel_campaign.id", primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", primary_key=True)


class Task(SQLModel, table=True):
    """One committee's share of a campaign, and its current answers.

    ``district_id`` and ``street_id`` are fixed when the campaign opens, so progress by level is
    one GROUP BY and stays as it was sent even if units move later. ``withdrawn`` marks a task
    whose committee closed after the campaign opened: it no longer counts as expected.
    """

    __tablename__ = "kernel_task"
    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id", name="uq_kernel_task"),
        Index("ix_kernel_task_campaign_status", "campaign_id", "status"),
        Index("ix_kernel_task_unit", "unit_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="kernel_campaign.id")
    unit_id: int = Field(foreign_key="kernel_org_unit.id")
    district_id: int | None = None
    street_id: int | None = None
    status: str = Field(default="not_started", max_length=16)
    withdrawn: bool = False
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    form_version_id: int | None = None
    version: int = 1
    submitted_at: datetime | None = None
    on_time: bool | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class TaskEvent(SQLModel, table=True):
    """A step in a task's history: draft saved, submitted, returned, resubmitted."""

    __tablename__ = "kernel_task_event"
    __table_args__ = (Index("ix_kernel_task_event_task", "task_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="kernel_task.id")
    at: datetime = Field(default_factory=utcnow)
    action: str = Field(max_length=20)
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SubmissionKey(SQLModel, table=True):
    """An idempotency key: the same key for the same task is answered once."""

    __tablename__ = "kernel_submission_key"

    task_id: int = Field(foreign_key="kernel_task.id", primary_key=True)
    client_key: str = Field(max_length=80, primary_key=True)
    task_version: int
    created_at: datetime = Field(default_factory=utcnow)
