"""interaction: accounts, announcements, disclosures, requests, topics, posts, notifications

Revision ID: interaction_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "interaction_0001"
down_revision = None
branch_labels = ("interaction",)
depends_on = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "interaction_account",
        _id(),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("unit_hint", sa.Integer(), nullable=True),
        sa.Column("verified_at", TS, nullable=True),
        sa.Column("verified_via", sa.String(12), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("verify_failures", sa.Integer(), nullable=False),
        sa.Column("verify_window_start", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
    )
    op.create_index("ix_interaction_account_phone", "interaction_account", ["phone"], unique=True)
    op.create_index(
        "ix_interaction_account_resident_id", "interaction_account", ["resident_id"], unique=True
    )
    op.create_index("ix_interaction_account_unit_hint", "interaction_account", ["unit_hint"])

    op.create_table(
        "interaction_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_session_account_id", "interaction_session", ["account_id"])

    op.create_table(
        "interaction_code",
        _id(),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_user_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_interaction_code_code_hash", "interaction_code", ["code_hash"], unique=True)
    op.create_index("ix_interaction_code_resident_id", "interaction_code", ["resident_id"])
    op.create_index("ix_interaction_code_unit_id", "interaction_code", ["unit_id"])

    op.create_table(
        "interaction_assist",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_assist_user_id", "interaction_assist", ["user_id"])

    op.create_table(
        "interaction_announcement",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("unit_level", sa.String(12), nullable=False),
        sa.Column("unit_path", sa.String(400), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_announcement_unit_id", "interaction_announcement", ["unit_id"])
    op.create_index(
        "ix_interaction_announcement_unit_path", "interaction_announcement", ["unit_path"]
    )

    op.create_table(
        "interaction_announcement_read",
        sa.Column("announcement_id", sa.Integer(), primary_key=True),
        sa.Column("reader_key", sa.String(40), primary_key=True),
        sa.Column("read_at", TS, nullable=False),
    )

    op.create_table(
        "interaction_disclosure",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("category", sa.String(12), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_disclosure_unit_id", "interaction_disclosure", ["unit_id"])

    op.create_table(
        "interaction_disclosure_revision",
        _id(),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(12), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.UniqueConstraint("disclosure_id", "version", name="uq_interaction_disclosure_version"),
    )
    op.create_index(
        "ix_interaction_disclosure_revision_disclosure_id",
        "interaction_disclosure_revision",
        ["disclosure_id"],
    )

    op.create_table(
        "interaction_request",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("category", sa.String(12), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("resident_name", sa.String(50), nullable=False),
        sa.Column("address_label", sa.String(120), nullable=False),
        sa.Column("assisted_by", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
    )
    op.create_index("ix_interaction_request_unit_id", "interaction_request", ["unit_id"])
    op.create_index("ix_interaction_request_resident_id", "interaction_request", ["resident_id"])

    op.create_table(
        "interaction_request_reply",
        _id(),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_kind", sa.String(8), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status_to", sa.String(16), nullable=True),
        sa.Column("assisted_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index(
        "ix_interaction_request_reply_request_id", "interaction_request_reply", ["request_id"]
    )

    op.create_table(
        "interaction_topic",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("scope_kind", sa.String(12), nullable=False),
        sa.Column("scope_values", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(12), nullable=False),
        sa.Column("threshold_num", sa.Integer(), nullable=True),
        sa.Column("threshold_den", sa.Integer(), nullable=True),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("opens_at", TS, nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
    )
    op.create_index("ix_interaction_topic_unit_id", "interaction_topic", ["unit_id"])

    op.create_table(
        "interaction_ballot",
        _id(),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(40), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("assisted_by", sa.String(64), nullable=True),
        sa.Column("cast_at", TS, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.UniqueConstraint("topic_id", "voter_key", name="uq_interaction_ballot"),
    )
    op.create_index("ix_interaction_ballot_topic_id", "interaction_ballot", ["topic_id"])
    op.create_index("ix_interaction_ballot_resident_id", "interaction_ballot", ["resident_id"])

    op.create_table(
        "interaction_topic_comment",
        _id(),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("stance", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("assisted_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index(
        "ix_interaction_topic_comment_topic_id", "interaction_topic_comment", ["topic_id"]
    )

    op.create_table(
        "interaction_post",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("hidden_reason", sa.String(16), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_post_unit_status", "interaction_post", ["unit_id", "status"])
    op.create_index("ix_interaction_post_resident_id", "interaction_post", ["resident_id"])

    op.create_table(
        "interaction_post_comment",
        _id(),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("hidden_reason", sa.String(16), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_post_comment_post_id", "interaction_post_comment", ["post_id"])
    op.create_index("ix_interaction_post_comment_unit_id", "interaction_post_comment", ["unit_id"])

    op.create_table(
        "interaction_report",
        _id(),
        sa.Column("target_type", sa.String(12), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.UniqueConstraint(
            "target_type", "target_id", "reporter_id", name="uq_interaction_report"
        ),
    )
    op.create_index("ix_interaction_report_unit_id", "interaction_report", ["unit_id"])

    op.create_table(
        "interaction_moderation",
        _id(),
        sa.Column("target_type", sa.String(12), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("moderator_user_id", sa.Integer(), nullable=False),
        sa.Column("moderator", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_interaction_moderation_unit_id", "interaction_moderation", ["unit_id"])

    op.create_table(
        "interaction_notification",
        _id(),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(160), nullable=False),
        sa.Column("link", sa.String(200), nullable=False),
        sa.Column("dedupe_key", sa.String(80), nullable=False),
        sa.Column("delivery", sa.String(12), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.UniqueConstraint("resident_id", "dedupe_key", name="uq_interaction_notification"),
    )
    op.create_index(
        "ix_interaction_notification_resident_id", "interaction_notification", ["resident_id"]
    )
    op.create_index(
        "ix_interaction_notification_pending",
        "interaction_notification",
        ["delivery", "delivered_at"],
    )

    op.create_table(
        "interaction_digest",
        sa.Column("resident_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "interaction_digest",
        "interaction_notification",
        "interaction_moderation",
        "interaction_report",
        "interaction_post_comment",
        "interaction_post",
        "interaction_topic_comment",
        "interaction_ballot",
        "interaction_topic",
        "interaction_request_reply",
        "interaction_request",
        "interaction_disclosure_revision",
        "interaction_disclosure",
        "interaction_announcement_read",
        "interaction_announcement",
        "interaction_assist",
        "interaction_code",
        "interaction_session",
        "interaction_account",
    ):
        op.drop_table(table)
