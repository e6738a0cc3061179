"""Default plugin ``kernel``: the kernel's tables and migrations, and the plugins API."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shequyun_sdk import PluginContext, ValidationFailed, hookimpl, read_json
from shequyun_sdk.cases import EVENT_TYPES as CASE_EVENT_TYPES
from shequyun_sdk.events import EventType
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import (
    BOOLEAN,
    STRING,
    UNIT_CODE,
    any_object,
    array,
    describe,
    nullable,
    obj,
)
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ..enablement import PluginEnablement
from ..events import EventDelivery, OutboxEvent
from ..identity.auth import request_actor
from ..identity.models import OrgUnit
from ..release import VERSION
from ..scheduler import ScheduledJobRow
from ..throttles import ThrottleHit

MANIFEST = {
    "name": "kernel",
    "version": VERSION,
    "title": {"zh": "平台内核", "en": "Platform kernel"},
    "description": {
        "zh": "身份、居民数据与一键采集的基础",
        "en": "Identity, resident data and collection",
    },
    "sdk": ">=1.0,<2",
}

MANAGE = "identity.plugins.manage"


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [OutboxEvent, EventDelivery, PluginEnablement, ScheduledJobRow, ThrottleHit]


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return Path(__file__).parent.parent / "migrations" / "versions"


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    # The SDK's cross-plugin contracts: any plugin may publish them, the kernel declares them.
    return CASE_EVENT_TYPES


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [
        Route("/plugins", list_plugins, methods=["GET"]),
        Route("/plugin-enablement/{name}", set_enablement, methods=["PUT"]),
    ]


@describe(
    response=obj(
        {
            "plugins": array(
                obj(
                    {
                        "name": STRING,
                        "version": STRING,
                        "title": STRING,
                        "state": STRING,
                        "builtin": BOOLEAN,
                        "available": BOOLEAN,
                        "reason": nullable(STRING),
                        "origin": nullable(STRING),
                        "enabled_by_default": BOOLEAN,
                        "enablement": array(any_object()),
                    },
                    required=["name", "version", "state"],
                )
            )
        },
        required=["plugins"],
    )
)
async def list_plugins(request: Request) -> JSONResponse:
    """Every plugin offered to the kernel and its state.

    Anonymous visitors get names, titles and states only: a version tells a scanner which
    known flaw to try, and nothing a visitor does needs it. Signed-in users also see versions;
    administrators (``identity.plugins.manage``) also see why a plugin failed, where it came
    from, and where it is switched on.
    """
    kernel = request.app.state.kernel
    actor = request_actor(request)
    admin = actor is not None and actor.has(MANAGE)

    def rules() -> dict[str, list[dict[str, Any]]]:
        with Session(kernel.engine) as session:
            rows = session.exec(
                select(PluginEnablement, OrgUnit).join(
                    OrgUnit, col(OrgUnit.id) == PluginEnablement.unit_id
                )
            )
            found: dict[str, list[dict[str, Any]]] = {}
            for rule, unit in rows:
                found.setdefault(rule.plugin, []).append(
                    {"unit": {"code": unit.code, "name": unit.name}, "enabled": rule.enabled}
                )
            return found

    enabled = await run_in_threadpool(rules) if admin else {}
    plugins = []
    for record in kernel.host.records.values():
        entry: dict[str, Any] = {
            "name": record.name,
            "version": record.version,
            "title": record.title,
            "state": record.state.value,
            "builtin": record.builtin,
            "available": kernel.enablement.allows(record.name, actor),
        }
        if actor is None:
            del entry["version"], entry["builtin"]
        if admin:
            entry.update(
                reason=record.reason,
                origin=record.origin,
                enabled_by_default=kernel.enablement.default(record.name),
                enablement=enabled.get(record.name, []),
            )
        plugins.append(entry)
    return JSONResponse({"plugins": plugins})


@describe(
    body=obj(
        {"unit_code": UNIT_CODE, "enabled": nullable(BOOLEAN)},
        required=["unit_code", "enabled"],
        closed=True,
    ),
    response=obj({"plugin": STRING, "unit_code": UNIT_CODE, "enabled": nullable(BOOLEAN)}),
)
@requires(MANAGE)
async def set_enablement(request: Request) -> JSONResponse:
    """Switch a plugin on or off for a unit's subtree, or remove that rule (``enabled: null``).

    Body: ``{"unit_code": "310104000000", "enabled": true}``. Only units within your grant.
    """
    kernel = request.app.state.kernel
    name = request.path_params["name"]
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", field="(body)")
    code, enabled = body.get("unit_code"), body.get("enabled")
    if not isinstance(code, str):
        raise ValidationFailed("请指定单位编码 unit_code", field="unit_code")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValidationFailed("enabled 应为 true、false 或 null（删除该规则）", field="enabled")
    actor = request_actor(request)

    def work() -> None:
        with Session(kernel.engine) as session:
            kernel.enablement.change(session, actor, name, code, enabled)
            session.commit()
        kernel.enablement.invalidate()

    await run_in_threadpool(work)
    return JSONResponse({"plugin": name, "unit_code": code, "enabled": enabled})
