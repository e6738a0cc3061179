"""A plugin for the fault tests, loaded in the test process and (through an entry point in a
fake distribution) in ``shequyun worker`` subprocesses.

``probe.note`` events are noted, one line with the event id, in the file ``$PROBE_NOTES``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import Event, Platform, PluginContext, Subscriber, hookimpl

MANIFEST = {
    "name": "probe",
    "version": "0.1",
    "title": {"zh": "故障测试", "en": "Fault probe"},
    "description": {"zh": "测试用", "en": "For tests"},
    "sdk": ">=0.1,<0.2",
}


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def note(event: Event) -> None:
        with Path(os.environ["PROBE_NOTES"]).open("a") as notes:
            notes.write(f"{event.id}\n")

    return [Subscriber("probe.note", note, name="note")]


def install(site: Path) -> Path:
    """Make ``site`` a folder of installed distributions holding this plugin (put it, and this
    file's folder, on ``PYTHONPATH``)."""
    info = site / "shequyun_probe-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shequyun-probe\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[shequyun.plugins]\nprobe = probe_plugin\n")
    return site
