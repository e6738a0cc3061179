"""A short memory of credentials found valid, forgotten as soon as this process changes one.

Looking a bearer token or a session cookie up costs a query and a hop to a worker thread on
every request; a client sending a burst of submissions pays it each time. The authenticator
therefore remembers, by credential hash, what it found for at most :data:`AUTH_CACHE_SECONDS`
(never past the credential's own expiry), and only what it found *valid*: an unknown, revoked
or expired credential is looked up every time.

Revocation still takes effect at once in the process that makes it. Every commit that changes
a user, a grant, a token, a web session or an org unit (their ORM objects, or an ``UPDATE`` /
``DELETE`` of their tables through a session) moves a process-wide generation on, and an entry
is only used while the generation it was found under is current.

Other processes (other uvicorn workers, the CLI, other machines) learn of it through the
database: the same transaction adds one to the single row of ``kernel_credential_epoch``, and
every serving process reads that row every :data:`EPOCH_POLL_SECONDS` in a thread of its own
(:class:`EpochWatch`), moving its own generation on when the number changed. So a revoked
token, ended session, withdrawn grant or deactivated user stops working everywhere within about
half a second, through a pooler and on SQLite alike; one tiny query per half second per process
is the price.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Column, event, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlmodel import Field, SQLModel

from ..outages import OutageWatch

__all__ = [
    "AUTH_CACHE_SECONDS",
    "EPOCH_POLL_SECONDS",
    "CredentialCache",
    "CredentialEpoch",
    "EpochWatch",
    "generation",
]

#: How long a credential found valid is trusted without asking the database again.
AUTH_CACHE_SECONDS = 5.0
#: How often each serving process reads the shared epoch (seconds).
EPOCH_POLL_SECONDS = 0.5
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
_EPOCH = "shequyun.credentials_epoch"

log = logging.getLogger("shequyun.identity")


class CredentialEpoch(SQLModel, table=True):
    """One row: how many committed transactions changed credentials, in any process."""

    __tablename__ = "kernel_credential_epoch"

    id: int = Field(default=1, primary_key=True)
    epoch: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


EPOCH = CredentialEpoch.__table__  # type: ignore[attr-defined]

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
#: (database, epoch) pairs this process's own commits produced: its watcher need not act on
#: them again.
own_epochs: set[tuple[str, int]] = set()


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
            _changed(session)
            return
    for instance in session.dirty:
        if _watched(instance):
            changed = {a.key for a in inspect(instance).attrs if a.history.has_changes()}
            if changed - NEUTRAL_COLUMNS:
                _changed(session)
                return


def _changed(session: Session) -> None:
    """Mark this transaction as changing credentials, and tell the other processes through the
    shared epoch, in the same transaction (so a rollback tells nobody)."""
    if session.info.get(_CHANGED):
        return
    session.info[_CHANGED] = True
    connection = session.connection()
    moved = connection.execute(
        update(EPOCH).values(epoch=EPOCH.c.epoch + 1).returning(EPOCH.c.epoch)
    )
    session.info[_EPOCH] = (str(connection.engine.url), moved.scalar())


def _watched(instance: object) -> bool:
    return getattr(inspect(instance).mapper.local_table, "name", None) in WATCHED_TABLES


def _bulk_touches_credentials(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table: Any = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        _changed(state.session)


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        generation.bump()
        epoch = session.info.pop(_EPOCH, None)
        if epoch is not None:
            own_epochs.add(epoch)


def _after_rollback(session: Session) -> None:
    # What was flushed is undone: nothing changed. Bumping anyway costs only a few lookups.
    session.info.pop(_EPOCH, None)
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


class EpochWatch:
    """Reads the shared epoch every :data:`EPOCH_POLL_SECONDS` in a thread, and moves this
    process's generation on when another process changed credentials."""

    def __init__(self, engine: Engine, interval: float = EPOCH_POLL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self._seen: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def check(self) -> bool:
        """Read the epoch once; True when it moved since the last read."""
        with self.engine.connect() as connection:
            epoch = int(connection.execute(select(EPOCH.c.epoch)).scalar_one())
        seen, self._seen = self._seen, epoch
        if seen is None or epoch == seen:
            return False
        # Changes this process committed itself moved the generation at once already.
        database = str(self.engine.url)
        if epoch < seen or epoch - seen > 1000:
            moved = True
        else:
            moved = any((database, n) not in own_epochs for n in range(seen + 1, epoch + 1))
        for mine in [m for m in own_epochs if m[0] == database and m[1] <= epoch]:
            own_epochs.discard(mine)
        if moved:
            generation.bump()
        return moved

    def start(self) -> None:
        if self._thread is not None:
            return
        stop = self._stop = threading.Event()

        def loop() -> None:
            watch = OutageWatch(log, "credential changes")
            while not stop.is_set():
                try:
                    self.check()
                except Exception as exc:  # the database may be briefly away
                    # Meanwhile nothing is known: forget every remembered credential.
                    generation.bump()
                    stop.wait(watch.failed(exc))
                    continue
                watch.succeeded()
                stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="shequyun-epoch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(5)
