"""kernel: external apps, OAuth codes and tokens, signing keys, feed, webhook deliveries

Revision ID: k0010_apps
Revises: k0009_throttles
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0010_apps"
down_revision = "k0009_throttles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_app",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("secret_prefix", sa.String(12), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("webhook_previous_secret", sa.Text(), nullable=True),
        sa.Column("webhook_previous_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_state", sa.String(16), nullable=False),
        sa.Column("webhook_paused_reason", sa.String(200), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "kernel_app_unit",
        sa.Column("app_id", sa.Integer(), sa.ForeignKey("kernel_app.id"), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), primary_key=True),
        sa.Column("unit_path", sa.String(400), nullable=False),
    )
    op.create_table(
        "kernel_oauth_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("app_id", sa.Integer(), sa.ForeignKey("kernel_app.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=False),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("kernel_grant.id"), nullable=True),
        sa.Column("redirect_uri", sa.String(500), nullable=False),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("nonce", sa.String(200), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("code_challenge_method", sa.String(10), nullable=False),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "kernel_oauth_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("access_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("refresh_hash", sa.String(64), nullable=True),
        sa.Column("app_id", sa.Integer(), sa.ForeignKey("kernel_app.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=True),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("kernel_grant.id"), nullable=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=True),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_kernel_oauth_token_app_id", "kernel_oauth_token", ["app_id"])
    op.create_index("ix_kernel_oauth_token_refresh", "kernel_oauth_token", ["refresh_hash"])
    op.create_table(
        "kernel_signing_key",
        sa.Column("kid", sa.String(40), primary_key=True),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "kernel_feed_entry",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("unit_path", sa.String(400), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_kernel_feed_entry_path", "kernel_feed_entry", ["unit_path", "seq"])
    op.create_table(
        "kernel_webhook_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("app_id", sa.Integer(), sa.ForeignKey("kernel_app.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("app_id", "event_id", name="uq_kernel_webhook_delivery"),
    )
    op.create_index(
        "ix_kernel_webhook_delivery_due", "kernel_webhook_delivery", ["status", "next_attempt_at"]
    )
    op.create_table(
        "kernel_webhook_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Integer(),
            sa.ForeignKey("kernel_webhook_delivery.id"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_kernel_webhook_attempt_delivery_id", "kernel_webhook_attempt", ["delivery_id"]
    )
    op.create_table(
        "kernel_stream_cursor",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "kernel_stream_cursor",
        "kernel_webhook_attempt",
        "kernel_webhook_delivery",
        "kernel_feed_entry",
        "kernel_signing_key",
        "kernel_oauth_token",
        "kernel_oauth_code",
        "kernel_app_unit",
        "kernel_app",
    ):
        op.drop_table(table)
