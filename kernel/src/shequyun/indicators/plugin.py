"""Default plugin ``indicators``: dashboards per level, the indicators API and the snapshot job.

The indicators themselves come from every plugin's ``register_indicators`` (the kernel's own
from the default plugins ``residents`` and ``collection``); this plugin declares the permission
to read them, the pages and API that show them, and the job that keeps closed periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from shequyun_sdk import NavEntry, PluginContext, ScheduledJob, hookimpl
from shequyun_sdk.indicators import BEIJING
from starlette.routing import BaseRoute

from ..release import VERSION
from . import api, pages
from .models import Pin, Snapshot, SnapshotUnit, SnapshotValue
from .service import VIEW

HERE = Path(__file__).parent
READERS = [
    "identity.bureau",
    "identity.district_admin",
    "identity.street_admin",
    "identity.cadre",
    "identity.social_worker",
]

MANIFEST = {
    "name": "indicators",
    "version": VERSION,
    "title": {"zh": "指标与决策支持", "en": "Indicators"},
    "description": {
        "zh": "各插件声明的指标，按市、区、街镇、居村逐级汇总，趋势、对比与大屏",
        "en": "Indicators from every plugin, summed up the hierarchy; trends, comparisons, wall",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
    "permissions": [
        {
            "name": VIEW,
            "title": {"zh": "查看指标与决策支持", "en": "View indicators"},
            "roles": READERS,
        }
    ],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [Snapshot, SnapshotUnit, SnapshotValue, Pin]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return pages.ROUTES


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.ROUTES


@hookimpl
def register_templates(plugin: PluginContext) -> Path:
    # The kernel's loader finds templates/indicators/* too; registering the folder gives the
    # templates this plugin's catalog (locale/), so its English stays out of the kernel's.
    return HERE / "templates" / "indicators"


@hookimpl
def register_static(plugin: PluginContext) -> Path:
    return HERE / "static"


@hookimpl
def register_translations(plugin: PluginContext) -> Path:
    return HERE / "locale"


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(label="指标", label_en="Indicators", href="/indicators", permission=VIEW, order=15)
    ]


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Any) -> str | None:
    # The latest closed week, month and quarter, measured now: the trends start somewhere.
    taken = platform.kernel.indicators.take_due_snapshots()
    if not taken:
        return "指标快照已保存，未重复创建。"
    return "指标快照：" + "、".join(t.period.label for t in taken) + "。"


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: Any) -> Sequence[ScheduledJob]:
    service = platform.kernel.indicators

    def snapshot(scheduled_for: datetime) -> str:
        # The day the run covers (the test clock's in tests), not the wall clock's.
        taken = service.take_due_snapshots(today=scheduled_for.astimezone(BEIJING).date())
        if not taken:
            return "无需新增快照"
        parts = []
        for t in taken:
            failed = f"，{len(t.failed)} 项失败" if t.failed else ""
            parts.append(f"{t.period.label} {t.indicators} 项{failed}")
        return "已保存：" + "；".join(parts)

    # Just after midnight, Beijing time: the day's new closed periods are kept at once.
    return [ScheduledJob("snapshot", snapshot, daily_at="00:20")]
