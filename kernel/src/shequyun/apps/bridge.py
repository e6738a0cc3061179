"""The broker bridge: the change feed published to NATS JetStream or RabbitMQ.

A city platform consumes the events in its own infrastructure. The bridge reads the feed in
``seq`` order from its saved cursor (``kernel_stream_cursor``), publishes a page, waits until
the broker has acknowledged every message of it (JetStream publish acks; RabbitMQ publisher
confirms), and only then saves the cursor. Delivery is therefore at least once: after a crash
between the acks and the save, the page is published again. Every message carries the event id
for de-duplication (``Nats-Msg-Id``, which JetStream itself de-duplicates within its window;
AMQP ``message_id``).

Subjects and routing keys are ``<prefix>.<event type>`` (``shequyun.resident.updated``); the
body is the same JSON as a webhook's (``type``, ``timestamp``, ``data``). ``unit_path``
restricts a bridge to one subtree (a district's own broker).

The broker clients are optional dependencies: ``pip install shequyun[bridge]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .feed import Feed
from .models import StreamCursor

__all__ = ["AmqpPublisher", "Bridge", "NatsPublisher", "Publisher", "publisher_for"]

log = logging.getLogger("shequyun.bridge")

PAGE = 500


class Publisher(Protocol):
    """Publishes one page of feed items; returns only once the broker holds all of them."""

    async def connect(self) -> None: ...

    async def publish(self, items: Sequence[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


def message_body(item: dict[str, Any]) -> bytes:
    data = {**item["payload"], "event_id": item["event_id"], "seq": item["seq"]}
    return json.dumps(
        {"type": item["type"], "timestamp": item["occurred_at"], "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


class NatsPublisher:
    """JetStream: stream ``stream`` holds ``<prefix>.>``; made if missing."""

    def __init__(self, url: str, *, prefix: str = "shequyun", stream: str = "SHEQUYUN") -> None:
        self.url = url
        self.prefix = prefix
        self.stream = stream
        self._nc: Any = None
        self._js: Any = None

    async def connect(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=3)
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])

    async def publish(self, items: Sequence[dict[str, Any]]) -> None:
        acks = [
            self._js.publish(
                f"{self.prefix}.{item['type']}",
                message_body(item),
                headers={"Nats-Msg-Id": str(item["event_id"])},
                timeout=10,
            )
            for item in items
        ]
        await asyncio.gather(*acks)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()


class AmqpPublisher:
    """RabbitMQ: a durable topic exchange ``exchange``, persistent messages, publisher
    confirms."""

    def __init__(
        self, url: str, *, prefix: str = "shequyun", exchange: str = "shequyun.events"
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.exchange_name = exchange
        self._connection: Any = None
        self._exchange: Any = None

    async def connect(self) -> None:
        import aio_pika

        self._connection = await aio_pika.connect_robust(self.url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def publish(self, items: Sequence[dict[str, Any]]) -> None:
        import aio_pika

        confirms = [
            self._exchange.publish(
                aio_pika.Message(
                    message_body(item),
                    message_id=str(item["event_id"]),
                    type=item["type"],
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=f"{self.prefix}.{item['type']}",
            )
            for item in items
        ]
        await asyncio.gather(*confirms)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


def publisher_for(url: str, **options: Any) -> Publisher:
    """A publisher for ``nats://…`` or ``amqp://…`` (``amqps://``)."""
    scheme = urlsplit(url).scheme
    if scheme in ("nats", "tls"):
        return NatsPublisher(url, **options)
    if scheme in ("amqp", "amqps"):
        return AmqpPublisher(url, **options)
    raise ValueError(f"unsupported broker URL {url!r}: use nats:// or amqp://")


class Bridge:
    """Moves the feed to a broker, page by page, from a saved cursor."""

    def __init__(
        self,
        engine: Engine,
        feed: Feed,
        publisher: Publisher,
        *,
        name: str = "bridge",
        unit_path: str = "/",
    ) -> None:
        self.engine = engine
        self.feed = feed
        self.publisher = publisher
        self.name = name
        self.unit_path = unit_path

    def cursor(self) -> int:
        with Session(self.engine) as session:
            row = session.get(StreamCursor, self.name)
            return row.seq if row is not None else 0

    def _save(self, seq: int) -> None:
        with Session(self.engine) as session:
            row = session.get(StreamCursor, self.name) or StreamCursor(name=self.name)
            row.seq = seq
            row.updated_at = datetime.now(UTC)
            session.add(row)
            session.commit()

    def _page(self, after: int) -> tuple[list[dict[str, Any]], int]:
        with Session(self.engine) as session:
            paths = ["/"] if self.unit_path == "/" else [self.unit_path]
            page = self.feed.page(session, paths, after=after, limit=PAGE)
            return page.items, page.next_cursor

    async def run_once(self) -> int:
        """Publish everything after the cursor; return how many messages were published."""
        published = 0
        cursor = await asyncio.to_thread(self.cursor)
        while True:
            items, next_cursor = await asyncio.to_thread(self._page, cursor)
            if not items:
                return published
            await self.publisher.publish(items)
            await asyncio.to_thread(self._save, next_cursor)
            published += len(items)
            cursor = next_cursor

    async def run(self, interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
        """Keep publishing until ``stop`` is set; broker or database outages are retried."""
        stop = stop or asyncio.Event()
        await self.publisher.connect()
        try:
            while not stop.is_set():
                try:
                    sent = await self.run_once()
                except Exception:
                    log.exception("bridge round failed; retrying")
                    sent = 0
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), interval)
        finally:
            await self.publisher.close()
