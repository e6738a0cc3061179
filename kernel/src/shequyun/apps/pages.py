"""外部应用: the administrators' pages for external apps, calling the same services as the API.

Register from a manifest (secrets shown once), change the units where an app is enabled, rotate
secrets, pause and resume webhooks, read the delivery log and replay a dead letter.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from shequyun_sdk import ApiError, NotFound
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity import tree
from ..identity.auth import request_actor
from ..identity.models import LEVEL_NAMES
from ..identity.pages_admin import crumbs, no_store, tr, unit_choices
from ..portal.common import db, page, render
from .service import MANAGE

__all__ = ["ROUTES"]

EXAMPLE = {
    "slug": "xuhui-garbage",
    "name": "徐汇垃圾分类督导",
    "base_url": "https://garbage.xuhui.example/",
    "redirect_uris": ["https://garbage.xuhui.example/callback"],
    "post_logout_redirect_uris": ["https://garbage.xuhui.example/"],
    "scopes": ["residents.read"],
    "nav": [{"label": "垃圾分类督导", "path": "/", "permission": "residents.read"}],
    "webhook": {"url": "https://garbage.xuhui.example/webhooks", "events": ["resident.*"]},
    "units": ["310104000000"],
}
STATES = {"active": "推送中", "paused": "已暂停"}
NOTICES = {
    "units": "已更新启用单位。",
    "paused": "已暂停推送。",
    "resumed": "已恢复推送。",
    "replayed": "已安排重新推送。",
}
DELIVERY_STATES = {"pending": "待发送", "done": "已送达", "dead": "已放弃"}


def _openness(request: Request) -> Any:
    return request.app.state.kernel.openness


def _app_id(request: Request) -> int:
    return path_id(request, "app_id")


@page(MANAGE)
async def list_page(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    rows = await db(request, lambda s: [(a, apps.units(s, a.id)) for a in apps.listing(s, actor)])
    return render(
        request,
        "apps/list.html",
        {
            "apps": rows,
            "states": STATES,
            "breadcrumbs": crumbs(request, (tr(request, "外部应用"), None)),
        },
    )


@page(MANAGE)
async def new_page(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    text = json.dumps(EXAMPLE, ensure_ascii=False, indent=2)
    error: dict[str, str] | None = None
    if request.method == "POST":
        form = await request.form()
        text = str(form.get("manifest", ""))[:20000]
        try:
            manifest = json.loads(text)
        except json.JSONDecodeError as exc:
            error = {"field": "manifest", "message": tr(request, "不是合法的 JSON：{e}", e=exc.msg)}
        else:

            def register(session: Session) -> dict[str, Any]:
                done = apps.register(session, actor, manifest)
                session.flush()
                return {
                    "app": done.app,
                    "client_secret": done.client_secret,
                    "webhook_secret": done.webhook_secret,
                }

            try:
                done = await db(request, register, commit=True)
            except ApiError as exc:
                error = {"field": exc.field or "manifest", "message": exc.message}
            else:
                response = render(
                    request,
                    "apps/secrets.html",
                    {
                        **done,
                        "breadcrumbs": crumbs(
                            request,
                            (tr(request, "外部应用"), "/admin/apps"),
                            (done["app"].name, None),
                        ),
                    },
                )
                return no_store(response)
    return render(
        request,
        "apps/new.html",
        {
            "manifest": text,
            "error": error,
            "breadcrumbs": crumbs(
                request,
                (tr(request, "外部应用"), "/admin/apps"),
                (tr(request, "注册应用"), None),
            ),
        },
        status_code=422 if error else 200,
    )


@page(MANAGE)
async def detail_page(request: Request) -> Response:
    openness = _openness(request)
    actor = request_actor(request)
    app_id = _app_id(request)

    def fetch(session: Session) -> dict[str, Any]:
        app = openness.apps.get(session, actor, app_id)
        units = openness.apps.units(session, app_id)
        return {
            "app": app,
            # 上海市 › 徐汇区 › …: committee and street names repeat across the city
            "units": [
                (u, " › ".join(a.name for a in tree.ancestors(session, u)[1:])) for u in units
            ],
            "choices": unit_choices(session, actor, MANAGE) if actor is not None else [],
            "level_names": LEVEL_NAMES,
            "deliveries": openness.webhooks.log(session, actor, app_id, limit=30),
        }

    context = await db(request, fetch)
    done = request.query_params.get("done", "")
    # shown once, by the shell (base.html shows any ``notice``)
    notice = tr(request, NOTICES[done]) if done in NOTICES else None
    return render(
        request,
        "apps/detail.html",
        {
            **context,
            "states": STATES,
            "delivery_states": DELIVERY_STATES,
            "notice": notice,
            "error": request.query_params.get("error"),
            "breadcrumbs": crumbs(
                request, (tr(request, "外部应用"), "/admin/apps"), (context["app"].name, None)
            ),
        },
    )


@page(MANAGE)
async def units_action(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = _app_id(request)
    form = await request.form()
    # One field per unit (the kept units' boxes, the picker's new one), or one comma list.
    codes = [
        c
        for field in form.getlist("units")
        for c in str(field).replace("，", ",").replace(" ", ",").split(",")
        if c
    ]
    try:
        await db(request, lambda s: apps.set_units(s, actor, app_id, codes), commit=True)
    except ApiError as exc:
        return RedirectResponse(f"/admin/apps/{app_id}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(f"/admin/apps/{app_id}?done=units", status_code=303)


@page(MANAGE)
async def secret_action(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = _app_id(request)
    which = request.path_params["which"]
    if which not in ("client", "webhook"):
        raise NotFound("找不到该操作")

    def rotate(session: Session) -> dict[str, Any]:
        if which == "webhook":
            secret = apps.rotate_webhook_secret(session, actor, app_id)
            return {"webhook_secret": secret, "client_secret": None}
        return {
            "client_secret": apps.rotate_client_secret(session, actor, app_id),
            "webhook_secret": None,
        }

    done = await db(request, rotate, commit=True)
    app = await db(request, lambda s: apps.get(s, actor, app_id))
    response = render(
        request,
        "apps/secrets.html",
        {
            **done,
            "app": app,
            "rotated": True,
            "breadcrumbs": crumbs(
                request, (tr(request, "外部应用"), "/admin/apps"), (app.name, None)
            ),
        },
    )
    return no_store(response)


@page(MANAGE)
async def webhooks_action(request: Request) -> Response:
    webhooks = _openness(request).webhooks
    actor = request_actor(request)
    app_id = _app_id(request)
    if request.path_params["action"] not in ("pause", "resume"):
        raise NotFound("找不到该操作")
    paused = request.path_params["action"] == "pause"
    await db(request, lambda s: webhooks.set_paused(s, actor, app_id, paused), commit=True)
    return RedirectResponse(
        f"/admin/apps/{app_id}?done={'paused' if paused else 'resumed'}", status_code=303
    )


@page(MANAGE)
async def replay_action(request: Request) -> Response:
    webhooks = _openness(request).webhooks
    actor = request_actor(request)
    app_id = _app_id(request)
    delivery_id = path_id(request, "delivery_id")
    try:
        await db(request, lambda s: webhooks.replay(s, actor, app_id, delivery_id), commit=True)
    except ApiError as exc:
        return RedirectResponse(f"/admin/apps/{app_id}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(f"/admin/apps/{app_id}?done=replayed", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/admin/apps", list_page, methods=["GET"]),
    Route("/admin/apps/new", new_page, methods=["GET", "POST"]),
    Route("/admin/apps/{app_id:int}", detail_page, methods=["GET"]),
    Route("/admin/apps/{app_id:int}/units", units_action, methods=["POST"]),
    Route("/admin/apps/{app_id:int}/secret/{which:str}", secret_action, methods=["POST"]),
    Route("/admin/apps/{app_id:int}/webhooks/{action:str}", webhooks_action, methods=["POST"]),
    Route(
        "/admin/apps/{app_id:int}/deliveries/{delivery_id:int}/replay",
        replay_action,
        methods=["POST"],
    ),
]
