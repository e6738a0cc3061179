"""Tables of the open platform: registered apps, OAuth2/OIDC credentials, webhooks and the feed.

Secrets that the platform only has to *check* (client secrets, access and refresh tokens,
authorization codes) are stored as SHA-256 hashes. Secrets the platform has to *use* (the
webhook signing secret, the OIDC signing keys) are stored encrypted with the data key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AppUnit",
    "ExternalApp",
    "FeedEntry",
    "OAuthCode",
    "OAuthToken",
    "SigningKey",
    "StreamCursor",
    "WebhookAttempt",
    "WebhookDelivery",
    "aware",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` with its time zone: SQLite gives naive datetimes back, in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ExternalApp(SQLModel, table=True):
    """An external system registered from its manifest."""

    __tablename__ = "kernel_app"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)
    manifest: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=64)
    secret_prefix: str = Field(max_length=12)
    #: The service account the app acts as (audit, created_by columns); it cannot log in.
    user_id: int = Field(foreign_key="kernel_user.id")
    #: Webhook signing secrets (``whsec_…``), encrypted; the previous one signs too while rotating.
    webhook_secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    webhook_previous_secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    webhook_previous_until: datetime | None = None
    #: ``active``, ``paused`` (webhooks stopped after persistent failure) or ``disabled``.
    webhook_state: str = Field(default="active", max_length=16)
    webhook_paused_reason: str | None = Field(default=None, max_length=200)
    disabled_at: datetime | None = None
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class AppUnit(SQLModel, table=True):
    """A unit where an app is enabled (and so its whole subtree)."""

    __tablename__ = "kernel_app_unit"

    app_id: int = Field(foreign_key="kernel_app.id", primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", primary_key=True)
    unit_path: str = Field(max_length=400)


class OAuthCode(SQLModel, table=True):
    """An authorization code waiting to be exchanged (single use, a few minutes)."""

    __tablename__ = "kernel_oauth_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    app_id: int = Field(foreign_key="kernel_app.id")
    user_id: int = Field(foreign_key="kernel_user.id")
    grant_id: int | None = Field(default=None, foreign_key="kernel_grant.id")
    redirect_uri: str = Field(max_length=500)
    scope: str = Field(max_length=500)
    nonce: str | None = Field(default=None, max_length=200)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=10)
    auth_time: int = 0
    expires_at: datetime


class OAuthToken(SQLModel, table=True):
    """An access token (and, for people, its refresh token) issued to an app."""

    __tablename__ = "kernel_oauth_token"
    __table_args__ = (Index("ix_kernel_oauth_token_refresh", "refresh_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    access_hash: str = Field(max_length=64, unique=True)
    refresh_hash: str | None = Field(default=None, max_length=64)
    app_id: int = Field(foreign_key="kernel_app.id", index=True)
    #: A person's token (authorization code) acts under their grant; an app's own token
    #: (client credentials) acts on ``unit_id`` as the app.
    user_id: int | None = Field(default=None, foreign_key="kernel_user.id")
    grant_id: int | None = Field(default=None, foreign_key="kernel_grant.id")
    unit_id: int | None = Field(default=None, foreign_key="kernel_org_unit.id")
    scope: str = Field(max_length=500)
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    refresh_expires_at: datetime | None = None
    revoked_at: datetime | None = None


class SigningKey(SQLModel, table=True):
    """An RSA key that signs ID tokens. The newest active one signs; retired keys stay
    published in the JWKS until every token they signed has expired."""

    __tablename__ = "kernel_signing_key"

    kid: str = Field(max_length=40, primary_key=True)
    private_pem: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class FeedEntry(SQLModel, table=True):
    """An outbox event in commit order, with the unit it is about (None: no unit, city only).

    ``seq`` is handed out under a lock, one writer at a time, so a reader that has seen ``seq``
    N has seen every entry below N: a cursor over ``seq`` misses nothing.
    """

    __tablename__ = "kernel_feed_entry"
    __table_args__ = (Index("ix_kernel_feed_entry_path", "unit_path", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(unique=True)
    type: str = Field(max_length=120)
    unit_path: str | None = Field(default=None, max_length=400)
    occurred_at: datetime


class WebhookDelivery(SQLModel, table=True):
    """One event to send to one app's webhook URL."""

    __tablename__ = "kernel_webhook_delivery"
    __table_args__ = (
        UniqueConstraint("app_id", "event_id", name="uq_kernel_webhook_delivery"),
        Index("ix_kernel_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    app_id: int = Field(foreign_key="kernel_app.id")
    event_id: int
    seq: int
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one line per attempt."""

    __tablename__ = "kernel_webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="kernel_webhook_delivery.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0


class StreamCursor(SQLModel, table=True):
    """How far a consumer inside the platform (the broker bridge) has read the feed."""

    __tablename__ = "kernel_stream_cursor"

    name: str = Field(max_length=80, primary_key=True)
    seq: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
