"""A short memory of credentials found valid, forgotten as soon as this process changes one.

Looking a bearer token or a session cookie up costs a query and a hop to a worker thread on
every request; a client sending a burst of submissions pays it each time. The authenticator
therefore remembers, by credential hash, what it found for at most :data:`AUTH_CACHE_SECONDS`
(never past the credential's own expiry), and only what it found *valid*: an unknown, revoked
or expired credential is looked up every time.

Revocation still takes effect at once in the process that makes it. Every commit that changes
a user, a grant, a token, a web session or an org unit (their ORM objects, or an ``UPDATE`` /
``DELETE`` of their tables through a session) moves a process-wide generation on, and an entry
is only used while the generation it was found under is current. Other processes (other
uvicorn workers, the CLI) do not see this process's commits: there a revoked token, ended
session, withdrawn grant or deactivated user still works for at most ``AUTH_CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

__all__ = ["AUTH_CACHE_SECONDS", "CredentialCache", "generation"]

#: How long a credential found valid is trusted without asking the database again.
AUTH_CACHE_SECONDS = 5.0
MAX_ENTRIES = 10_000

#: The tables whose rows decide who a credential stands for and what they may do.
WATCHED_TABLES = frozenset(
    {
        "kernel_user",
        "kernel_grant",
        "kernel_api_token",
        "kernel_web_session",
        "kernel_org_unit",
        # external apps: their units, their tokens, their state
        "kernel_app",
        "kernel_app_unit",
        "kernel_oauth_token",
    }
)
#: Columns that change on use or at login and decide nothing about an existing credential.
NEUTRAL_COLUMNS = frozenset(
    {"last_used_at", "last_login_at", "failed_logins", "next_login_at", "locked_until"}
)
_CHANGED = "shequyun.credentials_changed"

V = TypeVar("V")


class _Generation:
    """A counter moved on by every committed change to a watched table in this process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


generation = _Generation()


class CredentialCache(Generic[V]):
    """What a credential hash was found to stand for, for a few seconds."""

    def __init__(
        self, seconds: float = AUTH_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, tuple[V, float, int]] = {}

    def get(self, key: str) -> V | None:
        """The remembered value, or None when there is none still good."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, until, found_under = entry
        if found_under != generation.value or self.clock() >= until:
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key: str, value: V, found_under: int, expires_in: float | None = None) -> None:
        """Remember ``value``, looked up while the generation was ``found_under``, for the
        cache's seconds or ``expires_in`` seconds, whichever is shorter."""
        if self.seconds <= 0 or found_under != generation.value:
            return
        lasts = self.seconds if expires_in is None else min(self.seconds, expires_in)
        if lasts <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries), ""), None)
        self._entries[key] = (value, self.clock() + lasts, found_under)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


def _touches_credentials(session: Session, _flush: UOWTransaction) -> None:
    # In after_flush, ``dirty`` and ``deleted`` and the attribute histories are still those
    # of before the flush.
    for instance in session.deleted:
        if _watched(instance):
            session.info[_CHANGED] = True
            return
    for instance in session.dirty:
        if _watched(instance):
            changed = {a.key for a in inspect(instance).attrs if a.history.has_changes()}
            if changed - NEUTRAL_COLUMNS:
                session.info[_CHANGED] = True
                return


def _watched(instance: object) -> bool:
    return getattr(inspect(instance).mapper.local_table, "name", None) in WATCHED_TABLES


def _bulk_touches_credentials(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table: Any = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        state.session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        generation.bump()


def _after_rollback(session: Session) -> None:
    # What was flushed is undone: nothing changed. Bumping anyway costs only a few lookups.
    if session.info.pop(_CHANGED, False):
        generation.bump()


def watch() -> None:
    """Follow every session's commits for changes to credentials (idempotent)."""
    for name, listener in (
        ("after_flush", _touches_credentials),
        ("do_orm_execute", _bulk_touches_credentials),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
