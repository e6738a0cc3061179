"""Logging in, with growing delays and a lockout after repeated failures.

After ``FREE_ATTEMPTS`` failures in a row, each further attempt must wait twice as long as the
last (1 s, 2 s, 4 s, … capped at five minutes); attempts made too soon are refused without
looking at the password. After ``LOCK_AFTER`` failures the account is locked for
``LOCK_DURATION``. Every outcome is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from . import audit
from .models import Grant, User
from .passwords import hash_password, needs_rehash, verify_password

__all__ = ["LOCK_AFTER", "LoginResult", "attempt_login"]

FREE_ATTEMPTS = 3
LOCK_AFTER = 10
LOCK_DURATION = timedelta(minutes=30)
MAX_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class LoginResult:
    """``outcome`` is ``ok``, ``bad_credentials``, ``too_soon`` or ``locked``."""

    outcome: str
    user: User | None = None
    grant_id: int | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def attempt_login(
    engine: Engine,
    username: str,
    password: str,
    *,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> LoginResult:
    """Check one login attempt and record its outcome (counters and audit) atomically."""
    now = now or datetime.now(UTC)
    username = username.strip().lower()
    with Session(engine) as session:
        query = select(User).where(func.lower(User.username) == username)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update()  # concurrent attempts count one by one
        user = session.exec(query).first()
        if user is None or not user.is_active:
            verify_password(None, password)  # same time as a real check
            audit.record(
                session,
                "login.failed",
                outcome="denied",
                username=username[:64],
                detail={"reason": "unknown or inactive user"},
                client_ip=client_ip,
            )
            session.commit()
            return LoginResult("bad_credentials")
        locked_until = _aware(user.locked_until)
        if locked_until is not None and locked_until > now:
            audit.record(
                session,
                "login.locked",
                outcome="denied",
                username=user.username,
                target_type="user",
                target_id=user.id,
                unit_id=user.home_unit_id,
                client_ip=client_ip,
            )
            session.commit()
            return LoginResult("locked", retry_after=_seconds(locked_until - now))
        next_at = _aware(user.next_login_at)
        if next_at is not None and next_at > now:
            audit.record(
                session,
                "login.throttled",
                outcome="denied",
                username=user.username,
                target_type="user",
                target_id=user.id,
                unit_id=user.home_unit_id,
                client_ip=client_ip,
            )
            session.commit()
            return LoginResult("too_soon", retry_after=_seconds(next_at - now))
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            detail: dict[str, object] = {"failures": user.failed_logins}
            if user.failed_logins >= LOCK_AFTER:
                user.locked_until = now + LOCK_DURATION
                user.failed_logins = 0
                user.next_login_at = None
                detail["locked_until"] = user.locked_until.isoformat()
            elif user.failed_logins >= FREE_ATTEMPTS:
                delay = timedelta(seconds=2 ** (user.failed_logins - FREE_ATTEMPTS))
                user.next_login_at = now + min(delay, MAX_DELAY)
                detail["next_attempt_at"] = user.next_login_at.isoformat()
            session.add(user)
            audit.record(
                session,
                "login.failed",
                outcome="denied",
                username=user.username,
                target_type="user",
                target_id=user.id,
                unit_id=user.home_unit_id,
                detail=detail,
                client_ip=client_ip,
            )
            session.commit()
            return LoginResult("bad_credentials")
        user.failed_logins = 0
        user.next_login_at = None
        user.locked_until = None
        user.last_login_at = now
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.add(user)
        grant_id = session.exec(
            select(Grant.id)
            .where(Grant.user_id == user.id, Grant.revoked_at == None)  # noqa: E711
            .order_by(Grant.id)  # type: ignore[arg-type]
        ).first()
        audit.record(
            session,
            "login.succeeded",
            username=user.username,
            target_type="user",
            target_id=user.id,
            unit_id=user.home_unit_id,
            client_ip=client_ip,
        )
        session.commit()
        session.refresh(user)
        return LoginResult("ok", user=user, grant_id=grant_id)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
