"""Identity tables: org units, users, grants, API tokens, web sessions and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

__all__ = [
    "LEVELS",
    "ApiToken",
    "AuditEntry",
    "Grant",
    "OrgUnit",
    "OrgUnitChange",
    "User",
    "WebSession",
]

#: The levels of the hierarchy, top down. Buildings and compounds come later, below committees.
LEVELS = ("city", "district", "street", "committee")
LEVEL_NAMES = {"city": "市", "district": "区", "street": "街镇", "committee": "居村委"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class OrgUnit(SQLModel, table=True):
    """One unit of the hierarchy.

    ``path`` is the materialized path of ids from the root (``/1/17/230/``), so a subtree is one
    indexed prefix match on every database. A unit keeps its id through renames and moves:
    records made under it keep pointing at it. Splits and merges close units (``closed_on``)
    and name their ``successor_id``; closed units stay for history.
    """

    __tablename__ = "kernel_org_unit"
    __table_args__ = (
        Index("ix_kernel_org_unit_parent", "parent_id"),
        # Subtrees are path prefixes: LIKE 'prefix%' is a range of this index on PostgreSQL
        # whatever the collation (migration k0023).
        Index(
            "ix_kernel_org_unit_path_pattern",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=80)
    level: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="kernel_org_unit.id")
    path: str = Field(max_length=400, index=True)
    opened_on: date | None = None
    closed_on: date | None = None
    successor_id: int | None = Field(default=None, foreign_key="kernel_org_unit.id")
    version: int = 1

    def is_open_on(self, day: date) -> bool:
        return (self.opened_on is None or self.opened_on <= day) and (
            self.closed_on is None or self.closed_on > day
        )


class OrgUnitChange(SQLModel, table=True):
    """The history of a unit: created, renamed, moved, closed, split, merged."""

    __tablename__ = "kernel_org_unit_change"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    action: str = Field(max_length=20)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    effective_on: date | None = None
    actor_user_id: int | None = None
    at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A staff account. Residents' accounts belong to the interaction plugin."""

    __tablename__ = "kernel_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=80)
    phone: str | None = Field(default=None, max_length=20)
    home_unit_id: int = Field(foreign_key="kernel_org_unit.id", index=True)
    password_hash: str | None = Field(default=None, max_length=200)
    must_change_password: bool = True
    #: The administrator who set this account's current password (a new user, a reset) while
    #: holding no personal-data permission (``residents.reveal`` / ``export``). Until someone
    #: else who holds them over the account's units confirms the holder, the account's grants
    #: carry neither (:mod:`.holder_confirmation`): the administrator cannot sign in with the
    #: password they set, choose "the holder's" password and read what the holder may.
    personal_data_hold: int | None = None
    is_active: bool = True
    failed_logins: int = 0
    next_login_at: datetime | None = None
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class Grant(SQLModel, table=True):
    """A role held by a user on an org unit; it covers the unit's whole subtree."""

    __tablename__ = "kernel_grant"
    __table_args__ = (Index("ix_kernel_grant_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="kernel_user.id")
    role: str = Field(max_length=80)
    unit_id: int = Field(foreign_key="kernel_org_unit.id")
    granted_by: int | None = None
    granted_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """A bearer token acting under one grant. Only a hash of the secret is stored."""

    __tablename__ = "kernel_api_token"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="kernel_grant.id")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A portal login. The cookie holds a random id; the table holds its hash."""

    __tablename__ = "kernel_web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="kernel_user.id", index=True)
    grant_id: int | None = Field(default=None, foreign_key="kernel_grant.id")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    client_ip: str | None = Field(default=None, max_length=64)


class AuditEntry(SQLModel, table=True):
    """One line of the append-only audit log (the database refuses updates and deletes)."""

    __tablename__ = "kernel_audit"
    __table_args__ = (
        Index("ix_kernel_audit_at", "at"),
        Index("ix_kernel_audit_action", "action"),
        Index("ix_kernel_audit_actor", "actor_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    action: str = Field(max_length=80)
    outcome: str = Field(default="ok", max_length=16)
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64)
    grant_id: int | None = None
    role: str | None = Field(default=None, max_length=80)
    unit_id: int | None = None
    target_type: str | None = Field(default=None, max_length=40)
    target_id: str | None = Field(default=None, max_length=80)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    client_ip: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
