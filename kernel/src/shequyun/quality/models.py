"""Quality tables: rule versions, findings (derived state), waivers, confirmations, daily scores.

A finding is derived: it says that one rule holds for one resident (for household rules, the
household's oldest member stands for the household) now. The engine deletes and rewrites the
findings of a rule for the residents it looks at, so the table never needs a rebuild and never
keeps a stale row. What people decide about findings lives elsewhere: a :class:`Waiver` (the
value is right: a 112-year-old who really lives here) and a :class:`Confirmation` (the record
was checked on this day) survive every rewrite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Confirmation",
    "DuplicatePair",
    "Finding",
    "Merge",
    "NameKey",
    "Round",
    "RuleState",
    "RuleVersion",
    "ScoreDay",
    "Waiver",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class RuleVersion(SQLModel, table=True):
    """One version of a rule added (or a shipped rule changed) in the portal; never edited."""

    __tablename__ = "kernel_quality_rule"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_kernel_quality_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60)
    version: int
    unit_id: int = Field(foreign_key="kernel_org_unit.id")
    kind: str = Field(max_length=20)
    check: str = Field(max_length=40)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    level: str = Field(max_length=8)
    title: str = Field(max_length=80)
    fix: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = Field(default=None, max_length=64)


class RuleState(SQLModel, table=True):
    """Which version of a rule the findings were last written for, and when."""

    __tablename__ = "kernel_quality_rule_state"

    code: str = Field(max_length=60, primary_key=True)
    version: int
    evaluated_at: datetime = Field(default_factory=utcnow)
    findings: int = 0


class Finding(SQLModel, table=True):
    """One rule that holds for one resident (or the household that resident stands for)."""

    __tablename__ = "kernel_quality_finding"
    __table_args__ = (
        Index("ix_kernel_quality_finding_unit", "unit_id", "level"),
        Index("ix_kernel_quality_finding_resident", "resident_id"),
        Index("ix_kernel_quality_finding_group", "rule_code", "group_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_code: str = Field(max_length=60)
    rule_version: int
    level: str = Field(max_length=8)
    resident_id: int
    household_id: int | None = None
    unit_id: int
    group_key: int | None = None
    found_at: datetime = Field(default_factory=utcnow)


class Waiver(SQLModel, table=True):
    """A finding a cadre checked and found right (the value is true): the rule skips it."""

    __tablename__ = "kernel_quality_waiver"

    rule_code: str = Field(max_length=60, primary_key=True)
    resident_id: int = Field(foreign_key="kernel_resident.id", primary_key=True)
    note: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64)


class Confirmation(SQLModel, table=True):
    """The last time a resident's record was checked with the resident (核实)."""

    __tablename__ = "kernel_quality_confirmation"

    resident_id: int = Field(foreign_key="kernel_resident.id", primary_key=True)
    confirmed_at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64)


class ScoreDay(SQLModel, table=True):
    """A committee's counts on one day (Beijing time), kept for the trends."""

    __tablename__ = "kernel_quality_score"

    day: date = Field(primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", primary_key=True)
    residents: int = 0
    incomplete: int = 0
    stale: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    errors: int = 0
    warnings: int = 0


class DuplicatePair(SQLModel, table=True):
    """Two active records that may be the same person, waiting for someone to decide.

    ``reason``: ``name_birth`` (same name, gender and birth date in one committee),
    ``missed_transfer`` (the same in two committees: a move not recorded as a transfer) or
    ``name_phone`` (same name and phone). ``status``: ``open``, ``merged``, ``different``.
    """

    __tablename__ = "kernel_quality_duplicate"
    __table_args__ = (
        UniqueConstraint("resident_a", "resident_b", name="uq_kernel_quality_duplicate"),
        Index("ix_kernel_quality_duplicate_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_a: int = Field(foreign_key="kernel_resident.id")
    resident_b: int = Field(foreign_key="kernel_resident.id")
    reason: str = Field(max_length=20)
    status: str = Field(default="open", max_length=12)
    found_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=64)


class NameKey(SQLModel, table=True):
    """A record whose name is not its own folded key (:func:`.names.name_key`): ``陳麗華``.

    Such names are rare; keeping their keys lets the duplicate search after a change find a
    record written another way by an index lookup (the key is ``陈丽华``) instead of folding
    every name of the city. Derived state: rewritten for the residents of each change and, as a
    whole, by the daily search.
    """

    __tablename__ = "kernel_quality_name_key"

    resident_id: int = Field(foreign_key="kernel_resident.id", primary_key=True)
    name_key: str = Field(max_length=100, index=True)


class Merge(SQLModel, table=True):
    """One merge of a record into another, with what it moved, so that it can be undone."""

    __tablename__ = "kernel_quality_merge"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int | None = Field(default=None, foreign_key="kernel_quality_duplicate.id")
    kept_id: int = Field(foreign_key="kernel_resident.id")
    merged_id: int = Field(foreign_key="kernel_resident.id")
    moved: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)
    actor_username: str | None = Field(default=None, max_length=64)
    undone_at: datetime | None = None
    undone_by: str | None = Field(default=None, max_length=64)


class Round(SQLModel, table=True):
    """A verification round (核对): chosen rules sent as a roster campaign to the committees."""

    __tablename__ = "kernel_quality_round"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id")
    rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    campaign_id: int = Field(foreign_key="kernel_campaign.id")
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow)
    started_by: str | None = Field(default=None, max_length=64)
