"""Default plugin ``apps``: the open platform for systems in any language.

An OpenID Connect provider (sign-in through the portal), external apps registered from a
manifest with per-unit enablement and client credentials, signed webhooks, the change feed and
the broker bridge (see docs/apps.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shequyun_sdk import PluginContext, Subscriber, hookimpl
from starlette.requests import Request
from starlette.routing import BaseRoute

from ..release import VERSION
from . import api, pages, provider
from .models import (
    AppUnit,
    ExternalApp,
    FeedEntry,
    OAuthCode,
    OAuthToken,
    SigningKey,
    StreamCursor,
    WebhookAttempt,
    WebhookDelivery,
)

if TYPE_CHECKING:  # the kernel imports this module: only for type checkers
    from ..kernel_platform import KernelPlatform

MANIFEST = {
    "name": "apps",
    "version": VERSION,
    "title": {"zh": "外部应用接入", "en": "External apps"},
    "description": {
        "zh": "统一身份认证（OIDC）、外部应用注册、Webhook 推送、变更订阅与消息总线桥接",
        "en": "OpenID Connect sign-in, registered apps, webhooks, change feed, broker bridge",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
    "permissions": [
        {"name": "apps.manage", "title": {"zh": "管理外部应用", "en": "Manage external apps"}},
        {
            "name": "apps.feed",
            "title": {"zh": "读取变更订阅", "en": "Read the change feed"},
            "roles": ["identity.district_admin", "identity.street_admin"],
        },
    ],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [
        ExternalApp,
        AppUnit,
        OAuthCode,
        OAuthToken,
        SigningKey,
        FeedEntry,
        WebhookDelivery,
        WebhookAttempt,
        StreamCursor,
    ]


@hookimpl
def register_event_subscribers(platform: KernelPlatform) -> Sequence[Subscriber]:
    # Every event, from the durable outbox, into the feed and the apps' webhook deliveries.
    return [Subscriber("*", platform.kernel.openness.feed.sequence, name="sequencer")]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*provider.ROUTES, *pages.ROUTES]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*api.ROUTES, *api.FEED_ROUTES]


@hookimpl
def extra_template_vars(request: Request) -> dict[str, Any]:
    # The registered apps' navigation entries this person may open (single sign-on).
    openness = request.app.state.kernel.openness
    return {"app_nav": openness.nav_for(request.scope.get("shequyun.actor"))}
