"""register_event_types: a plugin declares what it publishes; the harness holds every event to it."""

from __future__ import annotations

import json

import pytest
from shequyun_sdk import EventContractError, EventType, ScheduledJob, Subscriber, hookimpl
from shequyun_sdk.deprecation import SdkDeprecationWarning
from shequyun_sdk.events import DATE, UNIT, payload
from sqlalchemy import text

from ._plugins import manifest, plugin_listing

CHECKED_IN = EventType(
    "garbage.checked_in",
    "A committee recorded the day's garbage-sorting check.",
    payload({**UNIT, "day": DATE, "households": {"type": "integer", "minimum": 0}}),
    example={"unit_code": "310104003001", "unit_id": 10, "day": "2026-05-01", "households": 40},
)
GOOD = {"unit_code": "310104003001", "unit_id": 10, "day": "2026-05-02", "households": 35}
COLLECTED = EventType(
    "garbage.collected",
    "A collector picked up a committee's bins; an SMS adapter may text the collector.",
    payload({**UNIT, "collector_phone": {"type": "string"}}),
    example={"unit_code": "310104003001", "unit_id": 10, "collector_phone": "13900000000"},
    sealed=("collector_phone",),
)


class Garbage:
    """垃圾分类打卡: publishes garbage.checked_in."""

    MANIFEST = manifest("garbage", "垃圾分类打卡")

    @hookimpl
    def register_event_types(self):
        return [CHECKED_IN, COLLECTED]


class Tally:
    """Counts check-ins: subscribes to what garbage declared."""

    MANIFEST = manifest("tally", "打卡统计")

    def __init__(self):
        self.days = []
        self.phones = []

    @hookimpl
    def register_event_subscribers(self):
        return [
            Subscriber("garbage.checked_in", lambda e: self.days.append(e.payload["day"])),
            Subscriber("garbage.collected", lambda e: self.phones.append(e.payload), name="sms"),
        ]


@pytest.fixture
def tally():
    return Tally()


@pytest.fixture
def shequyun_plugins(tally):
    return [Garbage(), tally]


def publish(kernel, event_type, value):
    with kernel.platform.session() as session:
        kernel.platform.publish(session, event_type, value)


def test_a_declared_event_reaches_subscribers_of_another_plugin(
    shequyun_client, shequyun_kernel, drain_events, tally
):
    publish(shequyun_kernel, "garbage.checked_in", GOOD)
    drain_events()
    assert tally.days == ["2026-05-02"]
    assert shequyun_kernel.events.catalogue.types["garbage.checked_in"] is CHECKED_IN


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({**GOOD, "households": -1}, "households"),
        ({k: v for k, v in GOOD.items() if k != "unit_id"}, "'unit_id' is a required property"),
        ({**GOOD, "unit_code": "徐汇"}, "unit_code"),
        ({**GOOD, "day": "5月2日"}, "day"),
        ({**GOOD, "name": "王阿姨"}, "'name' was unexpected"),
    ],
)
def test_a_payload_breaking_its_declaration_is_refused_naming_the_field(
    shequyun_kernel, value, named
):
    with pytest.raises(EventContractError, match=r"garbage\.checked_in") as refused:
        publish(shequyun_kernel, "garbage.checked_in", value)
    assert named in str(refused.value)


def test_an_undeclared_event_is_refused_under_the_harness(shequyun_kernel):
    with pytest.raises(EventContractError, match=r"'garbage\.weighed' is not declared"):
        publish(shequyun_kernel, "garbage.weighed", {"kg": 3})


class TestAnEventPublishedByAHandler:
    """A subscriber or a job that publishes against a declaration fails the test that runs it,
    although the platform records their errors and goes on."""

    class Relay:
        """Passes each check-in on with a misspelt field; its daily job does the same."""

        MANIFEST = manifest("relay", "转发")

        def __init__(self):
            self.platform = None

        @hookimpl
        def on_startup(self, platform):
            self.platform = platform

        @hookimpl
        def register_event_subscribers(self):
            return [Subscriber("garbage.checked_in", self.relay, name="relay")]

        @hookimpl
        def register_scheduled_jobs(self):
            return [ScheduledJob("resend", self.resend, daily_at="06:00")]

        def relay(self, event):
            if "househlods" not in event.payload:  # unchecked, its own event comes back
                self.resend({**event.payload, "househlods": 1})

        def resend(self, value=None):
            with self.platform.session() as session:
                self.platform.publish(session, "garbage.checked_in", value or {"day": "5月2日"})

    @pytest.fixture
    def shequyun_plugins(self, tally):
        return [Garbage(), tally, self.Relay()]

    def test_drain_events_raises_what_a_subscriber_met(
        self, shequyun_client, shequyun_kernel, drain_events
    ):
        publish(shequyun_kernel, "garbage.checked_in", GOOD)
        with pytest.raises(EventContractError, match="'househlods' was unexpected") as met:
            drain_events()
        assert "published by subscriber relay:relay" in "".join(met.value.__notes__)
        drain_events()  # raised once: the next drain starts clean

    def test_a_job_run_fails_the_test_naming_the_event(self, scheduled_jobs):
        with pytest.raises(AssertionError, match=r"relay\.resend: EventContractError: .*day"):
            scheduled_jobs.run("relay.resend")

    def test_nothing_is_raised_when_the_test_asked_for_unchecked_events(
        self, shequyun_client, shequyun_kernel, drain_events, unchecked_events
    ):
        with unchecked_events():
            publish(shequyun_kernel, "garbage.checked_in", GOOD)
            drain_events()


class TestOutsideTheHarness:
    @pytest.fixture
    def shequyun_settings(self):
        return {"strict_events": False}

    def test_production_publishes_and_logs_an_undeclared_type_once(self, shequyun_kernel, caplog):
        publish(shequyun_kernel, "garbage.weighed", {"kg": 3})
        publish(shequyun_kernel, "garbage.weighed", {"kg": 4})
        warned = [r for r in caplog.records if "garbage.weighed" in r.getMessage()]
        assert len(warned) == 1


class TestAPluginWrittenForSdk01:
    """It declares nothing, as SDK 0.1 offered no way to: it keeps working, warned."""

    class OldNotices:
        MANIFEST = manifest("old_notices", "旧版通知")

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.OldNotices()]

    def test_its_undeclared_events_are_published_with_a_deprecation_naming_the_removal(
        self, shequyun_kernel
    ):
        with pytest.warns(SdkDeprecationWarning, match="removed in shequyun-sdk 2.0"):
            publish(shequyun_kernel, "old_notices.posted", {"id": 1})


class TestBadDeclarations:
    class Outside:
        MANIFEST = manifest("parking", "停车管理")

        @hookimpl
        def register_event_types(self):
            return [EventType("resident.parked", "x", payload({}), example={})]

    class Twice:
        """A plugin named like a kernel noun cannot take over the kernel's events."""

        MANIFEST = manifest("resident", "重复声明")

        @hookimpl
        def register_event_types(self):
            return [EventType("resident.created", "x", payload({}), example={})]

    class NotAType:
        MANIFEST = manifest("notype", "错误返回值")

        @hookimpl
        def register_event_types(self):
            return ["notype.happened"]

    @pytest.fixture
    def shequyun_plugins(self):
        return [Garbage(), self.Outside(), self.Twice(), self.NotAType()]

    def test_each_bad_declaration_fails_its_plugin_with_the_reason(self, shequyun_client):
        listing = plugin_listing(shequyun_client)
        assert listing["garbage"]["state"] == "active"
        assert "must start with 'parking.'" in listing["parking"]["reason"]
        assert "already declared by 'residents'" in listing["resident"]["reason"]
        assert "is not an EventType" in listing["notype"]["reason"]


def test_a_sealed_field_reaches_subscribers_but_lies_encrypted_in_the_outbox(
    shequyun_client, shequyun_kernel, tally, drain_events
):
    sent = {"unit_code": "310104003001", "unit_id": 10, "collector_phone": "13911112222"}
    publish(shequyun_kernel, "garbage.collected", sent)
    drain_events()

    assert tally.phones == [sent]
    with shequyun_kernel.engine.connect() as connection:
        [stored] = connection.execute(
            text("SELECT payload FROM kernel_event WHERE type = 'garbage.collected'")
        ).scalars()
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored["unit_code"] == "310104003001"
    assert set(stored["collector_phone"]) == {"$sealed"}
    assert "13911112222" not in json.dumps(stored)


def test_a_declaration_is_checked_when_it_is_made():
    with pytest.raises(EventContractError, match="sealed field 'phone' is not a property"):
        EventType("garbage.x", "x", payload({}), example={}, sealed=("phone",))
    with pytest.raises(EventContractError, match="example: households"):
        EventType(
            "garbage.checked_in",
            "x",
            CHECKED_IN.schema,
            example={**GOOD, "households": "many"},
        )
    with pytest.raises(EventContractError, match="schema"):
        EventType("garbage.x", "x", {"type": "nonsense"}, example={})
    with pytest.raises(EventContractError, match="dotted lower-case"):
        EventType("CheckedIn", "x", payload({}), example={})


def test_a_single_field_piece_spread_like_unit_is_refused_naming_the_field():
    from shequyun_sdk.events import RESIDENT_ID

    with pytest.raises(EventContractError, match=r"field 'type' should have a JSON Schema"):
        payload({**UNIT, **RESIDENT_ID})
    assert payload({**UNIT, "resident_id": RESIDENT_ID})["required"] == [
        "unit_code",
        "unit_id",
        "resident_id",
    ]
