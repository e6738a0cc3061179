"""What each committed credential change touched, told to every process's memory of credentials.

A commit that changes a user, a grant, a token, a web session, an org unit or an external app
(their ORM objects, or an ``UPDATE`` / ``DELETE`` of their tables through a session) is
noticed by the session hooks of :func:`watch`, which name what it touched as
:class:`Change` s: ``("token", hash)``, ``("session", hash)``, ``("user", id)`` (a user, or
one of their grants), ``("unit", id)`` (the unit and its subtree), ``("apps", id)``, or
``("all", "")`` for a bulk statement that did not say whose credentials it touches
(:func:`touching`).

The process that commits forgets those at once. The others learn of them through the
database, in the same transaction as the change itself (so a rollback tells nobody): it adds
one to the single row of ``kernel_credential_epoch`` and writes one row per change into
``kernel_credential_change`` under the new epoch. Every serving process reads the epoch every
:data:`EPOCH_POLL_SECONDS` in a thread of its own (:class:`EpochWatch`) and, when it moved,
the changes past the epoch it had seen, and forgets only what they name. An epoch with no
rows (written by hand, by a process of an older version, or pruned away while a process was
not looking) forgets everything: ``UPDATE kernel_credential_epoch SET epoch = epoch + 1`` is
how an operator makes every worker forget what a change made by hand in SQL touched.

So a revoked token, an ended session, a withdrawn grant or a deactivated user stops working
everywhere within about half a second, through a pooler and on SQLite alike, and a logout or
one committee's revoked token costs the other committees' tokens nothing.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from sqlalchemy import BigInteger, Column, delete, event, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlmodel import Field, SQLModel

from ..outages import OutageWatch

__all__ = [
    "EPOCH_POLL_SECONDS",
    "EVERYTHING",
    "Change",
    "CredentialChange",
    "CredentialEpoch",
    "EpochWatch",
    "Forgetter",
    "remember",
    "touching",
    "user",
    "watch",
]

#: How often each serving process reads the shared epoch (seconds).
EPOCH_POLL_SECONDS = 0.5
#: Changes kept in ``kernel_credential_change``: every this many epochs the rows of epochs
#: older than that many are deleted (a process that far behind forgets everything instead).
KEEP_EPOCHS = 1000

#: Columns that change on use or at login and decide nothing about an existing credential.
NEUTRAL_COLUMNS = frozenset(
    {"last_used_at", "last_login_at", "failed_logins", "next_login_at", "locked_until"}
)
_CHANGES = "shequyun.credential_changes"
_EPOCH = "shequyun.credentials_epoch"
#: The execution option of a bulk statement that says whose credentials it touches.
TOUCHING = "shequyun_touching"

log = logging.getLogger("shequyun.identity")


class Change(NamedTuple):
    """What one credential change touched: ``kind`` and whose (a hash or an id, as text)."""

    kind: str
    subject: str


EVERYTHING = Change("all", "")


class CredentialEpoch(SQLModel, table=True):
    """One row: how many committed transactions changed credentials, in any process."""

    __tablename__ = "kernel_credential_epoch"

    id: int = Field(default=1, primary_key=True)
    epoch: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class CredentialChange(SQLModel, table=True):
    """What the transaction that moved the epoch to ``epoch`` touched, one row per change."""

    __tablename__ = "kernel_credential_change"

    id: int | None = Field(default=None, primary_key=True)
    epoch: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=64)


EPOCH = CredentialEpoch.__table__  # type: ignore[attr-defined]
CHANGES = CredentialChange.__table__  # type: ignore[attr-defined]


class Forgetter(Protocol):
    """A memory of credentials: told what changed, it forgets what that touched."""

    def forget_changes(self, changes: Iterable[Change]) -> None: ...


#: Every memory of credentials in this process, told of this process's commits at once.
_memories: weakref.WeakSet[Any] = weakref.WeakSet()
#: (database, epoch) of the changes this process committed, which every memory in it was told
#: of already: its watchers skip them, rather than forget again what was looked up since.
own_epochs: set[tuple[str, int]] = set()


def remember(memory: Forgetter) -> None:
    """Tell ``memory`` of every credential change this process commits, from now on."""
    _memories.add(memory)


def touching(*changes: Change) -> dict[str, Any]:
    """Execution options for a bulk ``UPDATE`` / ``DELETE`` of a watched table that say whose
    credentials it touches (without them, it touches everyone's)::

        session.exec(update(ApiToken).where(...).execution_options(**touching(user(7))))
    """
    return {TOUCHING: tuple(changes)}


def user(user_id: int | None) -> Change:
    """The credentials of one user (and so of all their grants)."""
    return Change("user", str(user_id))


def _subjects(instance: object) -> Iterable[Change]:
    """What a change to this row touches (nothing for an unwatched table)."""
    table = getattr(inspect(instance).mapper.local_table, "name", None)
    row: Any = instance
    if table == "kernel_api_token":
        return (Change("token", row.token_hash),)
    if table == "kernel_web_session":
        return (Change("session", row.token_hash),)
    if table == "kernel_user":
        return (user(row.id),)
    if table == "kernel_grant":
        return (user(row.user_id),)
    if table == "kernel_org_unit":
        return (Change("unit", str(row.id)),)
    if table == "kernel_oauth_token":
        return (Change("token", row.access_hash),)
    if table == "kernel_app":
        return (Change("apps", str(row.id)),)
    if table == "kernel_app_unit":
        return (Change("apps", str(row.app_id)),)
    return ()


WATCHED_TABLES = frozenset(
    {
        "kernel_user",
        "kernel_grant",
        "kernel_api_token",
        "kernel_web_session",
        "kernel_org_unit",
        "kernel_app",
        "kernel_app_unit",
        "kernel_oauth_token",
    }
)


def _touches_credentials(session: Session, _flush: UOWTransaction) -> None:
    # In after_flush, ``dirty`` and ``deleted`` and the attribute histories are still those
    # of before the flush.
    changes: set[Change] = set()
    for instance in session.deleted:
        changes.update(_subjects(instance))
    for instance in session.dirty:
        touched = _subjects(instance)
        if touched:
            changed = {a.key for a in inspect(instance).attrs if a.history.has_changes()}
            if changed - NEUTRAL_COLUMNS:
                changes.update(touched)
    if changes:
        _record(session, changes)


def _bulk_touches_credentials(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table: Any = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        _record(state.session, set(state.execution_options.get(TOUCHING, (EVERYTHING,))))


def _record(session: Session, changes: set[Change]) -> None:
    """Write what this transaction touched, under the epoch it moves on (once per
    transaction), so that the other processes learn of it when it commits."""
    recorded: set[Change] = session.info.setdefault(_CHANGES, set())
    new = changes - recorded
    if not new:
        return
    connection = session.connection()
    epoch = session.info.get(_EPOCH)
    if epoch is None:
        moved = connection.execute(
            update(EPOCH).values(epoch=EPOCH.c.epoch + 1).returning(EPOCH.c.epoch)
        )
        epoch = int(moved.scalar_one())
        session.info[_EPOCH] = (str(connection.engine.url), epoch)
        if epoch % KEEP_EPOCHS == 0:
            connection.execute(delete(CHANGES).where(CHANGES.c.epoch <= epoch - KEEP_EPOCHS))
    else:
        epoch = epoch[1]
    connection.execute(
        insert(CHANGES), [{"epoch": epoch, "kind": c.kind, "subject": c.subject} for c in new]
    )
    recorded.update(new)


def _after_commit(session: Session) -> None:
    epoch = session.info.pop(_EPOCH, None)
    changes = session.info.pop(_CHANGES, None)
    if epoch is not None:
        own_epochs.add(epoch)
    if changes:
        for memory in list(_memories):
            memory.forget_changes(changes)


def _after_rollback(session: Session) -> None:
    # What was flushed is undone, the epoch's move with it: nothing changed.
    session.info.pop(_EPOCH, None)
    session.info.pop(_CHANGES, None)


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
    """Reads the shared epoch every :data:`EPOCH_POLL_SECONDS` in a thread and tells
    ``memory`` what the other processes' changes since touched; runs ``also`` (the batched
    writes of tokens' last use) after each read."""

    def __init__(
        self,
        engine: Engine,
        memory: Forgetter,
        interval: float = EPOCH_POLL_SECONDS,
        also: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.memory = memory
        self.interval = interval
        self.also = also
        self._seen: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def check(self) -> bool:
        """Read the epoch once (and the changes past the one seen); True when it moved."""
        with self.engine.connect() as connection:
            epoch = int(connection.execute(select(EPOCH.c.epoch)).scalar_one())
            seen = self._seen
            if seen is None or epoch == seen:
                self._seen = epoch
                return False
            rows: Sequence[Any] = ()
            if epoch > seen:
                # Every change up to ``epoch`` committed before the epoch read above could
                # move past it (they update one row in turn), so all are visible here.
                rows = connection.execute(
                    select(CHANGES.c.epoch, CHANGES.c.kind, CHANGES.c.subject)
                    .where(CHANGES.c.epoch > seen)
                    .where(CHANGES.c.epoch <= epoch)
                ).all()
        database = str(self.engine.url)
        changes = {
            Change(row.kind, row.subject) for row in rows if (database, row.epoch) not in own_epochs
        }
        if epoch < seen or len({row.epoch for row in rows}) < epoch - seen:
            changes.add(EVERYTHING)  # an epoch nobody said anything about
        for mine in [m for m in own_epochs if m[0] == database and m[1] <= epoch]:
            own_epochs.discard(mine)
        if changes:
            self.memory.forget_changes(changes)
        self._seen = epoch
        return True

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
                    self.memory.forget_changes({EVERYTHING})
                    stop.wait(watch.failed(exc))
                    continue
                watch.succeeded()
                if self.also is not None:
                    try:
                        self.also()
                    except Exception as exc:  # informational writes: try again next time
                        log.warning("token last-use times not written: %s", exc)
                stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="shequyun-epoch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(5)
