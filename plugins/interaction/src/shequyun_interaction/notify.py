"""Notifications: in-app rows for residents, events for delivery adapters, a daily digest.

Everything a resident should know becomes a row in ``interaction_notification`` (the in-app
list). Delivery beyond the app (SMS, WeChat, a street's messaging system) is not this plugin's
business: adapters are *other plugins* subscribing to two event types —

``interaction.notification``
    one personal, time-sensitive notification (a reply to the resident's request, their post
    removed), published at once: ``{"notification_id", "resident_id", "kind", "title", "link"}``.
``interaction.digest``
    everything else, gathered into at most one message per resident per day:
    ``{"resident_id", "day", "count", "items": [{"kind", "title", "link"}, ...]}`` (at most 20
    items; ``count`` is the full number).

Digests are made by :func:`run_digests`, which the platform runs every day at 08:00 Beijing time
as the scheduled job ``interaction.digest`` (:func:`digest_job`; ``shequyun jobs list`` shows its
last run). Operators can also run it through ``POST /api/v1/plugins/interaction/manage/digests``
(permission ``interaction.operate``) or ``shequyun jobs run interaction.digest``. It is
idempotent: one digest row per resident and day, so a second run the same day sends nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk import Platform, ScheduledJob
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .core import now, today
from .core import upsert as upsert_row
from .models import Account, Digest, Notification

__all__ = ["digest_job", "fan_out", "notify", "run_digests", "unread_count"]

DIGEST_ITEMS = 20
#: When the daily digest goes out, Beijing time: before the working day, after the night.
DIGEST_AT = "08:00"


def notify(
    platform: Platform,
    session: Session,
    resident_id: int,
    *,
    kind: str,
    title: str,
    link: str = "",
    dedupe_key: str,
    immediate: bool = False,
) -> None:
    """Add a notification for a resident (once per ``dedupe_key``), in ``session``."""
    key = dedupe_key[:80]
    exists = session.exec(
        select(Notification.id).where(
            Notification.resident_id == resident_id, Notification.dedupe_key == key
        )
    ).first()
    if exists is not None:  # an event delivered twice, a retried request: nothing new
        return
    values = {
        "resident_id": resident_id,
        "kind": kind,
        "title": title[:160],
        "link": link[:200],
        "dedupe_key": key,
        "delivery": "immediate" if immediate else "digest",
        "created_at": now(),
        "delivered_at": now() if immediate else None,
    }
    upsert_row(session, Notification, values, ("resident_id", "dedupe_key"), None)
    if immediate:
        row = session.exec(
            select(Notification).where(
                Notification.resident_id == resident_id,
                Notification.dedupe_key == key,
            )
        ).one()
        platform.publish(
            session,
            "interaction.notification",
            {
                "notification_id": row.id,
                "resident_id": resident_id,
                "kind": kind,
                "title": row.title,
                "link": row.link,
            },
        )


def fan_out(
    platform: Platform,
    unit_id: int,
    *,
    kind: str,
    title: str,
    link: str,
    dedupe_key: str,
    inside: Any = None,
) -> int:
    """Notify every verified resident of committee ``unit_id`` (``inside(ref)`` narrows it).

    Candidates come from the accounts' committee hint; each is confirmed against the resident
    record as it is now, so a resident who moved away is not notified. Idempotent.
    """
    sent = 0
    with platform.session() as session:
        # A resident whose two records were merged may have two accounts: notified once.
        ids = list(
            dict.fromkeys(
                rid
                for rid in session.exec(
                    select(Account.resident_id).where(
                        Account.unit_hint == unit_id, col(Account.resident_id).is_not(None)
                    )
                )
                if rid is not None
            )
        )
        refs = platform.resident_refs(session, ids)
        for rid in ids:
            ref = refs.get(rid)
            if ref is None or not ref.active or ref.committee.id != unit_id:
                continue
            if inside is not None and not inside(ref):
                continue
            notify(
                platform,
                session,
                rid,
                kind=kind,
                title=title,
                link=link,
                dedupe_key=dedupe_key,
            )
            sent += 1
    return sent


def for_resident(platform: Platform, resident_id: int, limit: int = 50) -> list[Notification]:
    with platform.session() as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.resident_id == resident_id)
                .order_by(col(Notification.id).desc())
                .limit(limit)
            )
        )


def unread_count(session: Session, resident_id: int) -> int:
    return len(
        session.exec(
            select(Notification.id).where(
                Notification.resident_id == resident_id, col(Notification.read_at).is_(None)
            )
        ).all()
    )


def mark_read(platform: Platform, resident_id: int) -> None:
    with platform.session() as session:
        for row in session.exec(
            select(Notification).where(
                Notification.resident_id == resident_id, col(Notification.read_at).is_(None)
            )
        ):
            row.read_at = now()
            session.add(row)


def run_digests(platform: Platform, day: date | None = None) -> int:
    """Publish one ``interaction.digest`` event per resident with pending items; return how many."""
    day = day or today()
    sent = 0
    with platform.session() as session:
        residents = sorted(
            set(
                session.exec(
                    select(Notification.resident_id).where(
                        Notification.delivery == "digest",
                        col(Notification.delivered_at).is_(None),
                    )
                )
            )
        )
    for resident_id in residents:
        try:
            with platform.session() as session:
                pending = list(
                    session.exec(
                        select(Notification)
                        .where(
                            Notification.resident_id == resident_id,
                            Notification.delivery == "digest",
                            col(Notification.delivered_at).is_(None),
                        )
                        .order_by(col(Notification.id))
                    )
                )
                if not pending:
                    continue
                session.add(Digest(resident_id=resident_id, day=day, count=len(pending)))
                session.flush()  # a digest already sent today: IntegrityError, wait for tomorrow
                moment = datetime.now(UTC)
                for row in pending:
                    row.delivered_at = moment
                    session.add(row)
                platform.publish(
                    session,
                    "interaction.digest",
                    {
                        "resident_id": resident_id,
                        "day": day.isoformat(),
                        "count": len(pending),
                        "items": [
                            {"kind": r.kind, "title": r.title, "link": r.link}
                            for r in pending[:DIGEST_ITEMS]
                        ],
                    },
                )
                sent += 1
        except IntegrityError:
            continue
    return sent


def digest_job(platform: Platform) -> ScheduledJob:
    """The daily digest as the platform's scheduled job ``interaction.digest``."""

    def send() -> str:
        return f"发出 {run_digests(platform)} 份通知汇总"

    return ScheduledJob("digest", send, daily_at=DIGEST_AT)
