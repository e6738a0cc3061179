"""The plugin's tables (``advisors_*``). Kernel objects are referred to by id, never by FK.

Rows counted per level (cases, services) carry their committee's id: a funnel or a monthly figure
is one ``GROUP BY unit_id`` in the database, added up to streets and districts in Python over the
committees' unit paths (a few hundred rows for a district), never a walk per row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Advisor",
    "AdvisorPoint",
    "Case",
    "CaseEvent",
    "PolicyVersion",
    "Receipt",
    "Resource",
    "ServiceRecord",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PolicyVersion(SQLModel, table=True):
    """A policy added or changed in the portal: every save is a new version, never an edit."""

    __tablename__ = "advisors_policy_version"
    __table_args__ = (UniqueConstraint("policy_id", "version", name="uq_advisors_policy_version"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=60, index=True)
    version: int
    source: str = Field(sa_column=Column(Text, nullable=False))
    unit_id: int = Field(index=True)
    unit_name: str = Field(max_length=80)
    retired: bool = False
    note: str = Field(default="", max_length=400)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Receipt(SQLModel, table=True):
    """A benefit recorded as received (the receiving marker of ``recorded`` policies)."""

    __tablename__ = "advisors_receipt"
    __table_args__ = (Index("ix_advisors_receipt_policy_resident", "policy_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=60)
    resident_id: int = Field(index=True)
    since: date
    ended_on: date | None = None
    source: str = Field(default="outreach", max_length=20)
    recorded_by: str = Field(default="", max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


#: Outreach steps in order; a case's ``reached`` is the furthest step it got to.
STAGES = ("found", "contacted", "applied", "receiving")


class Case(SQLModel, table=True):
    """One resident found for one policy (政策找人), and what outreach has done since."""

    __tablename__ = "advisors_case"
    __table_args__ = (
        UniqueConstraint("policy_id", "resident_id", name="uq_advisors_case"),
        Index("ix_advisors_case_unit_policy", "unit_id", "policy_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=60)
    resident_id: int = Field(index=True)
    unit_id: int
    status: str = Field(default="found", max_length=16)
    #: 0 found, 1 contacted, 2 applied, 3 receiving: the funnel counts by it.
    reached: int = 0
    verdict: str = Field(max_length=24)
    assignee_user_id: int | None = Field(default=None, index=True)
    assignee: str = Field(default="", max_length=80)
    found_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    version: int = 1


class CaseEvent(SQLModel, table=True):
    """A case's history: every assignment and outcome, never edited."""

    __tablename__ = "advisors_case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(default="", max_length=80)
    action: str = Field(max_length=20)
    from_status: str = Field(default="", max_length=16)
    to_status: str = Field(default="", max_length=16)
    note: str = Field(default="", max_length=400)


class AdvisorPoint(SQLModel, table=True):
    """A 顾问点 at a street or committee, with the units it covers."""

    __tablename__ = "advisors_point"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=12)  # elderly / assistance / both
    unit_id: int = Field(index=True)
    address: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=40)
    covers: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Advisor(SQLModel, table=True):
    """A 养老顾问 or 救助顾问: a platform user (role ``advisors.advisor``) at a point."""

    __tablename__ = "advisors_advisor"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, index=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=12)  # elderly / assistance
    point_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    phone: str = Field(default="", max_length=40)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ServiceRecord(SQLModel, table=True):
    """One service an advisor gave: consultation, home visit or referral, by some channel."""

    __tablename__ = "advisors_service"
    __table_args__ = (Index("ix_advisors_service_unit_month", "unit_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    advisor_id: int = Field(index=True)
    resident_id: int | None = Field(default=None, index=True)
    unit_id: int
    kind: str = Field(max_length=16)  # consultation / home_visit / referral
    channel: str = Field(max_length=12)  # offline / online / phone / radio
    at: datetime
    month: str = Field(max_length=7)  # 2026-12, Beijing time
    summary: str = Field(sa_column=Column(Text, nullable=False))
    policy_id: str | None = Field(default=None, max_length=60)
    resource_id: int | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Resource(SQLModel, table=True):
    """A service in the resource pool: who provides it, where, for whom, how many."""

    __tablename__ = "advisors_resource"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    sector: str = Field(max_length=12)  # government / social / market
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    needs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    provider: str = Field(max_length=120)
    unit_id: int = Field(index=True)
    covers: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contact: str = Field(default="", max_length=80)
    capacity: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
