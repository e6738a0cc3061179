"""徐汇区垃圾分类检查打卡: a district specialty app, built only against the shequyun SDK."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shequyun_sdk import (
    Actor,
    EventType,
    Indicator,
    NavEntry,
    Platform,
    PluginContext,
    ValidationFailed,
    WorkbenchCard,
    actor_from_request,
    hookimpl,
    platform_from_request,
    plugin_from_request,
    read_json,
    requires,
)
from shequyun_sdk.openapi import DATE, INTEGER, STRING, array, describe, obj
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import checkins, indicators
from .models import CheckIn

HERE = Path(__file__).parent
CADRE, STREET, DISTRICT = "identity.cadre", "identity.street_admin", "identity.district_admin"

MANIFEST = {
    "name": "garbage",
    "version": "0.1.0",
    "title": {"zh": "垃圾分类检查打卡", "en": "Garbage-sorting check-in"},
    "description": {
        "zh": "徐汇区居委每日垃圾分类检查打卡，街镇与区实时查看",
        "en": "Daily garbage-sorting checks by Xuhui's committees",
    },
    "sdk": ">=1.0,<2",
    "enabled_by_default": False,
    "audit_actions": {
        "garbage.checked_in": {"zh": "垃圾分类打卡", "en": "Checked in a sorting"},
    },
    "demo_units": ["310104000000"],  # 徐汇区
    "permissions": [
        {
            "name": "garbage.view",
            "title": {"zh": "查看垃圾分类打卡", "en": "View check-ins"},
            "roles": [CADRE, STREET, DISTRICT],
        },
        {
            "name": "garbage.record",
            "title": {"zh": "垃圾分类打卡", "en": "Record check-ins"},
            "roles": [CADRE],
        },
    ],
}


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return [checkins.CHECKED_IN]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [CheckIn]


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return HERE / "migrations"


@hookimpl
def register_templates(plugin: PluginContext) -> Path:
    return HERE / "templates"


@hookimpl
def register_static(plugin: PluginContext) -> Path:
    return HERE / "static"


@hookimpl
def register_translations(plugin: PluginContext) -> Path:
    return HERE / "locale"  # locale/en/LC_MESSAGES/garbage.po


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(
            label="垃圾分类",
            label_en="Garbage sorting",
            href=plugin.url("/"),
            permission=checkins.VIEW,
            order=40,
        )
    ]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/", checkin_page, methods=["GET", "POST"])]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [
        Route("/checkins", list_checkins, methods=["GET"]),
        Route("/checkins", create_checkin, methods=["POST"]),
    ]


@hookimpl
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    return indicators.INDICATORS


@hookimpl
def workbench_cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard]:
    if not actor.has(checkins.VIEW):
        return []
    with platform.session() as session:
        total = checkins.today_total(session, platform, actor)
    # The workbench is the kernel's page: name the plugin whose catalog to use.
    _ = platform.translator(request, plugin)
    return [
        WorkbenchCard(
            _("垃圾分类打卡"),
            (_("今日参与 {count} 户", count=total),),
            href=plugin.url("/"),
            value=str(total),
            order=40,
        )
    ]


CHECKIN = obj(
    {
        "id": INTEGER,
        "unit": obj({"code": STRING, "name": STRING}),
        "day": DATE,
        "households": INTEGER,
        "correct_rate": INTEGER,
        "note": STRING,
        "recorded_by": STRING,
    },
    required=["id", "unit", "day"],
)


@requires(checkins.VIEW)
async def checkin_page(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_from_request(request)
    assert actor is not None
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        try:
            await run_in_threadpool(checkins.record, platform, actor, values)
        except ValidationFailed as exc:
            errors = {d["field"]: d["message"] for d in exc.details} or {
                exc.field or "day": exc.message
            }
        except Exception as exc:  # Conflict: already checked in today
            if getattr(exc, "status_code", 500) != 409:
                raise
            errors = {"day": str(exc)}
        else:
            return RedirectResponse(plugin_from_request(request).url("/"), status_code=303)
    rows = await run_in_threadpool(checkins.recent, platform, actor)
    can_record = actor.unit is not None and platform.can(actor, checkins.RECORD, actor.unit)
    _ = platform.translator(request)
    return platform.render(
        request,
        "garbage/index.html",
        {
            "rows": rows,
            "errors": errors,
            "values": values,
            "can_record": can_record,
            "breadcrumbs": [(_("首页"), "/"), (_("垃圾分类打卡"), None)],
        },
        status_code=422 if errors else 200,
    )


@describe(response=obj({"items": array(CHECKIN)}, required=["items"]))
@requires(checkins.VIEW)
async def list_checkins(request: Request) -> Response:
    actor = actor_from_request(request)
    assert actor is not None
    rows = await run_in_threadpool(checkins.recent, platform_from_request(request), actor, 500)
    return JSONResponse({"items": [r.as_dict() for r in rows]})


@describe(
    body=obj(
        {
            "households": {**INTEGER, "minimum": 0, "maximum": 20000},
            "correct_rate": {**INTEGER, "minimum": 0, "maximum": 100},
            "note": {**STRING, "maxLength": 200},
            "day": DATE,
        },
        required=["households", "correct_rate"],
    ),
    response=CHECKIN,
    status=201,
)
@requires(checkins.RECORD)
async def create_checkin(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", field="(body)")
    actor = actor_from_request(request)
    assert actor is not None
    checkin = await run_in_threadpool(checkins.record, platform_from_request(request), actor, body)
    return JSONResponse(checkin.as_dict(), status_code=201)
