"""Batch subscribers: a kernel subscriber takes its due events together, exactly once, and a bad
event in a batch fails alone while the rest are delivered."""

from __future__ import annotations

from sqlmodel import Session, select

from shequyun.events import BatchSubscriber, DeliveryStatus, EventDelivery


class Counter:
    """Counts residents per committee, as a batch: one call for many events."""

    def __init__(self, *, refuse: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.refuse = refuse

    def __call__(self, events, session):
        self.calls.append([e.id for e in events])
        for event in events:
            if event.payload["resident_id"] == self.refuse:
                raise ValueError(f"无法处理居民 {self.refuse}")


def publish(kernel, resident_ids):
    """``resident.created`` for each id, as declared (the harness checks every payload)."""
    with Session(kernel.engine) as session:
        for resident_id in resident_ids:
            payload = {
                "resident_id": resident_id,
                "unit_code": "310115004001",
                "unit_id": 4,
                "version": 1,
            }
            kernel.events.publish(session, "resident.created", payload)
        session.commit()


def deliveries(kernel, subscriber):
    with Session(kernel.engine) as session:
        rows = session.exec(
            select(EventDelivery)
            .where(EventDelivery.subscriber == subscriber)
            .order_by(EventDelivery.id)
        ).all()
        return [(row.status, row.attempts) for row in rows]


def test_due_events_arrive_in_batches_of_the_subscriber_size(shequyun_kernel):
    counter = Counter()
    shequyun_kernel.events.add(
        BatchSubscriber("resident.*", counter, name="test:count", batch_size=3)
    )
    publish(shequyun_kernel, range(1, 8))

    shequyun_kernel.events.drain()

    assert [len(call) for call in counter.calls] == [3, 3, 1]
    assert deliveries(shequyun_kernel, "test:count") == [(DeliveryStatus.DONE, 1)] * 7


def test_a_bad_event_fails_alone_and_the_rest_of_its_batch_is_delivered(shequyun_kernel):
    counter = Counter(refuse=2)
    shequyun_kernel.events.add(
        BatchSubscriber("resident.*", counter, name="test:count", batch_size=10)
    )
    publish(shequyun_kernel, [1, 2, 3])

    shequyun_kernel.events.deliver_due(limit=100)

    # The batch failed, then each event was tried on its own.
    assert [len(call) for call in counter.calls] == [3, 1, 1, 1]
    assert deliveries(shequyun_kernel, "test:count") == [
        (DeliveryStatus.DONE, 1),
        (DeliveryStatus.PENDING, 1),
        (DeliveryStatus.DONE, 1),
    ]


def test_what_a_failed_batch_wrote_is_rolled_back(shequyun_kernel):
    from shequyun.events import OutboxEvent

    def writes_then_fails(events, session):
        # A write in the delivery's transaction: it must not survive the failure.
        session.add(OutboxEvent(type="test.side_effect", payload={}))  # a row, not a publish
        session.flush()
        raise RuntimeError("下游系统不可用")

    shequyun_kernel.events.add(
        BatchSubscriber("resident.*", writes_then_fails, name="test:fails", batch_size=5)
    )
    publish(shequyun_kernel, [1, 2])

    shequyun_kernel.events.deliver_due(limit=100)

    with Session(shequyun_kernel.engine) as session:
        left = session.exec(select(OutboxEvent).where(OutboxEvent.type == "test.side_effect"))
        assert left.all() == []
    assert deliveries(shequyun_kernel, "test:fails") == [(DeliveryStatus.PENDING, 1)] * 2


def test_a_worker_told_to_stop_leaves_the_rest_of_a_failed_batch_for_later(shequyun_kernel):
    counter = Counter(refuse=2)
    shequyun_kernel.events.add(
        BatchSubscriber("resident.*", counter, name="test:count", batch_size=10)
    )
    publish(shequyun_kernel, [1, 2, 3, 4])
    asked: list[int] = []

    def stopping() -> bool:  # SIGTERM arrives while the failed batch is retried
        asked.append(1)
        return len(asked) > 1

    attempted = shequyun_kernel.events.deliver_due(limit=100, stopping=stopping)

    # The batch of four failed; the first event was retried on its own, then the worker stopped.
    assert [len(call) for call in counter.calls] == [4, 1]
    assert attempted == 1
    assert deliveries(shequyun_kernel, "test:count") == [
        (DeliveryStatus.DONE, 1),
        (DeliveryStatus.PENDING, 0),
        (DeliveryStatus.PENDING, 0),
        (DeliveryStatus.PENDING, 0),
    ]
    shequyun_kernel.events.drain()
    assert deliveries(shequyun_kernel, "test:count")[2:] == [(DeliveryStatus.DONE, 1)] * 2
