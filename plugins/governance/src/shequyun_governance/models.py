"""The plugin's tables (``governance_*``). Kernel objects are referred to by id or key, never FK.

Org units are ``unit_id`` (the kernel's id, stable through renames); residents, households and
buildings are pick keys (:mod:`shequyun_sdk.picking`) with a label of what they were when the
row was written. The knowledge base's full-text index is not a model: its table (FTS5 on
SQLite, a ``tsvector`` with a GIN index on PostgreSQL) is made by the migration and kept by
:mod:`.search`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Article",
    "ArticleVersion",
    "Case",
    "CaseParty",
    "CaseStep",
    "Category",
    "LogEntry",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Category(SQLModel, table=True):
    """A managed category of field-log entries (``kind="log"``) or cases (``kind="case"``).

    ``due_days`` is how many working days a case of the category has to be handled in.
    """

    __tablename__ = "governance_category"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_governance_category"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)
    code: str = Field(max_length=40)
    name: str = Field(max_length=40)
    due_days: int = 5
    position: int = 100
    active: bool = True


class LogEntry(SQLModel, table=True):
    """A 民情日志 entry: a visit or an observation a cadre or social worker recorded.

    ``subject_key`` is the resident, household or building it concerns (None: the committee
    itself); ``household_id`` is set when the subject is a household or a member of one, so that
    visit coverage counts households.
    """

    __tablename__ = "governance_log"
    __table_args__ = (
        Index("ix_governance_log_unit_day", "unit_id", "occurred_on"),
        Index("ix_governance_log_household", "household_id", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int
    unit_name: str = Field(max_length=80)
    kind: str = Field(max_length=12)
    category_id: int
    category_name: str = Field(max_length=40)
    subject_key: str | None = Field(default=None, max_length=160)
    subject_label: str = Field(default="", max_length=200)
    resident_id: int | None = None
    household_id: int | None = None
    building: str | None = Field(default=None, max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    follow_up: bool = False
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occurred_on: date
    author_user_id: int | None = None
    author: str = Field(max_length=80)
    case_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Case(SQLModel, table=True):
    """A 末端处置 case, handled by ``unit_id`` and checked by ``dispatcher_unit_id``.

    ``chain`` is the stack of assignments ``[[from unit id, to unit id], ...]``: 派单 and 转派 push,
    退单 and 上报 pop or move the top up a level; the top's *from* is the dispatcher who checks
    the report (核查). ``origin_unit_id`` is the unit that opened the case. ``version`` rises with
    every step, so of two people acting on one case at once, one wins and the other gets 409.
    """

    __tablename__ = "governance_case"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_governance_case_source"),
        Index("ix_governance_case_unit_status_due", "unit_id", "status", "due_on"),
        Index("ix_governance_case_created", "created_on"),
        Index("ix_governance_case_due", "due_on"),
        Index("ix_governance_case_subject", "subject_key"),
        Index("ix_governance_case_place", "place"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=24, unique=True, index=True)
    title: str = Field(max_length=120)
    description: str = Field(sa_column=Column(Text, nullable=False))
    category_id: int
    category_name: str = Field(max_length=40)
    priority: str = Field(default="normal", max_length=8)
    source: str = Field(max_length=16)
    source_ref: str | None = Field(default=None, max_length=80)
    status: str = Field(max_length=12)
    origin_unit_id: int
    dispatcher_unit_id: int
    unit_id: int
    unit_name: str = Field(max_length=80)
    chain: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject_key: str | None = Field(default=None, max_length=160)
    subject_label: str = Field(default="", max_length=200)
    resident_id: int | None = None
    household_id: int | None = None
    #: The building the case is about (``宛平小区12号楼``), for hot spots; None when unknown.
    place: str | None = Field(default=None, max_length=100)
    address: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    created_on: date
    accept_due: date
    due_on: date
    accepted_at: datetime | None = None
    reported_at: datetime | None = None
    closed_at: datetime | None = None
    closed_on: date | None = None
    supervised: int = 0
    extension_days: int | None = None
    extension_reason: str = Field(default="", max_length=200)
    satisfaction: str | None = Field(default=None, max_length=12)
    log_id: int | None = None
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class CaseParty(SQLModel, table=True):
    """A unit that took part in a case (rejected or escalated it) and is not above its
    handler: it keeps seeing the case. Units above the handler see it through their scope, so
    they need no row, and the table holds only the cases that moved up or sideways."""

    __tablename__ = "governance_case_party"

    case_id: int = Field(primary_key=True)
    unit_id: int = Field(primary_key=True, index=True)


class CaseStep(SQLModel, table=True):
    """One step of a case's history: who (user, grant, unit), what, when, the note and photos."""

    __tablename__ = "governance_case_step"
    __table_args__ = (Index("ix_governance_case_step_case", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    action: str = Field(max_length=20)
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str = Field(max_length=12)
    actor_user_id: int | None = None
    actor: str = Field(max_length=80)
    grant_id: int | None = None
    role: str | None = Field(default=None, max_length=80)
    unit_id: int | None = None
    unit_name: str = Field(default="", max_length=80)
    target_unit_id: int | None = None
    target_unit_name: str = Field(default="", max_length=80)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)


class Article(SQLModel, table=True):
    """A knowledge-base article (policy, procedure, answer, template) of a unit, current version.

    Readers are the publisher's subtree (every unit at or below ``unit_id``). ``categories``
    are case-category codes the article answers: a case of that category suggests it.
    """

    __tablename__ = "governance_article"
    __table_args__ = (Index("ix_governance_article_unit", "unit_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int
    unit_name: str = Field(max_length=80)
    unit_level: str = Field(max_length=12)
    kind: str = Field(max_length=12)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
    withdrawn: bool = False
    author: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ArticleVersion(SQLModel, table=True):
    """Every version of an article as it was published."""

    __tablename__ = "governance_article_version"
    __table_args__ = (
        UniqueConstraint("article_id", "version", name="uq_governance_article_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int
    version: int
    kind: str = Field(max_length=12)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=200)
    author: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)
