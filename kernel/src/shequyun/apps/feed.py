"""The change feed: every outbox event in commit order, with the unit it is about.

A kernel event subscriber (``apps:sequencer``, for every event type) receives each event from
the durable outbox and, in one transaction, gives it the next feed number (``seq``), records
its unit, and fans it out to the webhook deliveries of the apps that want it and may see it.
Numbers are handed out one writer at a time (an advisory lock on PostgreSQL; SQLite has one
writer anyway), so feed entries become visible in ``seq`` order: a reader who has seen ``seq``
N will never later find an entry below N. The outbox delivers at least once; the unique
``event_id`` makes a second delivery a no-op.

Readers (``GET /api/v1/feed``, the broker bridge) page by ``seq`` within a unit scope; an app
enabled for 徐汇区 reads only entries whose unit lies in 徐汇区.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shequyun_sdk.identity import Actor
from shequyun_sdk.types import Event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from ..event_sealing import public
from ..events import OutboxEvent
from ..identity.models import OrgUnit
from .models import AppUnit, ExternalApp, FeedEntry, WebhookDelivery, aware

__all__ = ["FEED_PERMISSION", "Feed", "FeedPage", "event_unit_code"]

FEED_PERMISSION = "apps.feed"
#: Any constant will do: the advisory lock that serialises feed numbering on PostgreSQL.
_SEQUENCER_LOCK = 0x5E0F_EED
MAX_PAGE = 1000


def event_unit_code(payload: Mapping[str, Any]) -> str | None:
    """The code of the unit an event is about, read from its payload.

    ``unit_code`` names it; a move (``from_unit_code`` → ``to_unit_code``) belongs to its
    destination. An event naming no unit is city-wide: only readers at the city see it.
    """
    for key in ("unit_code", "to_unit_code", "committee_code"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: int


class Feed:
    """Numbers events into the feed, fans them out to webhooks, and reads pages back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._paths: dict[str, str] = {}

    # -- writing ---------------------------------------------------------------------------

    def sequence(self, event: Event) -> None:
        """Give ``event`` its feed number and its webhook deliveries (idempotent)."""
        with Session(self.engine) as session:
            if self.engine.dialect.name == "postgresql":
                session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_SEQUENCER_LOCK))  # type: ignore[call-overload]
            if session.exec(select(FeedEntry.seq).where(FeedEntry.event_id == event.id)).first():
                return
            unit_path = self._path_of(session, event_unit_code(event.payload))
            entry = FeedEntry(
                event_id=event.id,
                type=event.type,
                unit_path=unit_path,
                occurred_at=event.occurred_at,
            )
            session.add(entry)
            session.flush()
            assert entry.seq is not None
            for app_id in self._subscribed_apps(session, event.type, unit_path):
                session.add(WebhookDelivery(app_id=app_id, event_id=event.id, seq=entry.seq))
            session.commit()

    def _path_of(self, session: Session, code: str | None) -> str | None:
        if code is None:
            return None
        if code not in self._paths:
            path = session.exec(select(OrgUnit.path).where(OrgUnit.code == code)).first()
            if path is None:
                return None
            self._paths[code] = path
        return self._paths[code]

    def _subscribed_apps(
        self, session: Session, event_type: str, unit_path: str | None
    ) -> list[int]:
        rows = session.exec(
            select(ExternalApp, AppUnit.unit_path)
            .join(AppUnit, col(AppUnit.app_id) == col(ExternalApp.id))
            .where(col(ExternalApp.disabled_at).is_(None))
        )
        wanted: set[int] = set()
        for app, enabled_path in rows:
            webhook = app.manifest.get("webhook")
            if not webhook or app.id is None:
                continue
            if not any(_matches(pattern, event_type) for pattern in webhook.get("events", [])):
                continue
            if unit_path is None:
                if enabled_path.count("/") <= 2:  # enabled for the whole city
                    wanted.add(app.id)
            elif unit_path.startswith(enabled_path):
                wanted.add(app.id)
        return sorted(wanted)

    # -- reading ---------------------------------------------------------------------------

    def page(
        self, session: Session, paths: Sequence[str], *, after: int = 0, limit: int = 100
    ) -> FeedPage:
        """Entries after ``after`` whose unit lies under one of ``paths`` (city-wide entries
        only for a reader at the city), oldest first, with their events' payloads."""
        limit = max(1, min(limit, MAX_PAGE))
        if not paths:
            return FeedPage([], after)
        query = (
            select(FeedEntry, OutboxEvent.payload)
            .join(OutboxEvent, col(OutboxEvent.id) == col(FeedEntry.event_id))
            .where(col(FeedEntry.seq) > after)
            .order_by(col(FeedEntry.seq))
            .limit(limit)
        )
        if not any(p.count("/") <= 2 for p in paths):  # the city reads everything
            query = query.where(or_(*(col(FeedEntry.unit_path).startswith(p) for p in paths)))
        items = [
            {
                "seq": entry.seq,
                "event_id": entry.event_id,
                "type": entry.type,
                "occurred_at": aware(entry.occurred_at).isoformat(),
                "payload": public(payload),  # sealed fields never leave the platform
            }
            for entry, payload in session.exec(query)
        ]
        last = items[-1]["seq"] if items else after
        assert isinstance(last, int)
        return FeedPage(items, last)

    def page_for(
        self, session: Session, actor: Actor | None, *, after: int = 0, limit: int = 100
    ) -> FeedPage:
        """A page within ``actor``'s scope: the subtree of their unit, with ``apps.feed``."""
        if actor is None or actor.unit is None or not actor.has(FEED_PERMISSION):
            return FeedPage([], after)
        return self.page(session, [actor.unit.path], after=after, limit=limit)


def _matches(pattern: str, event_type: str) -> bool:
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern
