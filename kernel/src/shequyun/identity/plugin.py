"""Default plugin ``identity``: org units, users, roles, grants, tokens, login and the audit log.

The built-in roles and the identity permissions are declared here exactly as a plugin declares
its own; other plugins add their permissions to these roles through ``Permission.roles``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shequyun_sdk import Actor, PluginContext, Role, WorkbenchCard, hookimpl
from starlette.routing import BaseRoute

from ..release import VERSION
from . import api_audit, api_me, api_org, api_users, demo_data, pages, pages_confirm
from .models import (
    ApiToken,
    AuditEntry,
    Grant,
    OrgUnit,
    OrgUnitChange,
    User,
    WebSession,
)
from .revocations import CredentialChange, CredentialEpoch

if TYPE_CHECKING:  # the kernel imports this module: only for type checkers
    from ..kernel_platform import KernelPlatform


def _perm(name: str, zh: str, en: str) -> dict[str, object]:
    return {"name": f"identity.{name}", "title": {"zh": zh, "en": en}}


MANIFEST = {
    "name": "identity",
    "version": VERSION,
    "title": {"zh": "身份与权限", "en": "Identity"},
    "description": {
        "zh": "市—区—街镇—居村组织架构、用户、角色、授权、登录与审计",
        "en": "Org hierarchy, users, roles, grants, login and audit",
    },
    "sdk": ">=1.0,<2",
    "permissions": [
        _perm("org.view", "查看组织架构", "View org units"),
        _perm("org.manage", "管理组织架构", "Manage org units"),
        _perm("users.view", "查看用户", "View users"),
        _perm("users.manage", "管理用户与授权", "Manage users and grants"),
        _perm("tokens.manage", "管理访问令牌", "Manage API tokens"),
        _perm("audit.read", "查阅审计日志", "Read the audit log"),
        _perm("plugins.manage", "管理插件", "Manage plugins"),
    ],
}

ORG_VIEW = "identity.org.view"

BUILTIN_ROLES = (
    Role("identity.platform_admin", "平台管理员", ("*",), "Platform administrator", ("city",)),
    Role("identity.bureau", "委办局", (ORG_VIEW,), "Bureau publisher", ("city", "district")),
    Role(
        "identity.district_admin",
        "区管理员",
        (
            ORG_VIEW,
            "identity.org.manage",
            "identity.users.view",
            "identity.users.manage",
            "identity.tokens.manage",
            "identity.audit.read",
        ),
        "District administrator",
        ("district",),
    ),
    Role(
        "identity.street_admin",
        "街镇管理员",
        (ORG_VIEW, "identity.users.view", "identity.users.manage", "identity.audit.read"),
        "Street administrator",
        ("street",),
    ),
    Role("identity.cadre", "居村干部", (ORG_VIEW,), "Committee cadre", ("committee",)),
    Role("identity.social_worker", "社工", (ORG_VIEW,), "Social worker", ("street", "committee")),
)


@hookimpl
def register_roles(plugin: PluginContext) -> Sequence[Role]:
    return BUILTIN_ROLES


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [
        OrgUnit,
        OrgUnitChange,
        User,
        Grant,
        ApiToken,
        WebSession,
        AuditEntry,
        CredentialEpoch,
        CredentialChange,
    ]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*pages.ROUTES, *pages_confirm.ROUTES]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*api_me.ROUTES, *api_org.ROUTES, *api_users.ROUTES, *api_audit.ROUTES]


@hookimpl
def load_demo_data(plugin: PluginContext, platform: KernelPlatform) -> str | None:
    return demo_data.load(platform.kernel)


@hookimpl
def workbench_cards(
    plugin: PluginContext, actor: Actor, platform: KernelPlatform
) -> Sequence[WorkbenchCard]:
    """待确认的同事, only while someone waits for this actor's confirmation; 待同事确认 while
    the actor's own account waits for someone else's."""
    from sqlmodel import Session

    from .access import Call
    from .holder_confirmation import awaiting, held

    kernel = platform.kernel
    call = Call(kernel.engine, kernel.permissions, actor, None)
    with Session(kernel.engine) as session:
        waiting = awaiting(session, call)
        mine = held(session, call)
    cards = []
    if mine:
        cards.append(
            WorkbenchCard(
                title="待同事确认",
                lines=(
                    "您的密码由管理员设置过：请本居委会一位同事在“待确认的同事”中确认您本人，"
                    "之后才能查看完整身份证号、电话和下载居民信息",
                ),
                order=4,
            )
        )
    if not waiting:
        return cards
    names = "、".join(a.user.display_name for a in waiting[:5])
    return [
        *cards,
        WorkbenchCard(
            title="待确认的同事",
            value=str(len(waiting)),
            lines=(names, "确认前，他们不能查看完整个人信息"),
            href="/account/colleagues",
            order=5,
        ),
    ]
