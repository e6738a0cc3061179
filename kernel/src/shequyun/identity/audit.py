"""Writing the append-only audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shequyun_sdk.identity import Actor
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..request_context import current_client_ip, current_request_id
from . import actors
from .models import AuditEntry

__all__ = ["record", "record_now"]


def record(
    session: Session,
    action: str,
    *,
    actor: Actor | None = None,
    outcome: str = "ok",
    target_type: str | None = None,
    target_id: str | int | None = None,
    unit_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    client_ip: str | None = None,
    username: str | None = None,
) -> AuditEntry:
    """Add an audit entry to ``session``: it commits (or not) with the action it describes.

    ``actor`` must be one the kernel issued (a forged one could write someone else's name
    into the log). A plugin's own actor is recorded as ``plugin:<name>`` with no user id.
    ``client_ip`` defaults to the address of the request being handled, if any.
    """
    actors.check(actor)
    entry = AuditEntry(
        action=action,
        outcome=outcome,
        actor_user_id=actor.user_id if actor else None,
        actor_username=actor.username if actor else username,
        grant_id=actor.grant_id if actor else None,
        role=actor.role if actor else None,
        unit_id=unit_id
        if unit_id is not None
        else (actor.unit.id if actor and actor.unit else None),
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=dict(detail or {}),
        client_ip=client_ip if client_ip is not None else current_client_ip(),
        request_id=None if current_request_id() == "-" else current_request_id(),
    )
    session.add(entry)
    return entry


def record_now(engine: Engine, action: str, **kwargs: Any) -> None:
    """Write an audit entry in its own transaction (denials, failed logins: the request's
    own transaction may roll back, the audit entry must not)."""
    with Session(engine) as session:
        record(session, action, **kwargs)
        session.commit()
