"""register_event_subscribers: handlers for events, delivered after commit from the outbox."""

from __future__ import annotations

import pytest
from shequyun_sdk import EventType, Subscriber, hookimpl
from shequyun_sdk.events import payload
from sqlmodel import select

from ._plugins import MIGRATIONS, Notice, manifest, plugin_listing

TEXT = {"type": "string"}


class Registry:
    """登记: the plugin whose events the others follow (it declares them, as publishers must)."""

    MANIFEST = manifest("registry", "居民登记")

    @hookimpl
    def register_event_types(self):
        return [
            EventType(
                "registry.moved_in",
                "A resident moved in.",
                payload({"name": TEXT, "building": TEXT, "committee": TEXT}),
                example={"name": "王阿姨", "building": "3号楼", "committee": "田林十二村居委会"},
            ),
            EventType(
                "registry.moved_out",
                "A resident moved out.",
                payload({"name": TEXT}),
                example={"name": "李老伯"},
            ),
        ]


class Bulletin:
    MANIFEST = manifest("bulletin", "通知")

    @hookimpl
    def register_event_types(self):
        return [
            EventType(
                "bulletin.published",
                "A notice went up.",
                payload({"title": TEXT}),
                example={"title": "停水通知"},
            )
        ]


class Noticeboard:
    """社区公告: posts a welcome notice when a resident moves in; keeps what it was sent."""

    MANIFEST = manifest("noticeboard", "社区公告")

    def __init__(self):
        self.received = []
        self.platform = None

    @hookimpl
    def register_migrations(self):
        return MIGRATIONS

    @hookimpl
    def register_event_subscribers(self, plugin):
        return [
            Subscriber("registry.moved_in", self.welcome, name="welcome"),
            Subscriber("registry.*", self.received.append, name="audit"),
        ]

    @hookimpl
    def on_startup(self, platform):
        self.platform = platform

    def welcome(self, event):
        with self.platform.session() as session:
            title = f"欢迎{event.payload['name']}入住{event.payload['building']}"
            session.add(Notice(committee=event.payload["committee"], title=title))


class Flaky:
    """A subscriber that fails twice before it succeeds, like a bureau system being restarted."""

    MANIFEST = manifest("bureau_sync", "委办局同步")

    def __init__(self):
        self.attempts = 0
        self.synced = []

    @hookimpl
    def register_event_subscribers(self):
        return [Subscriber("registry.*", self.sync, name="sync")]

    def sync(self, event):
        self.attempts += 1
        if self.attempts <= 2:
            raise ConnectionError("委办局接口超时")
        self.synced.append(event.id)


@pytest.fixture
def noticeboard():
    return Noticeboard()


@pytest.fixture
def flaky():
    return Flaky()


@pytest.fixture
def shequyun_plugins(noticeboard, flaky):
    return [Registry(), Bulletin(), noticeboard, flaky]


@pytest.fixture
def publish(shequyun_client, shequyun_kernel):
    """Publish one event the way a plugin does: in a session, with the change it describes."""
    platform = shequyun_kernel.platform

    def publish(event_type, payload):
        with platform.session() as session:
            platform.publish(session, event_type, payload)

    return publish


MOVED_IN = {"name": "王阿姨", "building": "3号楼", "committee": "田林十二村居委会"}


def test_events_are_delivered_after_commit(publish, drain_events, noticeboard):
    publish("registry.moved_in", MOVED_IN)
    assert noticeboard.received == []  # nothing happens inside the publisher's transaction
    drain_events()
    [event] = noticeboard.received
    assert event.type == "registry.moved_in"
    assert event.payload == MOVED_IN
    assert isinstance(event.id, int)


def test_subscribers_can_write_through_the_platform(publish, drain_events, shequyun_kernel):
    publish("registry.moved_in", MOVED_IN)
    drain_events()
    with shequyun_kernel.platform.session() as session:
        titles = [notice.title for notice in session.exec(select(Notice))]
    assert titles == ["欢迎王阿姨入住3号楼"]


def test_an_event_whose_transaction_rolled_back_is_never_delivered(
    shequyun_client, shequyun_kernel, drain_events, noticeboard
):
    platform = shequyun_kernel.platform
    with pytest.raises(ValueError), platform.session() as session:
        platform.publish(session, "registry.moved_in", MOVED_IN)
        raise ValueError("居民信息校验失败")
    drain_events()
    assert noticeboard.received == []


def test_patterns_select_the_events_a_subscriber_gets(publish, drain_events, noticeboard):
    publish("registry.moved_out", {"name": "李老伯"})
    publish("bulletin.published", {"title": "停水通知"})
    drain_events()
    assert [event.type for event in noticeboard.received] == ["registry.moved_out"]


def test_a_failing_subscriber_is_retried_and_holds_nobody_up(
    publish, shequyun_kernel, drain_events, noticeboard, flaky
):
    publish("registry.moved_in", MOVED_IN)
    publish("registry.moved_out", {"name": "李老伯"})
    shequyun_kernel.events.deliver_due()  # one round of the worker, in real time
    delivered = [event.id for event in noticeboard.received]
    assert len(delivered) == 2  # not held up by the failures
    assert flaky.synced == []  # both deliveries failed and wait for their backoff
    drain_events()  # retries now, ignoring backoff
    assert flaky.synced == delivered
    drain_events()
    assert flaky.synced == delivered  # each event exactly once in the end
    assert [event.id for event in noticeboard.received] == delivered


class TestWhenRegisterEventSubscribersFails:
    class Broken:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def register_event_subscribers(self):
            raise RuntimeError("订阅配置错误")

    class BadValue:
        MANIFEST = manifest("deliberation", "议事厅")

        @hookimpl
        def register_event_subscribers(self):
            return ["registry.*"]

    @pytest.fixture
    def shequyun_plugins(self, noticeboard):
        return [Registry(), self.Broken(), self.BadValue(), noticeboard]

    def test_the_plugin_is_failed_and_other_subscribers_still_get_events(
        self, shequyun_client, publish, drain_events, noticeboard
    ):
        listing = plugin_listing(shequyun_client)
        assert listing["parking"]["state"] == "failed"
        assert "hook register_event_subscribers raised" in listing["parking"]["reason"]
        assert listing["deliberation"]["state"] == "failed"
        assert "register_event_subscribers" in listing["deliberation"]["reason"]
        publish("registry.moved_in", MOVED_IN)
        drain_events()
        assert len(noticeboard.received) == 1


class TestAHandlerThatNamesSession:
    """Writes in the delivery's own transaction: committed with the delivery, or not at all."""

    class Ledger:
        MANIFEST = manifest("ledger", "台账")

        def __init__(self):
            self.failures_left = 1

        @hookimpl
        def register_event_subscribers(self):
            return [Subscriber("registry.moved_in", self.record, name="record")]

        def record(self, event, session):
            session.add(Notice(committee=event.payload["committee"], title=f"台账 {event.id}"))
            session.flush()  # written, not yet committed
            if self.failures_left:
                self.failures_left -= 1
                raise ConnectionError("写到一半，委办局接口断开")

    @pytest.fixture
    def shequyun_plugins(self, noticeboard):
        return [Registry(), noticeboard, self.Ledger()]

    def ledger(self, kernel):
        with kernel.platform.session() as session:
            return [n.title for n in session.exec(select(Notice)) if n.title.startswith("台账")]

    def test_its_writes_commit_with_the_delivery_and_roll_back_when_it_fails(
        self, publish, shequyun_kernel, drain_events
    ):
        from shequyun.events import EventDelivery

        publish("registry.moved_in", MOVED_IN)
        shequyun_kernel.events.deliver_due()
        assert self.ledger(shequyun_kernel) == []  # it raised after writing: nothing stays
        with shequyun_kernel.platform.session() as session:
            [delivery] = session.exec(
                select(EventDelivery).where(EventDelivery.subscriber == "ledger:record")
            ).all()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "ConnectionError: 写到一半，委办局接口断开"
        drain_events()
        drain_events()
        assert self.ledger(shequyun_kernel) == [f"台账 {delivery.event_id}"]  # exactly once
