"""``/api/v1/apps``: register and manage external apps; the manifest schema."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import read_json
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from ..portal.common import db
from . import api_schemas as docs
from .feed import FEED_PERMISSION
from .manifest import MANIFEST_SCHEMA
from .models import ExternalApp
from .service import MANAGE

__all__ = ["FEED_ROUTES", "ROUTES", "app_view"]


def _openness(request: Request) -> Any:
    return request.app.state.kernel.openness


def app_view(app: ExternalApp, units: list[Any]) -> dict[str, Any]:
    return {
        "id": app.id,
        "slug": app.slug,
        "name": app.name,
        "client_id": app.client_id,
        "secret_prefix": app.secret_prefix,
        "manifest": app.manifest,
        "units": [{"code": u.code, "name": u.name} for u in units],
        "webhook_state": app.webhook_state,
        "disabled": app.disabled_at is not None,
        "version": app.version,
    }


async def _json(request: Request) -> Any:
    # The SDK's reader bounds the nesting: the stdlib's json.loads raised RecursionError (a
    # 500) on a body nested a thousand levels deep.
    return await read_json(request)


@describe(response=docs.MANIFEST_SCHEMA_DOCUMENT)
async def manifest_schema(request: Request) -> Response:
    """The published JSON Schema of app manifests."""
    return JSONResponse(MANIFEST_SCHEMA)


@describe(response=docs.APPS)
@requires(MANAGE)
async def list_apps(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    rows = await db(
        request,
        lambda s: [app_view(a, apps.units(s, a.id)) for a in apps.listing(s, actor)],
    )
    return JSONResponse({"items": rows})


@describe(body=docs.MANIFEST, response=docs.REGISTERED, status=201)
@requires(MANAGE)
async def register_app(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    manifest = await _json(request)

    def work(session: Session) -> dict[str, Any]:
        done = apps.register(session, actor, manifest)
        session.flush()
        view = app_view(done.app, apps.units(session, done.app.id))
        return {**view, "client_secret": done.client_secret, "webhook_secret": done.webhook_secret}

    return JSONResponse(await db(request, work, commit=True), status_code=201)


@describe(response=docs.APP)
@requires(MANAGE)
async def get_app(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = path_id(request, "app_id")

    def work(session: Session) -> dict[str, Any]:
        return app_view(apps.get(session, actor, app_id), apps.units(session, app_id))

    return JSONResponse(await db(request, work))


@describe(body=docs.MANIFEST, response=docs.APP)
@requires(MANAGE)
async def update_app(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    manifest = await _json(request)

    def work(session: Session) -> dict[str, Any]:
        app = apps.update_manifest(session, actor, app_id, manifest)
        return app_view(app, apps.units(session, app_id))

    return JSONResponse(await db(request, work, commit=True))


@describe(body=docs.UNITS, response=docs.APP)
@requires(MANAGE)
async def set_units(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    body = await _json(request)
    codes = body.get("units") if isinstance(body, dict) else None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValidationFailed("units 必须是单位代码的列表", field="units")

    def work(session: Session) -> dict[str, Any]:
        app = apps.set_units(session, actor, app_id, codes)
        return app_view(app, apps.units(session, app_id))

    return JSONResponse(await db(request, work, commit=True))


@describe(response=docs.SECRET)
@requires(MANAGE)
async def rotate_secret(request: Request) -> Response:
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    which = request.path_params["which"]
    if which not in ("client-secret", "webhook-secret"):
        raise NotFound("找不到该操作")

    def work(session: Session) -> str:
        if which == "webhook-secret":
            return str(apps.rotate_webhook_secret(session, actor, app_id))
        return str(apps.rotate_client_secret(session, actor, app_id))

    secret = await db(request, work, commit=True)
    return JSONResponse({"secret": secret})


@describe(query=docs.FEED_PARAMS, response=docs.FEED)
@requires(FEED_PERMISSION)
async def feed(request: Request) -> Response:
    """Events within the caller's scope after ``cursor``, oldest first; ``next_cursor`` resumes."""
    actor = request_actor(request)
    cursor = query_int(request, "cursor", 0, high=2**62)
    limit = query_int(request, "limit", 100, high=1000)
    openness = _openness(request)
    page = await db(request, lambda s: openness.feed.page_for(s, actor, after=cursor, limit=limit))
    return JSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@describe(query=[docs.DELIVERY_STATUS], response=docs.DELIVERIES)
@requires(MANAGE)
async def deliveries(request: Request) -> Response:
    """The app's delivery log, newest first (``?status=dead`` for the dead letters)."""
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "done", "dead"):
        raise ValidationFailed("status 只能是 pending、done 或 dead", field="status")
    webhooks = _openness(request).webhooks
    rows = await db(request, lambda s: webhooks.log(s, actor, app_id, status=status))
    return JSONResponse({"items": rows})


@describe(response=docs.REPLAYED, status=202)
@requires(MANAGE)
async def replay(request: Request) -> Response:
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    delivery_id = path_id(request, "delivery_id")
    webhooks = _openness(request).webhooks
    await db(request, lambda s: webhooks.replay(s, actor, app_id, delivery_id), commit=True)
    return JSONResponse({"status": "pending"}, status_code=202)


@describe(response=docs.PAUSED)
@requires(MANAGE)
async def pause(request: Request) -> Response:
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    paused = request.url.path.endswith("/pause")
    webhooks = _openness(request).webhooks
    await db(request, lambda s: webhooks.set_paused(s, actor, app_id, paused), commit=True)
    return JSONResponse({"webhook_state": "paused" if paused else "active"})


FEED_ROUTES: list[BaseRoute] = [
    Route("/feed", feed, methods=["GET"]),
    Route("/apps/{app_id:int}/deliveries", deliveries, methods=["GET"]),
    Route("/apps/{app_id:int}/deliveries/{delivery_id:int}/replay", replay, methods=["POST"]),
    Route("/apps/{app_id:int}/webhooks/pause", pause, methods=["POST"]),
    Route("/apps/{app_id:int}/webhooks/resume", pause, methods=["POST"]),
]


@describe(body=docs.STATE, response=docs.APP)
@requires(MANAGE)
async def set_state(request: Request) -> Response:
    """``{"disabled": true}`` stops every token of the app and every webhook at once."""
    apps = _openness(request).apps
    actor = request_actor(request)
    app_id = path_id(request, "app_id")
    body = await _json(request)
    disabled = body.get("disabled") if isinstance(body, dict) else None
    if not isinstance(disabled, bool):
        raise ValidationFailed("disabled 必须是 true 或 false", field="disabled")

    def work(session: Session) -> dict[str, Any]:
        app = apps.set_disabled(session, actor, app_id, disabled)
        return app_view(app, apps.units(session, app_id))

    return JSONResponse(await db(request, work, commit=True))


ROUTES: list[BaseRoute] = [
    Route("/apps/manifest-schema", manifest_schema, methods=["GET"]),
    Route("/apps/{app_id:int}/state", set_state, methods=["PUT"]),
    Route("/apps", list_apps, methods=["GET"]),
    Route("/apps", register_app, methods=["POST"]),
    Route("/apps/{app_id:int}", get_app, methods=["GET"]),
    Route("/apps/{app_id:int}", update_app, methods=["PUT"]),
    Route("/apps/{app_id:int}/units", set_units, methods=["PUT"]),
    Route(
        "/apps/{app_id:int}/{which:str}",
        rotate_secret,
        methods=["POST"],
    ),
]
