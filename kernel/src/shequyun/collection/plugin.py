"""Default plugin ``collection``: one-click data collection (线上一键采集)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shequyun_sdk import Indicator, PluginContext, hookimpl
from shequyun_sdk.events import EventType
from starlette.routing import BaseRoute

from ..indicators import builtin_collection
from ..release import VERSION
from . import api, demo, event_types
from .models import (
    Campaign,
    CampaignTarget,
    Form,
    FormVersion,
    SubmissionKey,
    Task,
    TaskEvent,
)

PUBLISHERS = ["identity.bureau", "identity.district_admin", "identity.street_admin"]
FILLERS = ["identity.cadre", "identity.social_worker"]


def _perm(name: str, zh: str, en: str, roles: list[str]) -> dict[str, object]:
    return {"name": f"collection.{name}", "title": {"zh": zh, "en": en}, "roles": roles}


MANIFEST = {
    "name": "collection",
    "version": VERSION,
    "title": {"zh": "线上一键采集", "en": "One-click data collection"},
    "description": {
        "zh": "委办局发布表单、下发到居村、跟踪进度、汇总结果",
        "en": "Publish forms to the hierarchy, track completion, aggregate results",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity", "residents"],
    "permissions": [
        _perm("publish", "发布采集表单", "Publish collection forms", PUBLISHERS),
        _perm("review", "审核与退回填报", "Review and return submissions", PUBLISHERS),
        _perm("results", "查看采集进度与结果", "See progress and results", PUBLISHERS),
        _perm("fill", "填报采集任务", "Fill collection tasks", FILLERS),
    ],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [Form, FormVersion, Campaign, CampaignTarget, Task, TaskEvent, SubmissionKey]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.ROUTES


@hookimpl
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    return builtin_collection.INDICATORS


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Any) -> str | None:
    """市民政局's survey of 徐汇区's committees, under way (see :mod:`.demo`)."""
    return demo.load(platform.kernel)
