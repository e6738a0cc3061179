"""Default plugin ``residents_portal``: the cadre's workbench (工作台) and the residents pages.

The pages call the same services as the API (``kernel.residents``, ``kernel.collection``), in
the portal shell, through the ordinary ``register_routes`` and ``register_nav`` hooks.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import NavEntry, PluginContext, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from ..workbench.pages import ROUTES as WORKBENCH
from .pages import ROUTES as RESIDENTS_PAGES

MANIFEST = {
    "name": "residents_portal",
    "version": VERSION,
    "title": {"zh": "工作台与居民信息页面", "en": "Workbench and resident pages"},
    "description": {
        "zh": "居村干部的工作台，居民信息的查询、详情、修改、迁移、导入与下载页面",
        "en": "The cadre's workbench; pages to find, view, edit, move, import and export residents",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity", "residents", "collection"],
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*WORKBENCH, *RESIDENTS_PAGES]


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        # Every staff role holds org.view, so this shows to staff and not to visitors.
        NavEntry(
            label="工作台",
            label_en="Workbench",
            href="/workbench",
            permission="identity.org.view",
            order=5,
        ),
        NavEntry(
            label="居民信息",
            label_en="Residents",
            href="/residents",
            permission="residents.read",
            order=10,
        ),
    ]
