"""The intake of the city operations platform (城运平台): Open311 GeoReport v2-like requests.

The platform's account holds ``governance.operations_platform`` on the city (or a district) and
calls with its API token. ``POST /intake/requests`` is **idempotent by** ``service_request_id``
(its own id): sending the same request again answers 200 with the case already opened, never a
second case, even when two sends race. The request goes to ``unit_code``, or — like
FixMyStreet, by place — to the committee of the building named in ``address_string``
(``潍坊一村12号楼``). Status flows back as outbox events: every step publishes
``governance.case.<step>`` and ``case.updated`` with ``source = "city"`` and ``source_ref`` the
platform's id (relay them with a webhook or the broker bridge); ``GET /intake/requests/{id}``
answers with Open311's status fields.
"""

from __future__ import annotations

import re
from typing import Any

from shequyun_sdk import (
    Actor,
    NotFound,
    ValidationFailed,
    platform_from_request,
    read_json_object,
    requires,
)
from shequyun_sdk.openapi import describe, json_response
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import api_schemas as docs
from . import cases, categories
from .core import INTAKE, VIEW, acting_unit
from .models import Case
from .web import actor_of

__all__ = ["ROUTES"]

SOURCE = "city"
_BUILDING = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]+?\d+[A-Za-z]?号楼)")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")


def open311(platform: Any, session: Any, case: Case) -> dict[str, Any]:
    """A case in Open311 GeoReport v2 terms (plus our own number and deadline)."""
    steps = cases.history(session, int(case.id or 0))
    notes = next((s.note for s in reversed(steps) if s.note), "")
    calendar = platform.work_calendar(session)
    return {
        "service_request_id": case.source_ref,
        "case_id": case.id,
        "case_number": case.number,
        "status": "closed" if case.status == "closed" else "open",
        "status_detail": case.status,
        "status_label": cases.STATUSES[case.status],
        "status_notes": notes,
        "service_name": case.category_name,
        "description": case.description,
        "agency_responsible": case.unit_name,
        "address": case.address,
        "lat": case.latitude,
        "long": case.longitude,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.due_on.isoformat(),
        "punctuality": cases.punctuality(calendar, case),
    }


def _opening_input(
    platform: Any, session: Any, actor: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    description = body.get("description")
    raw: dict[str, Any] = {
        "title": body.get("title") or (description[:30] if isinstance(description, str) else None),
        "description": description,
        "category": body.get("service_code"),
        "address": body.get("address_string"),
        "lat": body.get("lat"),
        "long": body.get("long"),
        "priority": body.get("priority") or "normal",
        "unit_code": body.get("unit_code"),
    }
    if not raw["unit_code"] and isinstance(raw["address"], str):
        found = _BUILDING.search(raw["address"])
        if found:
            picks = platform.pick(
                session, actor, "building", q=found.group(1), limit=2, permission=VIEW
            )
            if len(picks) == 1:
                raw["unit_code"] = picks[0].committee.code
                raw["subject"] = picks[0].key
    if not raw["unit_code"]:
        raise ValidationFailed(
            "请填写承办单位编码 unit_code，或在 address_string 中写明小区和楼号"
            "（如 潍坊一村12号楼）",
            field="unit_code",
        )
    return raw


@requires(INTAKE)
async def submit(request: Request) -> Response:
    """Push a request from the city operations platform; 201 when opened, 200 when it was."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    body = await read_json_object(request)
    external = body.get("service_request_id")
    if not isinstance(external, str) or not _EXTERNAL_ID.fullmatch(external):
        raise ValidationFailed(
            "service_request_id 应为 1–80 位字母、数字或 _ . : -", field="service_request_id"
        )

    def work() -> tuple[dict[str, Any], int]:
        with platform.session() as session:
            existing = cases.by_source(session, SOURCE, external)
            if existing is not None:
                cases.get(platform, session, actor, int(existing.id or 0))
                return open311(platform, session, existing), 200
            raw = _opening_input(platform, session, actor, body)
            opening = cases.check_opening(platform, session, actor, raw)
            try:
                case = cases.open_case(
                    platform,
                    session,
                    actor,
                    opening,
                    source=SOURCE,
                    source_ref=external,
                    origin=acting_unit(actor),
                )
            except cases.DuplicateSource:
                session.rollback()
                raced = cases.by_source(session, SOURCE, external)
                assert raced is not None
                return open311(platform, session, raced), 200
            return open311(platform, session, case), 201

    document, status = await run_in_threadpool(work)
    return JSONResponse(document, status_code=status)


submit.__openapi__ = {  # type: ignore[attr-defined]
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["service_request_id", "service_code", "description"],
                    "properties": {
                        "service_request_id": {"type": "string", "description": "城运平台编号"},
                        "service_code": {"type": "string", "description": "案件类别编码"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "unit_code": {"type": "string"},
                        "address_string": {"type": "string"},
                        "lat": {"type": "number"},
                        "long": {"type": "number"},
                        "priority": {"type": "string", "enum": list(cases.PRIORITIES)},
                    },
                }
            }
        },
    },
    "responses": {
        "201": json_response(docs.OPEN311, {"description": "已立案并派单"}),
        "200": json_response(docs.OPEN311, {"description": "同一编号已推送过：返回已有案件"}),
    },
}


@describe(response=docs.OPEN311)
@requires(INTAKE)
async def status(request: Request) -> Response:
    """The state of a pushed request, by the platform's own id (Open311 fields)."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    external = str(request.path_params["external_id"])

    def work() -> dict[str, Any]:
        with platform.session() as session:
            case = cases.by_source(session, SOURCE, external)
            if case is None:
                raise NotFound("没有该编号的案件", field="service_request_id")
            cases.get(platform, session, actor, int(case.id or 0))
            return open311(platform, session, case)

    return JSONResponse(await run_in_threadpool(work))


@describe(response=docs.SERVICES)
@requires(INTAKE)
async def services(request: Request) -> Response:
    """The service list (Open311 ``services``): the case categories and their time limits."""
    platform = platform_from_request(request)

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            return [
                {
                    "service_code": c.code,
                    "service_name": c.name,
                    "description": f"{c.name}，{c.due_days} 个工作日内办结",
                    "metadata": False,
                    "type": "realtime",
                    "due_working_days": c.due_days,
                }
                for c in categories.listed(session, "case")
            ]

    return JSONResponse(await run_in_threadpool(work))


ROUTES: list[BaseRoute] = [
    Route("/intake/services", services, methods=["GET"]),
    Route("/intake/requests", submit, methods=["POST"]),
    Route("/intake/requests/{external_id}", status, methods=["GET"]),
]
