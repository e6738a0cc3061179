"""Notices: written for the people who fill a unit's tasks, counted and read by each of them.

Every notice also leaves as the event ``notice.created`` (its user's phone included, when the
account has one), so an SMS or messaging adapter delivers the same message outside the portal;
``examples/sms_console`` writes it to the log. Writing is idempotent by ``key``: an event
delivered twice, or the deadline job running every hour, adds nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from ..identity.models import Grant, User
from .models import Notice, utcnow

__all__ = ["FILL", "KINDS", "NOTICE_EVENT", "NoticeService", "Recipient"]

FILL = "collection.fill"
NOTICE_EVENT = "notice.created"
KINDS = {
    "task": "新任务",
    "reminder": "催报提醒",
    "returned": "退回",
    "deadline": "即将截止",
}
"""The kinds of notice, with the word the portal shows for each."""


@dataclass(frozen=True)
class Recipient:
    user_id: int
    unit_id: int
    phone: str | None


class NoticeService:
    """Writes notices to the fillers of units, and reads a user's own."""

    def __init__(self, events: Any, permissions: Any) -> None:
        self.events = events
        self.permissions = permissions

    def _filler_roles(self) -> list[str]:
        return [r for r in self.permissions.roles if FILL in self.permissions.permissions_of(r)]

    def fillers(self, session: Session, unit_ids: Iterable[int]) -> list[Recipient]:
        """The active users holding a role that fills tasks, granted on one of ``unit_ids``."""
        ids = sorted(set(unit_ids))
        roles = self._filler_roles()
        if not ids or not roles:
            return []
        found: dict[tuple[int, int], Recipient] = {}
        for start in range(0, len(ids), 1000):
            rows = session.exec(
                select(Grant.user_id, Grant.unit_id, User.phone)
                .join(User, col(User.id) == Grant.user_id)
                .where(col(Grant.unit_id).in_(ids[start : start + 1000]))
                .where(col(Grant.role).in_(roles), col(Grant.revoked_at).is_(None))
                .where(User.is_active == True)  # noqa: E712
            )
            for user_id, unit_id, phone in rows:
                found[(user_id, unit_id)] = Recipient(user_id, unit_id, phone)
        return list(found.values())

    def send(
        self,
        session: Session,
        recipients: Sequence[Recipient],
        *,
        kind: str,
        title: str,
        body: str,
        link: str,
        key: str,
    ) -> int:
        """A notice to each recipient not holding one with ``key`` yet; returns how many."""
        if not recipients:
            return 0
        users = sorted({r.user_id for r in recipients})
        have = set(
            session.exec(
                select(Notice.user_id).where(col(Notice.user_id).in_(users), Notice.key == key)
            )
        )
        written = 0
        for recipient in recipients:
            if recipient.user_id in have:
                continue
            have.add(recipient.user_id)
            notice = Notice(
                user_id=recipient.user_id,
                kind=kind,
                title=title[:200],
                body=body[:1000],
                link=link,
                key=key,
            )
            session.add(notice)
            session.flush()
            written += 1
            self.events.publish(
                session,
                NOTICE_EVENT,
                {
                    "notice_id": notice.id,
                    "user_id": recipient.user_id,
                    "phone": recipient.phone,
                    "kind": kind,
                    "title": notice.title,
                    "text": f"【社区云】{notice.title}。{notice.body}".rstrip("。") + "。",
                    "link": link,
                },
            )
        return written

    # -- a user's own ------------------------------------------------------------------------

    def unread(self, session: Session, user_id: int | None) -> int:
        if user_id is None:
            return 0
        count = session.exec(
            select(func.count())
            .select_from(Notice)
            .where(Notice.user_id == user_id, col(Notice.read_at).is_(None))
        ).one()
        return int(count)

    def recent(self, session: Session, user_id: int | None, limit: int = 100) -> list[Notice]:
        if user_id is None:
            return []
        return list(
            session.exec(
                select(Notice)
                .where(Notice.user_id == user_id)
                .order_by(col(Notice.id).desc())
                .limit(limit)
            )
        )

    def mark_read(self, session: Session, user_id: int | None, notice_id: int | None) -> str:
        """Mark one notice (or, with ``None``, all) of the user read; return its link."""
        if user_id is None:
            return ""
        query = update(Notice).where(col(Notice.user_id) == user_id, col(Notice.read_at).is_(None))
        link = ""
        if notice_id is not None:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.user_id != user_id:
                return ""
            link = notice.link
            query = query.where(col(Notice.id) == notice_id)
        session.execute(query.values(read_at=utcnow()))
        return link
