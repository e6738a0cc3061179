"""Durable events: an outbox written in the publisher's transaction, delivered per subscriber.

``publish`` inserts the event and one delivery row per matching subscriber in the caller's
session, so an event exists exactly when the change it describes was committed. Deliveries are
attempted one by one, each in its own transaction: a subscriber that raises is retried later with
exponential backoff and never holds up another subscriber's deliveries. On PostgreSQL, several
workers share the table safely through ``FOR UPDATE SKIP LOCKED``.

A kernel subscriber whose work per event grows with what other events touch (data quality
re-evaluates whole households) registers a :class:`BatchSubscriber`: it receives its due events
together, up to ``batch_size`` at a time, so that an import of many rows costs one evaluation
per batch instead of one per row. A batch that fails is retried event by event, so one bad
event is isolated and the rest are delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk.events import EventContractError
from shequyun_sdk.identity import Actor
from shequyun_sdk.types import Event, Subscriber
from sqlalchemy import (
    ARRAY,
    JSON,
    Column,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    literal,
    true,
)
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import Insert
from sqlmodel import Field, Session, SQLModel, select

from . import event_sealing
from .direct import DirectStatement
from .event_catalogue import EventCatalogue
from .handlers import wanted

__all__ = [
    "OUTBOX_INSERT",
    "BatchSubscriber",
    "DeliveryStatus",
    "EventBus",
    "EventDelivery",
    "OutboxEvent",
]

log = logging.getLogger("shequyun.events")

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BatchSubscriber(Subscriber):
    """A kernel subscriber that takes its due events together: ``handler(events, session)``.

    ``events`` is a list of up to ``batch_size`` :class:`Event`, oldest first; ``session`` is
    the delivery's transaction, committed with the deliveries marked done (exactly once, as for
    a :class:`Subscriber` that names ``session``). Kernel-internal: not part of the SDK.
    """

    batch_size: int = 500


class DeliveryStatus:
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "kernel_event"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=120, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class EventDelivery(SQLModel, table=True):
    __tablename__ = "kernel_event_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber", name="uq_kernel_event_delivery"),
        Index("ix_kernel_event_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="kernel_event.id")
    subscriber: str = Field(max_length=200)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = None


class EventBus:
    """Routes published events to the subscribers the active plugins registered.

    A handler that names an ``actor`` parameter receives the actor of the plugin that
    registered it, made by ``actor_for(plugin)`` at each delivery (see :mod:`.handlers`).
    """

    def __init__(
        self,
        engine: Engine,
        subscribers: Sequence[Subscriber] = (),
        *,
        actor_for: Callable[[str], Actor] | None = None,
        catalogue: EventCatalogue | None = None,
        cipher: event_sealing.Cipher | None = None,
    ) -> None:
        self.engine = engine
        #: Seals the fields event types declare ``sealed`` (see :mod:`.event_sealing`).
        self.cipher = cipher
        self.actor_for = actor_for
        self.catalogue = catalogue or EventCatalogue()
        self.subscribers: dict[str, Subscriber] = {}
        #: Under ``strict_events``: events a handler tried to publish against their declaration,
        #: kept for :meth:`drain` to raise (a delivery swallows its handler's errors).
        self.contract_errors: list[EventContractError] = []
        self._plugin: dict[str, str | None] = {}
        self._wants: dict[str, frozenset[str]] = {}
        for sub in subscribers:
            self.add(sub)

    def add(self, subscriber: Subscriber, *, plugin: str | None = None) -> None:
        """Register ``subscriber``, of ``plugin`` when a plugin registered it."""
        name = subscriber.name or _qualname(subscriber.handler)
        if name in self.subscribers:
            raise ValueError(f"two event subscribers are named {name!r}")
        self.subscribers[name] = subscriber
        self._plugin[name] = plugin
        self._wants[name] = wanted(subscriber.handler, ("actor", "session"))

    def remove_prefix(self, prefix: str) -> None:
        """Withdraw the subscribers whose names start with ``prefix`` (a failed plugin's)."""
        for name in [n for n in self.subscribers if n.startswith(prefix)]:
            del self.subscribers[name]

    def _arguments(self, name: str, session: Session) -> dict[str, Any]:
        wants = self._wants.get(name, frozenset())
        arguments: dict[str, Any] = {"session": session} if "session" in wants else {}
        plugin = self._plugin.get(name)
        if "actor" in wants and plugin is not None and self.actor_for is not None:
            arguments["actor"] = self.actor_for(plugin)
        return arguments

    def check(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """Hold the event to its declaration (see :mod:`.event_catalogue`) before it is written."""
        self.catalogue.check(event_type, payload)

    def stored(self, event_type: str, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """The payload as the outbox keeps it: held to its declaration, then its sealed fields
        encrypted. Every path that writes events goes through here (:meth:`publish`, and the
        bulk inserts of an import)."""
        self.check(event_type, payload)
        declared = self.catalogue.types.get(event_type)
        return event_sealing.seal(self.cipher, declared.sealed, payload) if declared else payload

    def publish(self, session: Session, event_type: str, payload: Mapping[str, Any]) -> None:
        """Add the event and its deliveries to ``session``; they commit with the caller's change."""
        # Straight inserts on the session's DBAPI connection (its transaction), with statements
        # compiled once (see :mod:`.direct`): events are published on hot paths (every
        # submission).
        values = self.outbox_values(event_type, payload)
        if values["subscribers"] and session.connection().dialect.name == "postgresql":
            _PUBLISH_WITH_DELIVERIES.run(session, values)  # one round trip for both
            return
        event_id = _PUBLISH.rows(session, values)[0][0]
        if values["subscribers"]:
            _DELIVERY.run_many(
                session,
                [
                    {"event_id": event_id, "subscriber": n, "now": values["now"]}
                    for n in values["subscribers"]
                ],
            )

    def outbox_values(self, event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of :data:`OUTBOX_INSERT` (and of :meth:`publish`'s statements) for
        this event: its type, its payload as stored (checked and sealed), the time, and the
        names of the subscribers it is delivered to. A hot path that writes its own change in
        one statement on PostgreSQL adds the event to that statement with these."""
        stored = self.stored(event_type, payload)
        names = [name for name, sub in self.subscribers.items() if sub.matches(event_type)]
        return {"type": event_type, "payload": dict(stored), "now": utcnow(), "subscribers": names}

    def deliver_due(
        self,
        *,
        limit: int = 100,
        now: Callable[[], datetime] = utcnow,
        stopping: Callable[[], bool] = lambda: False,
    ) -> int:
        """Attempt up to about ``limit`` due deliveries; return how many were attempted.

        A batch subscriber's batch counts as the deliveries it holds, so the total may pass
        ``limit`` by less than one batch. ``stopping`` is asked before each delivery: once it
        says True, the delivery under way is finished and no other begins (a worker told to
        stop).
        """
        attempted = 0
        while attempted < limit and not stopping():
            done = self._deliver_next(now(), stopping)
            if not done:
                break
            attempted += done
        return attempted

    def drain(self, *, max_rounds: int = 100) -> None:
        """Deliver everything now, retries included, ignoring backoff (for tests and the CLI).

        Stops when nothing is pending or after ``max_rounds`` passes over the pending rows.
        Under ``strict_events`` it then raises the first :class:`EventContractError` a handler
        met publishing an event of its own: a delivery records its handler's errors and goes
        on, so a malformed event published from a subscriber would otherwise pass a test.
        """
        far_future = utcnow() + timedelta(days=3650)
        for _ in range(max_rounds):
            if not self.deliver_due(limit=10_000, now=lambda: far_future):
                break
        if self.contract_errors:
            first = self.contract_errors[0]
            self.contract_errors.clear()
            raise first

    def _due(self, session: Session, now: datetime, delivery_id: int | None = None) -> Any:
        """The first due pending delivery (``delivery_id``'s, if given), locked on PostgreSQL
        so that no other worker takes it until this transaction ends."""
        query = select(EventDelivery).where(EventDelivery.status == DeliveryStatus.PENDING)
        if delivery_id is None:
            query = query.where(EventDelivery.next_attempt_at <= now)
        else:
            query = query.where(EventDelivery.id == delivery_id)
        query = query.order_by(EventDelivery.id).limit(1)  # type: ignore[arg-type]
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return session.exec(query).first()

    def _more_due(
        self, session: Session, now: datetime, first: EventDelivery, count: int
    ) -> list[EventDelivery]:
        """Up to ``count`` further due deliveries of ``first``'s subscriber, locked as ``_due``."""
        if count <= 0:
            return []
        query = (
            select(EventDelivery)
            .where(
                EventDelivery.status == DeliveryStatus.PENDING,
                EventDelivery.subscriber == first.subscriber,
                EventDelivery.next_attempt_at <= now,
                EventDelivery.id != first.id,
            )
            .order_by(EventDelivery.id)  # type: ignore[arg-type]
            .limit(count)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(session.exec(query).all())

    def _deliver_next(self, now: datetime, stopping: Callable[[], bool]) -> int:
        """Deliver the first due delivery (with its batch, for a batch subscriber); return how
        many deliveries were attempted, 0 when none was due. A failed batch is retried one by
        one until ``stopping`` says True; the rest stay due for the next worker."""
        with Session(self.engine) as session:
            delivery = self._due(session, now)
            if delivery is None:
                return 0
            sub = self.subscribers.get(delivery.subscriber)
            if not isinstance(sub, BatchSubscriber):
                self._deliver(session, delivery, sub, now)
                return 1
            batch = [delivery, *self._more_due(session, now, delivery, sub.batch_size - 1)]
            if len(batch) == 1:
                self._deliver(session, delivery, sub, now)
                return 1
            ids = [d.id for d in batch]
            try:
                sub.handler([self._event(session, d) for d in batch], session=session)
            except Exception as exc:
                session.rollback()
                log.info(
                    "batch subscriber %s failed on %d events (%r); retrying them one by one",
                    sub.name,
                    len(ids),
                    exc,
                )
            else:
                for d in batch:
                    d.attempts += 1
                    self._done(d)
                    session.add(d)
                session.commit()
                return len(batch)
        # One by one, each in its own transaction: a bad event fails alone.
        attempted = 0
        for delivery_id in ids:
            if attempted and stopping():
                break
            with Session(self.engine) as session:
                single = self._due(session, now, delivery_id)
                if single is not None:
                    self._deliver(session, single, sub, now)
            attempted += 1
        return attempted

    def _event(self, session: Session, delivery: EventDelivery) -> Event:
        row = session.get(OutboxEvent, delivery.event_id)
        assert row is not None and row.id is not None
        payload = event_sealing.unseal(self.cipher, row.payload)
        return Event(id=row.id, type=row.type, payload=payload, occurred_at=row.created_at)

    def _deliver(
        self,
        session: Session,
        delivery: EventDelivery,
        sub: Subscriber | None,
        now: datetime,
    ) -> None:
        """Attempt one delivery in ``session`` and record its outcome; commits."""
        # Read the event before touching the delivery row: an autoflushed UPDATE would begin a
        # writing transaction here, and a handler writing on its own connection would wait on it.
        event = self._event(session, delivery)
        delivery.attempts += 1
        if sub is None:
            # The plugin is gone or failed; keep the row for when it comes back.
            delivery.next_attempt_at = now + MAX_BACKOFF
            delivery.last_error = "subscriber is not active"
            session.add(delivery)
            session.commit()
            return
        try:
            if isinstance(sub, BatchSubscriber):
                sub.handler([event], session=session)
            else:
                sub.handler(event, **self._arguments(delivery.subscriber, session))
        except Exception as exc:
            if isinstance(exc, EventContractError) and self.catalogue.strict:
                exc.add_note(f"published by subscriber {delivery.subscriber} on event {event.id}")
                self.contract_errors.append(exc)
            if isinstance(sub, BatchSubscriber) or "session" in self._wants.get(
                delivery.subscriber, ()
            ):
                # Undo what the handler wrote; record the failure on its own.
                delivery_id, attempts = delivery.id, delivery.attempts
                session.rollback()
                delivery = self._due(session, now, delivery_id)
                if delivery is None:  # another worker has it now
                    return
                delivery.attempts = attempts
            log.warning(
                "subscriber %s failed on event %s (%s), attempt %d: %r",
                delivery.subscriber,
                event.id,
                event.type,
                delivery.attempts,
                exc,
            )
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.DEAD
            else:
                delivery.next_attempt_at = utcnow() + _backoff(delivery.attempts)
        else:
            self._done(delivery)
        session.add(delivery)
        session.commit()

    @staticmethod
    def _done(delivery: EventDelivery) -> None:
        delivery.status = DeliveryStatus.DONE
        delivery.delivered_at = utcnow()
        delivery.last_error = None


_EVENTS: Table = OutboxEvent.__table__  # type: ignore[attr-defined]
_DELIVERIES: Table = EventDelivery.__table__  # type: ignore[attr-defined]
_NEW_EVENT = (
    insert(_EVENTS)
    .values(
        type=bindparam("type"),
        payload=bindparam("payload", type_=_EVENTS.c.payload.type),
        created_at=bindparam("now", type_=_EVENTS.c.created_at.type),
    )
    .returning(_EVENTS.c.id)
)
_PUBLISH = DirectStatement(_NEW_EVENT)
_DELIVERY = DirectStatement(
    insert(_DELIVERIES).values(
        event_id=bindparam("event_id"),
        subscriber=bindparam("subscriber"),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=bindparam("now", type_=_DELIVERIES.c.next_attempt_at.type),
    )
)


def _outbox_insert() -> Insert:
    """PostgreSQL: the event and one delivery per subscriber name in ``subscribers``."""
    event = _NEW_EVENT.cte("new_event")
    names = (
        func.unnest(bindparam("subscribers", type_=ARRAY(String)))
        .table_valued("name")
        .render_derived("subscriber_names")  # AS subscriber_names(name): a column, not a cast
    )
    rows = core_select(
        event.c.id,
        names.c.name,
        literal(DeliveryStatus.PENDING),
        literal(0),
        bindparam("now", type_=_DELIVERIES.c.next_attempt_at.type),
    ).select_from(event.join(names, true()))
    columns = ["event_id", "subscriber", "status", "attempts", "next_attempt_at"]
    return insert(_DELIVERIES).from_select(columns, rows)


#: PostgreSQL: insert an event and its deliveries, one statement, with the parameters of
#: :meth:`EventBus.outbox_values` (``type``, ``payload``, ``now``, ``subscribers``). It can be a
#: CTE of another statement (``OUTBOX_INSERT.cte(...)``): a submission writes its event so.
OUTBOX_INSERT = _outbox_insert()
_PUBLISH_WITH_DELIVERIES = DirectStatement(OUTBOX_INSERT)


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), MAX_BACKOFF)


def _qualname(handler: Callable[..., Any]) -> str:
    module = getattr(handler, "__module__", "?")
    return f"{module}.{getattr(handler, '__qualname__', repr(handler))}"
