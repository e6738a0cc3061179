"""A plugin for the fault tests, loaded in the test process and (through an entry point in a
fake distribution) in ``shequyun worker`` subprocesses.

``probe.note`` events are noted, one line with the event id, in the file ``$PROBE_NOTES``.
``probe.effect`` events each write one audit row (action ``probe.effect``, the event id as its
target) in the delivery's own transaction; while ``$PROBE_HOLD`` names a folder without a file
``go``, the handler writes ``inside-<event id>`` there and waits for ``go`` before it returns,
so that a test can kill the worker in the middle of a delivery.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import Event, Platform, PluginContext, Subscriber, hookimpl
from shequyun_sdk.events import EventType
from sqlmodel import Session

MANIFEST = {
    "name": "probe",
    "version": "0.1",
    "title": {"zh": "故障测试", "en": "Fault probe"},
    "description": {"zh": "测试用", "en": "For tests"},
    "sdk": ">=0.1,<0.2",
}


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return [
        EventType(
            "probe.note",
            "A test asks for a note of the event.",
            {"type": "object", "additionalProperties": False},
            {},
        ),
        EventType(
            "probe.effect",
            "A test asks for one audit row written in the delivery's transaction.",
            {"type": "object", "properties": {"n": {"type": "integer"}}},
            {"n": 1},
        ),
    ]


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def note(event: Event) -> None:
        with Path(os.environ["PROBE_NOTES"]).open("a") as notes:
            notes.write(f"{event.id}\n")

    def effect(event: Event, session: Session) -> None:
        platform.audit(session, "probe.effect", actor=None, target_type="event", target_id=event.id)
        session.flush()  # written, not committed: the delivery commits it
        hold = os.environ.get("PROBE_HOLD")
        if hold and not (Path(hold) / "go").exists():
            (Path(hold) / f"inside-{event.id}").touch()
            deadline = time.monotonic() + 300  # the test kills us long before
            while not (Path(hold) / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    return [
        Subscriber("probe.note", note, name="note"),
        Subscriber("probe.effect", effect, name="effect"),
    ]


def install(site: Path) -> Path:
    """Make ``site`` a folder of installed distributions holding this plugin (put it, and this
    file's folder, on ``PYTHONPATH``)."""
    info = site / "shequyun_probe-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shequyun-probe\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[shequyun.plugins]\nprobe = probe_plugin\n")
    return site
