"""identity: org units, users, grants, tokens, sessions and the append-only audit log

Revision ID: k0002_identity
Revises: k0001_events
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0002_identity"
down_revision = "k0001_events"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kernel_org_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=True),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("successor_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_kernel_org_unit_parent", "kernel_org_unit", ["parent_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Subtree queries are prefix matches on path; this operator class lets LIKE 'x%' use it.
        op.execute(
            "CREATE INDEX ix_kernel_org_unit_path ON kernel_org_unit (path varchar_pattern_ops)"
        )
    else:
        op.create_index("ix_kernel_org_unit_path", "kernel_org_unit", ["path"])
    op.create_table(
        "kernel_org_unit_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_kernel_org_unit_change_unit_id", "kernel_org_unit_change", ["unit_id"])
    op.create_table(
        "kernel_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column(
            "home_unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False
        ),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("next_login_at", TZ, nullable=True),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("last_login_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_kernel_user_home_unit_id", "kernel_user", ["home_unit_id"])
    op.create_table(
        "kernel_grant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=False),
        sa.Column("role", sa.String(80), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("kernel_org_unit.id"), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_index("ix_kernel_grant_user", "kernel_grant", ["user_id"])
    op.create_table(
        "kernel_api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("kernel_grant.id"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("last_used_at", TZ, nullable=True),
    )
    op.create_table(
        "kernel_web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kernel_user.id"), nullable=False),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("kernel_grant.id"), nullable=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_kernel_web_session_user_id", "kernel_web_session", ["user_id"])
    op.create_table(
        "kernel_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(64), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(80), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("target_type", sa.String(40), nullable=True),
        sa.Column("target_id", sa.String(80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_kernel_audit_at", "kernel_audit", ["at"])
    op.create_index("ix_kernel_audit_action", "kernel_audit", ["action"])
    op.create_index("ix_kernel_audit_actor", "kernel_audit", ["actor_user_id"])
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    """The database itself refuses to change or delete audit entries."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION kernel_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'kernel_audit is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER kernel_audit_no_change BEFORE UPDATE OR DELETE ON kernel_audit "
            "FOR EACH ROW EXECUTE FUNCTION kernel_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER kernel_audit_no_{event.lower()} BEFORE {event} ON kernel_audit "
                "BEGIN SELECT RAISE(ABORT, 'kernel_audit is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS kernel_audit_no_change ON kernel_audit")
        op.execute("DROP FUNCTION IF EXISTS kernel_audit_append_only()")
    for table in (
        "kernel_audit",
        "kernel_web_session",
        "kernel_api_token",
        "kernel_grant",
        "kernel_user",
        "kernel_org_unit_change",
        "kernel_org_unit",
    ):
        op.drop_table(table)
