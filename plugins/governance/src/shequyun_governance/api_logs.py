"""``/api/v1/plugins/governance/logs``: 民情日志 entries, turning one into a case, coverage."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import (
    ValidationFailed,
    platform_from_request,
    plugin_from_request,
    read_json_object,
    requires,
)
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import api_schemas as docs
from . import fieldlog
from .api_cases import case_document
from .core import HANDLE, LOG, VIEW
from .web import actor_of

__all__ = ["ROUTES"]


@describe(query=docs.LOG_PARAMS, response=docs.LOGS)
@requires(VIEW)
async def list_logs(request: Request) -> Response:
    """Entries in the caller's scope, newest first: ``unit_code``, ``follow_up``, ``limit``,
    ``offset``."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = request.query_params
    limit = query_int(request, "limit", 50, low=1, high=200)
    offset = query_int(request, "offset", 0)
    follow = params.get("follow_up")

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            unit = None
            if params.get("unit_code"):
                unit = platform.unit(session, params["unit_code"])
                if unit is None:
                    raise ValidationFailed("找不到该组织", field="unit_code")
            rows = fieldlog.listed(
                platform,
                session,
                actor,
                unit=unit,
                follow_up=None if follow is None else follow in ("1", "true"),
                limit=max(limit, 1),
                offset=offset,
            )
            return [fieldlog.log_dict(r) for r in rows]

    return JSONResponse({"items": await run_in_threadpool(work)})


@describe(body=docs.NEW_LOG, response=docs.LOG, status=201)
@requires(LOG)
async def create_log(request: Request) -> Response:
    """Record a visit or an observation: ``kind``, ``category``, ``body``, ``subject`` (a pick
    key), ``follow_up``, ``occurred_on``, ``photos`` (ids from ``POST /api/v1/attachments``)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    raw = await read_json_object(request)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            return fieldlog.log_dict(fieldlog.record(platform, session, actor, raw))

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(response=docs.LOG)
@requires(VIEW)
async def read_log(request: Request) -> Response:
    """One entry."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    log_id = path_id(request, "log_id")

    def work() -> dict[str, Any]:
        with platform.session() as session:
            return fieldlog.log_dict(fieldlog.get(platform, session, actor, log_id))

    return JSONResponse(await run_in_threadpool(work))


@describe(body=docs.LOG_TO_CASE, response=docs.CASE, status=201)
@requires(HANDLE)
async def log_to_case(request: Request) -> Response:
    """Turn an entry into a case of the committee (立案): ``category`` (case category), and
    optionally ``title``, ``description``, ``priority``, ``due_days``."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    log_id = path_id(request, "log_id")
    raw = await read_json_object(request)

    def work() -> int:
        with platform.session() as session:
            return int(fieldlog.to_case(platform, session, actor, log_id, raw).id or 0)

    case_id = await run_in_threadpool(work)
    return JSONResponse(
        await run_in_threadpool(case_document, platform, actor, case_id), status_code=201
    )


@describe(query=docs.COVERAGE_PARAMS, response=docs.COVERAGE)
@requires(VIEW)
async def coverage(request: Request) -> Response:
    """Visit coverage per committee in scope (``unit_code`` narrows, ``months`` default from the
    settings); with a committee's ``unit_code`` also the households not visited."""
    platform = platform_from_request(request)
    plugin = plugin_from_request(request)
    actor = actor_of(request)
    params = request.query_params
    default_months = int(plugin.settings.get("coverage_months", 3))
    months = query_int(request, "months", default_months, low=1, high=24)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            unit = None
            if params.get("unit_code"):
                unit = platform.unit(session, params["unit_code"])
                if unit is None or not platform.can(actor, VIEW, unit):
                    raise ValidationFailed("找不到该组织", field="unit_code")
            rows = fieldlog.coverage(platform, session, actor, months=months, unit=unit)
            result: dict[str, Any] = {
                "months": months,
                "households": sum(r.households for r in rows),
                "visited": sum(r.visited for r in rows),
                "committees": [
                    {
                        "unit_id": r.unit_id,
                        "name": r.unit_name,
                        "households": r.households,
                        "visited": r.visited,
                        "share": round(r.share, 4),
                    }
                    for r in rows
                ],
            }
            if unit is not None and unit.level == "committee":
                result["not_visited"] = [
                    p.to_dict()
                    for p in fieldlog.not_visited(platform, session, actor, unit, months=months)
                ]
            return result

    return JSONResponse(await run_in_threadpool(work))


ROUTES: list[BaseRoute] = [
    Route("/logs", list_logs, methods=["GET"]),
    Route("/logs", create_log, methods=["POST"]),
    Route("/logs/{log_id}", read_log, methods=["GET"]),
    Route("/logs/{log_id}/case", log_to_case, methods=["POST"]),
    Route("/coverage", coverage, methods=["GET"]),
]
