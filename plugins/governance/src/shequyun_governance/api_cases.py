"""``/api/v1/plugins/governance/cases``: open, list, read and move 末端处置 cases.

Handlers translate HTTP into calls of :mod:`.cases`, :mod:`.caselist` and :mod:`.flow` and the
answers back into JSON; every rule lives there. A case outside the caller's reach is 404.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import (
    Actor,
    ValidationFailed,
    platform_from_request,
    read_json_object,
    requires,
)
from shequyun_sdk.openapi import describe, json_body, json_response
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import api_schemas as docs
from . import caselist, cases, categories, flow, knowledge
from .core import HANDLE, MANAGE, VIEW
from .present import available_steps, case_dict, step_dict
from .web import actor_of

__all__ = ["ROUTES", "case_document"]


def case_document(platform: Any, actor: Actor, case_id: int) -> dict[str, Any]:
    """One case with its history, what the actor may do next and suggested articles."""
    with platform.session() as session:
        case = cases.get(platform, session, actor, case_id)
        calendar = platform.work_calendar(session)
        document = case_dict(calendar, case)
        document["history"] = [step_dict(s) for s in cases.history(session, case_id)]
        document["suggested_articles"] = [
            {"id": a.id, "title": a.title, "unit": a.unit_name}
            for a in knowledge.suggested(platform, session, actor, case, limit=5)
        ]
    document["steps"] = available_steps(platform, actor, case)
    return document


_CASE = docs.CASE
_OPEN_BODY = {
    "type": "object",
    "required": ["title", "description", "category"],
    "properties": {
        "title": {"type": "string", "maxLength": 120},
        "description": {"type": "string", "maxLength": 4000},
        "category": {"type": "string", "description": "案件类别编码、名称或编号"},
        "unit_code": {"type": "string", "description": "承办单位（下级）编码；缺省为本单位立案"},
        "priority": {"type": "string", "enum": list(cases.PRIORITIES)},
        "due_days": {"type": "integer", "minimum": 1, "maximum": 60},
        "subject": {"type": "string", "description": "居民、家庭户或楼栋（picks 的 key）"},
        "address": {"type": "string"},
        "photos": {"type": "array", "items": {"type": "string"}},
    },
}


@requires(VIEW)
async def list_route(request: Request) -> Response:
    """Cases the caller sees: open first by due date; ``status``, ``category_id``, ``source``,
    ``unit_code``, ``mine``, ``due_before``, ``q``, ``limit`` (≤200), ``offset``."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = dict(request.query_params)
    filters = caselist.read_filters(params)
    limit = query_int(request, "limit", 50, low=1, high=200)
    offset = query_int(request, "offset", 0)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            rows, total = caselist.list_cases(
                platform, session, actor, filters, limit=limit, offset=offset
            )
            calendar = platform.work_calendar(session)
            return {"items": [case_dict(calendar, r) for r in rows], "total": total}

    return JSONResponse(await run_in_threadpool(work))


list_route.__openapi__ = {  # type: ignore[attr-defined]
    "parameters": [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("status", "category_id", "source", "unit_code", "mine", "due_before", "q")
    ]
    + [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ],
    "responses": {"200": json_response(docs.CASE_PAGE)},
}


@requires(HANDLE)
async def open_route(request: Request) -> Response:
    """Open a case: 派单 to a unit below (``governance.dispatch``) or 立案 for one's own unit."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    raw = await read_json_object(request)

    def work() -> int:
        with platform.session() as session:
            opening = cases.check_opening(platform, session, actor, raw)
            case = cases.open_case(platform, session, actor, opening, source=_source(actor, raw))
            assert case.id is not None
            return case.id

    case_id = await run_in_threadpool(work)
    document = await run_in_threadpool(case_document, platform, actor, case_id)
    return JSONResponse(document, status_code=201)


open_route.__openapi__ = {  # type: ignore[attr-defined]
    "requestBody": {"required": True, "content": {"application/json": {"schema": _OPEN_BODY}}},
    "responses": {
        "201": {"description": "已立案或派单", "content": {"application/json": {"schema": _CASE}}}
    },
}


def _source(actor: Actor, raw: dict[str, Any]) -> str:
    code = raw.get("unit_code")
    unit = actor.unit
    return "dispatch" if code and unit is not None and code != unit.code else "self"


@describe(response=docs.CASE)
@requires(VIEW)
async def read_route(request: Request) -> Response:
    """One case with its whole history and the steps the caller may take now."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    case_id = path_id(request, "case_id")
    return JSONResponse(await run_in_threadpool(case_document, platform, actor, case_id))


@requires(VIEW)
async def step_route(request: Request) -> Response:
    """Take a step: accept, handle, report, verify, close, reject, escalate, reassign, extend,
    extend_grant, extend_deny, supervise, revisit. Body: ``note``, ``photos``, ``unit_code``,
    ``days``, ``passed``, ``satisfaction``, ``version`` (409 when stale)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    case_id = path_id(request, "case_id")
    action = str(request.path_params["action"])
    raw = await read_json_object(request)
    await run_in_threadpool(flow.take_step, platform, actor, case_id, action, raw)
    return JSONResponse(await run_in_threadpool(case_document, platform, actor, case_id))


step_route.__openapi__ = {  # type: ignore[attr-defined]
    "requestBody": json_body(docs.STEP),
    "parameters": [
        {
            "name": "action",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": sorted(flow.STEPS)},
        }
    ],
    "responses": {
        "200": {"description": "已办理", "content": {"application/json": {"schema": _CASE}}},
        "409": {"description": "案件状态不允许，或已被他人处理"},
    },
}


@describe(query=[docs.CATEGORY_KIND], response=docs.CATEGORIES)
@requires(VIEW)
async def categories_route(request: Request) -> Response:
    """The managed categories: ``kind=log`` (民情日志) or ``case`` (default)."""
    platform = platform_from_request(request)
    kind = request.query_params.get("kind", "case")
    if kind not in categories.KINDS:
        raise ValidationFailed("kind 应为 log 或 case", field="kind")

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            return [categories.as_dict(c) for c in categories.listed(session, kind)]

    return JSONResponse({"items": await run_in_threadpool(work)})


@describe(body=docs.NEW_CATEGORY, response=docs.CATEGORY, status=201)
@requires(MANAGE)
async def add_category_route(request: Request) -> Response:
    """Add a category to a managed list (``governance.manage``)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    raw = await read_json_object(request)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            return categories.as_dict(categories.add(platform, session, actor, raw))

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(query=docs.PICK_PARAMS, response=docs.PICKS)
@requires(VIEW)
async def picks_route(request: Request) -> Response:
    """Residents, households or buildings in the caller's scope for a picker: ``kind``, ``q``,
    ``unit_code``, ``limit`` (≤50)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = request.query_params
    limit = query_int(request, "limit", 20, low=1, high=50)

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            found = platform.pick(
                session,
                actor,
                params.get("kind", "resident"),
                q=params.get("q", ""),
                unit_code=params.get("unit_code") or None,
                limit=min(max(limit, 1), 50),
                permission=VIEW,
            )
            return [p.to_dict() for p in found]

    return JSONResponse({"items": await run_in_threadpool(work)})


ROUTES: list[BaseRoute] = [
    Route("/categories", categories_route, methods=["GET"]),
    Route("/categories", add_category_route, methods=["POST"]),
    Route("/picks", picks_route, methods=["GET"]),
    Route("/cases", list_route, methods=["GET"]),
    Route("/cases", open_route, methods=["POST"]),
    Route("/cases/{case_id}", read_route, methods=["GET"]),
    Route("/cases/{case_id}/steps/{action}", step_route, methods=["POST"]),
]
