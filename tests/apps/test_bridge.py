"""The broker bridge against the real NATS JetStream and RabbitMQ of this machine.

Each test skips, saying so, only when its broker does not answer on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from shequyun.apps.bridge import AmqpPublisher, Bridge, NatsPublisher
from shequyun.apps.models import FeedEntry
from shequyun.events import OutboxEvent

NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
BURST = 10_000
#: aio-pika costs a few milliseconds a message on this shared machine: the RabbitMQ run is
#: smaller to keep CI short; the 10,000 burst runs against NATS.
AMQP_BURST = 2_000


def burst(kernel: Any, count: int = BURST) -> None:
    """``count`` events already numbered into the feed (the outbox → feed path has its own
    tests; here the bridge is under test, so the rows are written in bulk)."""
    now = datetime.now(UTC)
    with kernel.engine.begin() as connection:
        connection.execute(
            insert(OutboxEvent.__table__),  # type: ignore[attr-defined]
            [
                {"id": i, "type": "test.burst", "payload": {"n": i}, "created_at": now}
                for i in range(1, count + 1)
            ],
        )
        connection.execute(
            insert(FeedEntry.__table__),  # type: ignore[attr-defined]
            [
                {
                    "seq": i,
                    "event_id": i,
                    "type": "test.burst",
                    "unit_path": None,
                    "occurred_at": now,
                }
                for i in range(1, count + 1)
            ],
        )


class Crash(Exception):
    pass


class CrashAfterPublishing:
    """Wraps a publisher: the second page is published (and acknowledged), then the process
    'dies' before the cursor is saved."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pages = 0

    async def connect(self) -> None:
        await self.inner.connect()

    async def publish(self, items: Any) -> None:
        await self.inner.publish(items)
        self.pages += 1
        if self.pages == 2:
            raise Crash

    async def close(self) -> None:
        await self.inner.close()


async def _nats_or_skip() -> Any:
    import nats

    try:
        return await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:
        pytest.skip(f"NATS JetStream is not running at {NATS_URL}: {exc!r}")


def test_nats_jetstream_receives_every_event_of_a_burst_once(shequyun_kernel):
    burst(shequyun_kernel)
    tag = uuid.uuid4().hex[:10]
    stream, prefix = f"SQYTEST{tag}", f"sqytest{tag}"

    async def scenario() -> tuple[int, int]:
        nc = await _nats_or_skip()
        js = nc.jetstream()
        try:
            crashing = CrashAfterPublishing(NatsPublisher(NATS_URL, prefix=prefix, stream=stream))
            bridge = Bridge(shequyun_kernel.engine, shequyun_kernel.openness.feed, crashing)
            await crashing.connect()
            with pytest.raises(Crash):
                await bridge.run_once()
            await crashing.close()
            assert bridge.cursor() == 500  # the second page was sent but not recorded
            again = NatsPublisher(NATS_URL, prefix=prefix, stream=stream)
            resumed = Bridge(shequyun_kernel.engine, shequyun_kernel.openness.feed, again)
            await again.connect()
            await resumed.run_once()
            await again.close()
            # A consumer of the city platform counts the ids it gets.
            from nats.js.api import AckPolicy, ConsumerConfig

            sub = await js.pull_subscribe(
                f"{prefix}.>", stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE)
            )
            ids: list[str] = []
            while True:
                try:
                    messages = await sub.fetch(batch=2000, timeout=2)
                except Exception:  # nats' TimeoutError: the stream is drained
                    break
                ids += [message.headers["Nats-Msg-Id"] for message in messages]
            return len(ids), len(set(ids))
        finally:
            try:
                await js.delete_stream(stream)
            finally:
                await nc.close()

    total, distinct = asyncio.run(scenario())
    assert distinct == BURST
    assert total == BURST  # JetStream dropped the resent page by its Nats-Msg-Id


def test_rabbitmq_receives_every_event_of_a_burst(shequyun_kernel):
    import aio_pika

    burst(shequyun_kernel, AMQP_BURST)
    exchange_name = f"sqytest.{uuid.uuid4().hex[:10]}"

    async def scenario() -> tuple[int, int]:
        try:
            connection = await aio_pika.connect(AMQP_URL, timeout=3)
        except Exception as exc:
            pytest.skip(f"RabbitMQ is not running at {AMQP_URL}: {exc!r}")
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=2000)
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="shequyun.#")
        try:
            crashing = CrashAfterPublishing(AmqpPublisher(AMQP_URL, exchange=exchange_name))
            bridge = Bridge(shequyun_kernel.engine, shequyun_kernel.openness.feed, crashing)
            await crashing.connect()
            with pytest.raises(Crash):
                await bridge.run_once()
            await crashing.close()
            again = AmqpPublisher(AMQP_URL, exchange=exchange_name)
            await again.connect()
            await Bridge(shequyun_kernel.engine, shequyun_kernel.openness.feed, again).run_once()
            await again.close()
            ids: list[str] = []
            async with queue.iterator(no_ack=True, timeout=5) as messages:
                try:
                    async for message in messages:
                        ids.append(str(message.message_id))
                        if len(ids) >= AMQP_BURST + 500:
                            break
                except TimeoutError:
                    pass
            return len(ids), len(set(ids))
        finally:
            await exchange.delete()
            await connection.close()

    total, distinct = asyncio.run(scenario())
    # At least once: the page resent after the crash arrives twice; the ids tell them apart.
    assert distinct == AMQP_BURST
    assert total == AMQP_BURST + 500
