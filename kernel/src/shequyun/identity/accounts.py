"""Logging in, with growing delays and a lockout after repeated failures.

After ``FREE_ATTEMPTS`` failures in a row, each further attempt must wait twice as long as the
last (1 s, 2 s, 4 s, … capped at five minutes); attempts made too soon are refused without
looking at the password. After ``LOCK_AFTER`` failures the account is locked for
``LOCK_DURATION``. Besides, one client address may fail :data:`ADDRESS_LIMIT` times per window
whatever the accounts it tries. Every outcome is in the audit log.

An attempt is counted **before** its password is checked, in one conditional ``UPDATE`` of the
user's row (and one atomic hit of the address's counter, :mod:`shequyun.throttles`); a right
password then takes the count back. So parallel requests cannot all read "no failures yet"
and each have a password checked: on SQLite and PostgreSQL, across any number of worker
processes, at most ``FREE_ATTEMPTS`` passwords are checked before the delays start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk.attempts import AttemptLimit
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from .. import throttles
from . import audit, revocations
from .models import Grant, User
from .passwords import hash_password, needs_rehash, verify_password

__all__ = ["ADDRESS_LIMIT", "LOCK_AFTER", "LoginResult", "attempt_login"]

FREE_ATTEMPTS = 3
LOCK_AFTER = 10
LOCK_DURATION = timedelta(minutes=30)
MAX_DELAY = timedelta(minutes=5)
#: Failed logins one client address may make, whatever the usernames, per window.
ADDRESS_LIMIT = AttemptLimit("login.address", 30, timedelta(minutes=15))

USERS = User.__table__  # type: ignore[attr-defined]


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


def _clock() -> datetime:
    return datetime.now(UTC)


def _reserve(
    connection: Connection, user_id: int, now: datetime, fixed: bool = False
) -> dict[str, Any] | None:
    """Count an attempt on the user's row unless it is locked or must wait; the new counters.

    The ``UPDATE`` takes the row's lock, so the follow-up that sets the delay or the lockout
    commits before any other attempt can be counted (PostgreSQL re-reads the row after the
    lock; SQLite writes one at a time). ``now`` is when the attempt began; the delay and the
    lockout run from when it was counted (unless a test ``fixed`` the time): a loaded server
    may count an attempt seconds after it began, and a delay run from its beginning would be
    over before the next attempt of the burst is counted.
    """
    counted = connection.execute(
        update(USERS)
        .where(
            USERS.c.id == user_id,
            or_(USERS.c.locked_until.is_(None), USERS.c.locked_until <= now),
            or_(USERS.c.next_login_at.is_(None), USERS.c.next_login_at <= now),
        )
        .values(failed_logins=USERS.c.failed_logins + 1)
        .returning(USERS.c.failed_logins)
    ).first()
    if counted is None:
        return None
    if not fixed:
        now = max(now, _clock())
    failures = int(counted[0])
    detail: dict[str, Any] = {"failures": failures}
    values: dict[str, Any] = {}
    if failures >= LOCK_AFTER:
        values = {"locked_until": now + LOCK_DURATION, "failed_logins": 0, "next_login_at": None}
        detail["locked_until"] = values["locked_until"].isoformat()
    elif failures >= FREE_ATTEMPTS:
        delay = timedelta(seconds=2 ** (failures - FREE_ATTEMPTS))
        values = {"next_login_at": now + min(delay, MAX_DELAY)}
        detail["next_attempt_at"] = values["next_login_at"].isoformat()
    if values:
        connection.execute(update(USERS).where(USERS.c.id == user_id).values(**values))
    return detail


def _refused(session: Session, user: User, now: datetime, client_ip: str | None) -> LoginResult:
    locked_until = _aware(user.locked_until)
    locked = locked_until is not None and locked_until > now
    audit.record(
        session,
        "login.locked" if locked else "login.throttled",
        outcome="denied",
        username=user.username,
        target_type="user",
        target_id=user.id,
        unit_id=user.home_unit_id,
        client_ip=client_ip,
    )
    session.commit()
    if locked:
        assert locked_until is not None
        return LoginResult("locked", retry_after=_seconds(locked_until - now))
    next_at = _aware(user.next_login_at) or now
    return LoginResult("too_soon", retry_after=_seconds(next_at - now))


def attempt_login(
    engine: Engine,
    username: str,
    password: str,
    *,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> LoginResult:
    """Check one login attempt and record its outcome (counters and audit)."""
    fixed = now is not None
    now = now or _clock()
    username = username.strip().lower()
    if client_ip:
        verdict = throttles.hit(engine, ADDRESS_LIMIT, client_ip, now=now)
        if not verdict.allowed:
            audit.record_now(
                engine,
                "login.throttled",
                outcome="denied",
                username=username[:64],
                detail={"reason": "too many failures from this address"},
                client_ip=client_ip,
            )
            return LoginResult("too_soon", retry_after=verdict.retry_after)
    with Session(engine) as session:
        user = session.exec(select(User).where(func.lower(User.username) == username)).first()
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
        assert user.id is not None
        user_id = user.id
        session.commit()  # a transaction of its own for the count, committed at once
        detail = _reserve(session.connection(), user_id, now, fixed)
        session.commit()
        session.refresh(user)
        if detail is None:
            return _refused(session, user, now, client_ip)
        session.commit()  # hold no connection while the password is checked
        if not verify_password(user.password_hash, password):
            audit.record(
                session,
                "login.failed",
                outcome="denied",
                username=user.username,
                target_type="user",
                target_id=user_id,
                unit_id=user.home_unit_id,
                detail=detail,
                client_ip=client_ip,
            )
            session.commit()
            return LoginResult("bad_credentials")
        # Neither the login's bookkeeping nor a stronger hash of the same password changes
        # what anyone's credentials stand for: no worker need forget any.
        session.execute(
            update(USERS)
            .where(USERS.c.id == user_id)
            .values(failed_logins=0, next_login_at=None, locked_until=None, last_login_at=now)
            .execution_options(**revocations.touching())
        )
        if user.password_hash and needs_rehash(user.password_hash):
            session.execute(
                update(USERS)
                .where(USERS.c.id == user_id)
                .values(password_hash=hash_password(password))
                .execution_options(**revocations.touching())
            )
        grant_id = session.exec(
            select(Grant.id)
            .where(Grant.user_id == user_id, col(Grant.revoked_at).is_(None))
            .order_by(col(Grant.id))
        ).first()
        audit.record(
            session,
            "login.succeeded",
            username=user.username,
            target_type="user",
            target_id=user_id,
            unit_id=user.home_unit_id,
            client_ip=client_ip,
        )
        session.commit()
        if client_ip:
            throttles.forgive(engine, ADDRESS_LIMIT, client_ip)
        session.refresh(user)
        return LoginResult("ok", user=user, grant_id=grant_id)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
