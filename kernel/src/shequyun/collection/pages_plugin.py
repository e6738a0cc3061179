"""Default plugin ``collection_portal``: the portal pages of one-click collection (数据采集).

Cadres see their tasks and fill them in; publishers build forms, send campaigns, watch progress
and read results. The pages call the same services as ``/api/v1`` and come in through the
ordinary ``register_routes`` and ``register_nav`` hooks.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import NavEntry, PluginContext, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from . import pages

MANIFEST = {
    "name": "collection_portal",
    "version": VERSION,
    "title": {"zh": "数据采集页面", "en": "Data collection pages"},
    "description": {
        "zh": "我的填报、在线填表、表单与采集任务发布、进度看板与汇总结果",
        "en": "My tasks, filling forms, publishing forms and campaigns, progress and results",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity", "collection"],
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return pages.ROUTES


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(
            label="我的填报",
            label_en="My tasks",
            href="/collection/tasks",
            permission="collection.fill",
            order=20,
        ),
        NavEntry(
            label="采集管理",
            label_en="Collection",
            href="/collection/campaigns",
            permission="collection.publish",
            order=21,
        ),
    ]
