"""governance: categories, field logs, cases and their history, knowledge base with its index

Revision ID: governance_0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "governance_0001"
down_revision = None
branch_labels = ("governance",)
depends_on = None

TS = sa.DateTime(timezone=True)

LOG_CATEGORIES = [
    ("help", "困难帮扶"),
    ("dispute", "矛盾纠纷"),
    ("safety", "安全隐患"),
    ("environment", "环境卫生"),
    ("facility", "设施维修"),
    ("policy", "政策咨询"),
    ("opinion", "意见建议"),
    ("other", "其他"),
]
CASE_CATEGORIES = [
    ("environment", "环境卫生", 5),
    ("facility", "设施维修", 7),
    ("safety", "安全隐患", 2),
    ("dispute", "矛盾纠纷", 5),
    ("aid", "民生救助", 5),
    ("elevator", "加装电梯", 15),
    ("building", "违法搭建", 10),
    ("parking", "停车管理", 5),
    ("other", "其他", 5),
]


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    category = op.create_table(
        "governance_category",
        _id(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("kind", "code", name="uq_governance_category"),
    )
    op.bulk_insert(
        category,
        [
            {"kind": "log", "code": c, "name": n, "due_days": 5, "position": i, "active": True}
            for i, (c, n) in enumerate(LOG_CATEGORIES)
        ]
        + [
            {"kind": "case", "code": c, "name": n, "due_days": d, "position": i, "active": True}
            for i, (c, n, d) in enumerate(CASE_CATEGORIES)
        ],
    )

    op.create_table(
        "governance_log",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("category_name", sa.String(40), nullable=False),
        sa.Column("subject_key", sa.String(160), nullable=True),
        sa.Column("subject_label", sa.String(200), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("building", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_governance_log_unit_day", "governance_log", ["unit_id", "occurred_on"])
    op.create_index(
        "ix_governance_log_household", "governance_log", ["household_id", "occurred_on"]
    )

    op.create_table(
        "governance_case",
        _id(),
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("category_name", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(80), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("origin_unit_id", sa.Integer(), nullable=False),
        sa.Column("dispatcher_unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("subject_key", sa.String(160), nullable=True),
        sa.Column("subject_label", sa.String(200), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(100), nullable=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("accept_due", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("reported_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("supervised", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("extension_reason", sa.String(200), nullable=False),
        sa.Column("satisfaction", sa.String(12), nullable=True),
        sa.Column("log_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("source", "source_ref", name="uq_governance_case_source"),
    )
    op.create_index("ix_governance_case_number", "governance_case", ["number"], unique=True)
    op.create_index(
        "ix_governance_case_unit_status_due", "governance_case", ["unit_id", "status", "due_on"]
    )
    op.create_index("ix_governance_case_created", "governance_case", ["created_on"])
    op.create_index("ix_governance_case_due", "governance_case", ["due_on"])
    op.create_index("ix_governance_case_subject", "governance_case", ["subject_key"])
    op.create_index("ix_governance_case_place", "governance_case", ["place"])

    op.create_table(
        "governance_case_party",
        sa.Column("case_id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), primary_key=True),
    )
    op.create_index("ix_governance_case_party_unit_id", "governance_case_party", ["unit_id"])

    op.create_table(
        "governance_case_step",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(12), nullable=True),
        sa.Column("to_status", sa.String(12), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(80), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("target_unit_id", sa.Integer(), nullable=True),
        sa.Column("target_unit_name", sa.String(80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_governance_case_step_case", "governance_case_step", ["case_id", "id"])

    op.create_table(
        "governance_article",
        _id(),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(80), nullable=False),
        sa.Column("unit_level", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_governance_article_unit", "governance_article", ["unit_id", "updated_at"])

    op.create_table(
        "governance_article_version",
        _id(),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("article_id", "version", name="uq_governance_article_version"),
    )

    # The full-text index of the knowledge base: words segmented by jieba in Python, matched by
    # the database's own engine. Not a model (model_drift ignores it): see search.py.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE governance_article_search ("
            " article_id INTEGER PRIMARY KEY,"
            " unit_id INTEGER NOT NULL,"
            " document TSVECTOR NOT NULL)"
        )
        op.execute(
            "CREATE INDEX ix_governance_article_search_document"
            " ON governance_article_search USING GIN (document)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE governance_article_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 0')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE governance_article_search")
    else:
        op.execute("DROP TABLE governance_article_fts")
    for table in (
        "governance_article_version",
        "governance_article",
        "governance_case_step",
        "governance_case_party",
        "governance_case",
        "governance_log",
        "governance_category",
    ):
        op.drop_table(table)
