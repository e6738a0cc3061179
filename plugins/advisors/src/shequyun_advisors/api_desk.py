"""API routes for points, advisors, service records, resources and monthly figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shequyun_sdk import Actor, ValidationFailed, read_json_object, requires
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id
from shequyun_sdk.web import JSONResponse
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import api_schemas as docs
from . import desk
from .core import BEIJING, MANAGE, SERVE, VIEW, area
from .models import Advisor, AdvisorPoint, Resource

__all__ = ["ROUTES"]


async def _call(request: Request, work: Any) -> Any:
    from .api import in_session

    return await in_session(request, work)


@describe(body=docs.POINT, response=docs.CREATED, status=201)
@requires(MANAGE)
async def create_point(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return {"id": desk.create_point(platform, session, actor, body).id}

    return JSONResponse(await _call(request, work), status_code=201)


@describe(response=docs.POINTS)
@requires(VIEW)
async def list_points(request: Request) -> Response:
    def work(platform: Any, session: Any, actor: Actor) -> Any:
        rows = session.exec(
            select(AdvisorPoint)
            .where(platform.scope_filter(actor, VIEW, AdvisorPoint.unit_id))
            .order_by(col(AdvisorPoint.id))
        ).all()
        advisors = session.exec(
            select(Advisor).where(platform.scope_filter(actor, VIEW, Advisor.unit_id))
        ).all()
        return [
            {
                "id": p.id,
                "name": p.name,
                "kind": desk.POINT_KINDS[p.kind],
                "address": p.address,
                "phone": p.phone,
                "advisors": [
                    {"id": a.id, "name": a.name, "kind": desk.ADVISOR_KINDS[a.kind]}
                    for a in advisors
                    if a.point_id == p.id
                ],
            }
            for p in rows
        ]

    return JSONResponse({"items": await _call(request, work)})


@describe(body=docs.ADVISOR, response=docs.CREATED, status=201)
@requires(MANAGE)
async def create_advisor(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return {"id": desk.create_advisor(platform, session, actor, body).id}

    return JSONResponse(await _call(request, work), status_code=201)


@describe(body=docs.SERVICE, response=docs.CREATED, status=201)
@requires(SERVE)
async def record_service(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return {"id": desk.record_service(platform, session, actor, body).id}

    return JSONResponse(await _call(request, work), status_code=201)


@describe(query=[docs.MINE], response=docs.ITEMS)
@requires(SERVE)
async def service_log(request: Request) -> Response:
    mine = request.query_params.get("mine", "1") != "0"

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return desk.service_log(platform, session, actor, mine=mine)

    return JSONResponse({"items": await _call(request, work)})


@describe(body=docs.RESOURCE, response=docs.CREATED, status=201)
@requires(MANAGE)
async def create_resource(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return {"id": desk.create_resource(platform, session, actor, body).id}

    return JSONResponse(await _call(request, work), status_code=201)


@describe(response=docs.ITEMS)
@requires(VIEW)
async def list_resources(request: Request) -> Response:
    def work(platform: Any, session: Any, actor: Actor) -> Any:
        rows = session.exec(
            select(Resource).where(col(Resource.active)).order_by(col(Resource.id))
        ).all()
        return [desk.resource_view(r) for r in rows]

    return JSONResponse({"items": await _call(request, work)})


@describe(response=docs.ITEMS)
@requires(VIEW)
async def resident_resources(request: Request) -> Response:
    resident_id = path_id(request, "resident_id")

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return desk.match_resources(platform, session, actor, resident_id)

    return JSONResponse({"items": await _call(request, work)})


@describe(query=docs.MONTH_PARAMS, response=docs.MONTHLY)
@requires(VIEW)
async def monthly(request: Request) -> Response:
    params = request.query_params
    month = params.get("month") or datetime.now(BEIJING).strftime("%Y-%m")
    try:
        datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise ValidationFailed("月份格式应为 YYYY-MM", field="month") from None

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        unit = area(platform, session, actor, VIEW, params.get("unit"))
        return desk.monthly(platform, session, actor, unit, month)

    return JSONResponse(await _call(request, work))


ROUTES = [
    Route("/points", list_points, methods=["GET"]),
    Route("/points", create_point, methods=["POST"]),
    Route("/advisors", create_advisor, methods=["POST"]),
    Route("/services", service_log, methods=["GET"]),
    Route("/services", record_service, methods=["POST"]),
    Route("/resources", list_resources, methods=["GET"]),
    Route("/resources", create_resource, methods=["POST"]),
    Route("/residents/{resident_id}/resources", resident_resources, methods=["GET"]),
    Route("/figures/monthly", monthly, methods=["GET"]),
]
