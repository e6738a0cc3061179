"""Assisted mode (代办): a cadre acting for a resident they may reach, under a cookie of its
own. Whether the cadre may still act for them is checked at every use, not only at the start.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from shequyun_sdk import Actor, Forbidden, NotFound, Platform
from shequyun_sdk.residents import ResidentRef
from sqlmodel import Session

from .core import ASSIST, now
from .credentials import token_hash
from .models import AssistSession, aware

__all__ = ["ASSIST_LIFETIME", "assist_target", "assisted_resident", "end_assist", "start_assist"]

ASSIST_LIFETIME = timedelta(hours=2)


def start_assist(platform: Platform, actor: Actor, resident_id: int) -> tuple[str, ResidentRef]:
    """Begin acting for a resident the cadre may reach; returns the cookie value."""
    if not actor.has(ASSIST):
        raise Forbidden("您没有权限代办")
    with platform.session() as session:
        ref = assisted_resident(platform, session, actor, resident_id)
        if ref is None:
            raise NotFound("找不到该居民")
        token = secrets.token_urlsafe(32)
        session.add(
            AssistSession(
                token_hash=token_hash(token),
                user_id=actor.user_id,
                resident_id=resident_id,
                expires_at=now() + ASSIST_LIFETIME,
            )
        )
        platform.audit(
            session,
            "interaction.assist_started",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
        )
        return token, ref


def assisted_resident(
    platform: Platform, session: Session, actor: Actor, resident_id: int
) -> ResidentRef | None:
    """The resident, if ``actor`` may act for them now (checked at every use)."""
    if not actor.has(ASSIST):
        return None
    try:
        platform.get_resident(session, actor, resident_id)
    except NotFound:
        return None
    ref = platform.resident_refs(session, [resident_id]).get(resident_id)
    if ref is None or not ref.active or not platform.can(actor, ASSIST, ref.committee):
        return None
    return ref


def assist_target(session: Session, actor: Actor, token: str | None) -> int | None:
    if not token:
        return None
    row = session.get(AssistSession, token_hash(token))
    if row is None or row.user_id != actor.user_id or aware(row.expires_at) <= now():
        return None
    return row.resident_id


def end_assist(platform: Platform, actor: Actor, token: str) -> None:
    """End the cadre's own assisted session (and say so in the audit log, as its start is)."""
    with platform.session() as session:
        row = session.get(AssistSession, token_hash(token))
        if row is None or row.user_id != actor.user_id:
            return
        session.delete(row)
        platform.audit(
            session,
            "interaction.assist_ended",
            actor=actor,
            target_type="resident",
            target_id=row.resident_id,
        )
