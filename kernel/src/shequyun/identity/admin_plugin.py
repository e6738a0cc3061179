"""Default plugin ``admin_portal``: the administrators' pages (系统管理).

Org units and roster import, users and grants with bulk import, API tokens, plugins with their
state and per-unit enablement, and the audit log: server-rendered pages calling the same
identity services as the API, through the ordinary ``register_routes`` and ``register_nav``.
"""

from __future__ import annotations

from collections.abc import Sequence

from shequyun_sdk import NavEntry, PluginContext, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from . import (
    pages_admin,
    pages_audit,
    pages_org,
    pages_plugins,
    pages_tokens,
    pages_units,
    pages_user_import,
    pages_users,
)

MANIFEST = {
    "name": "admin_portal",
    "version": VERSION,
    "title": {"zh": "系统管理页面", "en": "Administration pages"},
    "description": {
        "zh": "组织架构、用户与授权、访问令牌、插件开关与审计日志的管理页面",
        "en": "Pages to manage org units, users and grants, API tokens, plugins and the audit log",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    # The import pages before the pages of one user or unit, whose paths they would match.
    return [
        *pages_admin.ROUTES,
        *pages_user_import.ROUTES,
        *pages_users.ROUTES,
        *pages_tokens.ROUTES,
        *pages_org.ROUTES,
        *pages_plugins.ROUTES,
        *pages_audit.ROUTES,
        *pages_units.ROUTES,
    ]


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    # A NavEntry names one permission. Every built-in role that holds one of the admin
    # permissions (org.manage, users.manage, plugins.manage, audit.read) also holds
    # users.view, so it stands for all four; /admin itself accepts any of them.
    return [
        NavEntry(
            label="系统管理",
            label_en="Administration",
            href="/admin",
            permission="identity.users.view",
            order=90,
        )
    ]
