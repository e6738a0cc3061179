"""The plugin's tables (``interaction_*``). Kernel objects are referred to by id, never by FK.

Residents are referred to by their resident-database id (``resident_id``); where a resident lives
is never copied here as a fact to trust later, only as a label of what was true when a row was
written (``unit_name`` of a request). Rights are decided from the resident record at each use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Account",
    "Announcement",
    "AnnouncementRead",
    "AssistSession",
    "AttachedFile",
    "Ballot",
    "Digest",
    "Disclosure",
    "DisclosureRevision",
    "ModerationDecision",
    "Notification",
    "PhoneCode",
    "Post",
    "PostComment",
    "Report",
    "RequestReply",
    "ResidentSession",
    "ServiceRequest",
    "Topic",
    "TopicComment",
    "VerificationCode",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- accounts ---------------------------------------------------------------------------------


class Account(SQLModel, table=True):
    """A resident's own login (phone + password), linked to one resident once verified.

    The phone is personal data: it is kept sealed under the platform's data key, like the
    kernel's resident phones, and found by its keyed hash (see :mod:`.phone`).
    """

    __tablename__ = "interaction_account"

    id: int | None = Field(default=None, primary_key=True)
    #: The canonical phone, sealed (``Platform.seal``): only a process holding the key reads it.
    phone_sealed: str = Field(sa_column=Column(Text, nullable=False))
    #: ``Platform.lookup_hash`` of the canonical phone: sign-in finds the account by it.
    phone_hash: str = Field(max_length=64, unique=True, index=True)
    #: What the holder and the audit log are shown: 138****0001.
    phone_masked: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    #: The resident linked by verification (one account each), or by a merge of two records of
    #: one person who had signed up twice: then both of their accounts point at the kept record.
    resident_id: int | None = Field(default=None, index=True)
    #: The committee the resident lived in when last seen: only a hint for fanning out
    #: notifications, never used to decide rights (those read the resident record afresh).
    unit_hint: int | None = Field(default=None, index=True)
    verified_at: datetime | None = None
    verified_via: str = Field(default="", max_length=12)
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    #: When the holder proved they control ``phone`` with an SMS code (None: not proven).
    phone_confirmed_at: datetime | None = None
    #: When the last SMS code went out: the cool-down between sends is checked against it.
    code_sent_at: datetime | None = None


class ResidentSession(SQLModel, table=True):
    """A signed-in resident: a cookie (portal) or a token (mobile app), stored hashed."""

    __tablename__ = "interaction_session"

    token_hash: str = Field(max_length=64, primary_key=True)
    account_id: int = Field(index=True)
    kind: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class VerificationCode(SQLModel, table=True):
    """A one-time code a cadre hands to a resident to link their account (stored hashed)."""

    __tablename__ = "interaction_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    resident_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    issued_by_user_id: int
    issued_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    used_by_account_id: int | None = None
    #: Tries of this code so far (a wrong name counts): it stops working after three.
    tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class PhoneCode(SQLModel, table=True):
    """A 6-digit code sent by SMS to prove an account's phone; only the newest one counts.

    The code itself is kept only as a slow salted hash (scrypt, like passwords): a copy of the
    database does not give away codes still valid. ``attempts`` counts tries, wrong or right;
    rows also count the sends per phone (by its keyed hash) for the hourly and daily limits.
    """

    __tablename__ = "interaction_phone_code"
    __table_args__ = (Index("ix_interaction_phone_code_phone_created", "phone_hash", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    #: The keyed hash of the phone the code went to (the account's, then).
    phone_hash: str = Field(max_length=64)
    purpose: str = Field(max_length=12)
    code_hash: str = Field(max_length=200)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class AssistSession(SQLModel, table=True):
    """A cadre acting for a resident (代办): which cadre, for whom, until when."""

    __tablename__ = "interaction_assist"

    token_hash: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(index=True)
    resident_id: int
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


# -- 社区公告 and 居务公开 ------------------------------------------------------------------------


class Announcement(SQLModel, table=True):
    """An announcement of a committee, a street or a district, shown to everyone below it."""

    __tablename__ = "interaction_announcement"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=12)
    unit_name: str = Field(max_length=80)
    unit_level: str = Field(max_length=12)
    unit_path: str = Field(max_length=400, index=True)
    title: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    pinned: bool = False
    published_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    withdrawn: bool = False
    author_user_id: int
    author: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class AnnouncementRead(SQLModel, table=True):
    """Who has read an announcement, once each: the read count is the number of rows."""

    __tablename__ = "interaction_announcement_read"

    announcement_id: int = Field(primary_key=True)
    reader_key: str = Field(max_length=40, primary_key=True)
    read_at: datetime = Field(default_factory=utcnow)


class Disclosure(SQLModel, table=True):
    """A disclosed item of committee affairs (居务公开); every change keeps a revision."""

    __tablename__ = "interaction_disclosure"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=12)
    unit_name: str = Field(max_length=80)
    category: str = Field(max_length=12)
    title: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DisclosureRevision(SQLModel, table=True):
    """One version of a disclosure, kept for the public history of changes."""

    __tablename__ = "interaction_disclosure_revision"
    __table_args__ = (
        UniqueConstraint("disclosure_id", "version", name="uq_interaction_disclosure_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(index=True)
    version: int
    category: str = Field(max_length=12)
    title: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    note: str = Field(default="", max_length=200)
    changed_by: str = Field(max_length=64)
    changed_at: datetime = Field(default_factory=utcnow)


class AttachedFile(SQLModel, table=True):
    """A file of the platform's attachment store shown on one of the plugin's records.

    ``target_type`` is ``announcement``, ``disclosure`` or ``request``. A disclosure lists its
    files per ``version``: a file kept in a new version gets a row for that version too, so the
    history shows what each version had (other records use version 1). The store's own record
    of the file (its owner, who may read it) is the kernel's; this row only places it.
    """

    __tablename__ = "interaction_attachment"
    __table_args__ = (
        UniqueConstraint(
            "target_type", "target_id", "version", "attachment_id", name="uq_interaction_attachment"
        ),
        Index("ix_interaction_attachment_target", "target_type", "target_id", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=12)
    target_id: int
    version: int = 1
    attachment_id: str = Field(max_length=40)
    kind: str = Field(max_length=12)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


# -- 在线服务 ------------------------------------------------------------------------------------


class ServiceRequest(SQLModel, table=True):
    """A resident's request (证明/报修/求助) in the queue of the committee they lived in."""

    __tablename__ = "interaction_request"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(index=True)
    unit_name: str = Field(max_length=80)
    category: str = Field(max_length=12)
    title: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    resident_id: int = Field(index=True)
    resident_name: str = Field(max_length=50)
    address_label: str = Field(default="", max_length=120)
    assisted_by: str | None = Field(default=None, max_length=64)
    status: str = Field(default="submitted", max_length=16)
    due_on: date
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    #: Passed to the 末端处置 case channel (SDK ``case.escalation_requested``), and the case's
    #: number and state as the channel last reported them (``case.updated``).
    escalated_at: datetime | None = None
    case_number: str | None = Field(default=None, max_length=24)
    case_status: str | None = Field(default=None, max_length=12)
    case_status_label: str | None = Field(default=None, max_length=20)


class RequestReply(SQLModel, table=True):
    """A message on a request, from the committee or the resident, with any status change."""

    __tablename__ = "interaction_request_reply"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(index=True)
    author_kind: str = Field(max_length=8)
    author: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status_to: str | None = Field(default=None, max_length=16)
    assisted_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


# -- 议事厅 -------------------------------------------------------------------------------------


class Topic(SQLModel, table=True):
    """A question put to a committee's residents (or some buildings or households).

    ``scope_values`` lists ``[compound, building]`` pairs for ``scope_kind="buildings"`` and
    household numbers for ``"households"``. ``rule`` is ``resident`` (one resident one vote) or
    ``household`` (one household one vote). ``result`` is written once, when the topic closes.
    """

    __tablename__ = "interaction_topic"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=12)
    unit_name: str = Field(max_length=80)
    title: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    scope_kind: str = Field(max_length=12)
    scope_values: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    rule: str = Field(max_length=12)
    threshold_num: int | None = None
    threshold_den: int | None = None
    secret: bool = False
    #: Residents may answer 弃权: counted in the turnout, for no option.
    allow_abstain: bool = False
    opens_at: datetime
    closes_at: datetime
    status: str = Field(default="open", max_length=12)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=64)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Ballot(SQLModel, table=True):
    """The one ballot of a voter on a topic; changing one's vote rewrites it.

    ``voter_key`` is ``r<resident id>`` or ``h<household id>`` by the topic's rule; the unique
    constraint is what makes two concurrent votes of one voter count once.
    """

    __tablename__ = "interaction_ballot"
    __table_args__ = (UniqueConstraint("topic_id", "voter_key", name="uq_interaction_ballot"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    voter_key: str = Field(max_length=40)
    resident_id: int = Field(index=True)
    option: int
    assisted_by: str | None = Field(default=None, max_length=64)
    cast_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime = Field(default_factory=utcnow)
    changes: int = 0


class TopicComment(SQLModel, table=True):
    """A resident's comment on a topic, with a stance (支持/中立/反对).

    Reported and moderated like neighbours' posts (``status``, ``report_count``), within the
    topic's committee ``unit_id``.
    """

    __tablename__ = "interaction_topic_comment"

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    resident_id: int
    author: str = Field(max_length=60)
    stance: str = Field(max_length=8)
    body: str = Field(sa_column=Column(Text, nullable=False))
    assisted_by: str | None = Field(default=None, max_length=64)
    status: str = Field(default="visible", max_length=12)
    hidden_reason: str | None = Field(default=None, max_length=16)
    report_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)


# -- 邻里互动 -----------------------------------------------------------------------------------


class Post(SQLModel, table=True):
    """A neighbour's post, seen by the verified residents of the same committee."""

    __tablename__ = "interaction_post"
    __table_args__ = (Index("ix_interaction_post_unit_status", "unit_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int
    resident_id: int = Field(index=True)
    author: str = Field(max_length=60)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="visible", max_length=12)
    hidden_reason: str | None = Field(default=None, max_length=16)
    report_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class PostComment(SQLModel, table=True):
    __tablename__ = "interaction_post_comment"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    resident_id: int
    author: str = Field(max_length=60)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="visible", max_length=12)
    hidden_reason: str | None = Field(default=None, max_length=16)
    report_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Report(SQLModel, table=True):
    """One resident reporting a post, a comment or a topic comment, at most once."""

    __tablename__ = "interaction_report"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "reporter_id", name="uq_interaction_report"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=20)
    target_id: int
    unit_id: int = Field(index=True)
    reporter_id: int
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    resolved: bool = False


class ModerationDecision(SQLModel, table=True):
    """A moderator's decision on a reported item (also in the audit log)."""

    __tablename__ = "interaction_moderation"

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=20)
    target_id: int
    unit_id: int = Field(index=True)
    decision: str = Field(max_length=12)
    note: str = Field(default="", max_length=200)
    moderator_user_id: int
    moderator: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


# -- notifications -----------------------------------------------------------------------------


class Notification(SQLModel, table=True):
    """An in-app notification for a resident; ``dedupe_key`` makes fan-out idempotent.

    ``delivery`` is ``immediate`` (an ``interaction.notification`` event is published at once
    for adapters) or ``digest`` (gathered into the resident's next daily digest).
    """

    __tablename__ = "interaction_notification"
    __table_args__ = (
        UniqueConstraint("resident_id", "dedupe_key", name="uq_interaction_notification"),
        Index("ix_interaction_notification_pending", "delivery", "delivered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(index=True)
    kind: str = Field(max_length=30)
    title: str = Field(max_length=160)
    link: str = Field(default="", max_length=200)
    dedupe_key: str = Field(max_length=80)
    delivery: str = Field(default="digest", max_length=12)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    delivered_at: datetime | None = None


class Digest(SQLModel, table=True):
    """A resident's daily digest, at most one per day (the key makes reruns harmless)."""

    __tablename__ = "interaction_digest"

    resident_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    count: int
    created_at: datetime = Field(default_factory=utcnow)
