"""``/api/v1/quality``: rules, the findings to work through, decisions on them, scores.

Handlers translate the request into one call of :class:`.service.QualityService` and its answer
into JSON; scope, permissions, validation and audit are the service's, as for the portal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from ..openapi import describe
from ..portal.common import db
from .rules import Rule
from .service import MANAGE, READ

__all__ = ["ROUTES", "in_session", "rule_view"]


def _service(request: Request) -> Any:
    return request.app.state.kernel.quality


async def in_session(request: Request, work: Callable[[Session], Any], *, commit: bool) -> Any:
    """``work(session)`` off the event loop, committed when asked (the portal's ``db``)."""
    return await db(request, work, commit=commit)


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "version": rule.version,
        "kind": rule.kind,
        "check": rule.check,
        "params": dict(rule.params),
        "level": rule.level,
        "title": rule.title,
        "fix": rule.fix,
        "shipped": rule.shipped,
        "active": rule.active,
        "area": "city" if rule.unit_path is None else rule.unit_path,
        "created_by": rule.created_by,
    }


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed(f"{name} 应为 {low} 到 {high} 之间的整数", field=name)
    return int(raw)


def _resident_id(request: Request) -> int:
    raw = request.path_params["resident_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed("居民编号无效", field="resident_id")
    return int(raw)


@requires(READ)
async def list_rules(request: Request) -> Response:
    """The rules in force for your area: the shipped set, the city's and your district's."""
    actor = request_actor(request)
    found = await in_session(
        request, lambda s: _service(request).visible_rules(s, actor), commit=False
    )
    return JSONResponse({"rules": [rule_view(r) for r in found]})


@requires(MANAGE)
async def save_rule(request: Request) -> Response:
    """Add a rule for your area, or a new version of one (the city may change shipped rules).

    Findings follow in the background, within moments (the outbox's worker).
    """
    body = await read_json_object(request)
    actor = request_actor(request)
    rule = await in_session(
        request, lambda s: _service(request).save_rule(s, actor, body), commit=True
    )
    return JSONResponse({"rule": rule_view(rule)}, status_code=201)


@requires(READ)
async def rule_versions(request: Request) -> Response:
    """Every version of a rule saved in the portal, newest first."""
    actor = request_actor(request)
    code = request.path_params["code"]
    rows = await in_session(
        request, lambda s: _service(request).rule_versions(s, actor, code), commit=False
    )
    return JSONResponse(
        {
            "versions": [
                {
                    "version": r.version,
                    "check": r.check,
                    "params": r.params,
                    "level": r.level,
                    "title": r.title,
                    "fix": r.fix,
                    "active": r.active,
                    "created_at": r.created_at.isoformat(),
                    "created_by": r.created_by,
                }
                for r in rows
            ]
        }
    )


_FINDING_PARAMETERS = [
    {
        "name": "unit",
        "in": "query",
        "description": "单位编码（缺省为您的整个授权范围）",
        "schema": {"type": "string"},
    },
    {
        "name": "level",
        "in": "query",
        "description": "级别",
        "schema": {"type": "string", "enum": ["error", "warning"]},
    },
    {"name": "rule", "in": "query", "description": "规则编码", "schema": {"type": "string"}},
    {
        "name": "limit",
        "in": "query",
        "description": "每页条数，缺省 50",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
    {
        "name": "offset",
        "in": "query",
        "description": "跳过的条数",
        "schema": {"type": "integer", "minimum": 0},
    },
]


@describe(parameters=_FINDING_PARAMETERS)
@requires(READ)
async def list_findings(request: Request) -> Response:
    """The open findings in your area (a cadre: their committee), errors first."""
    actor = request_actor(request)
    params = request.query_params
    limit = _int(request, "limit", 50, 1, 500)
    offset = _int(request, "offset", 0, 0, 10_000_000)
    for name in ("unit", "rule"):
        if len(params.get(name) or "") > 60:
            raise ValidationFailed(f"{name} 过长", field=name)

    def work(session: Session) -> tuple[int, list[dict[str, Any]]]:
        return _service(request).findings(  # type: ignore[no-any-return]
            session,
            actor,
            unit_code=params.get("unit") or None,
            level=params.get("level") or None,
            rule=params.get("rule") or None,
            limit=limit,
            offset=offset,
        )

    total, page = await in_session(request, work, commit=False)
    for item in page:
        item["found_at"] = item["found_at"].isoformat()
    return JSONResponse({"total": total, "items": page})


@requires(READ)
async def confirm_resident(request: Request) -> Response:
    """Record that a resident's record was checked with them today (clears 未核实)."""
    actor = request_actor(request)
    resident_id = _resident_id(request)
    await in_session(
        request, lambda s: _service(request).confirm(s, actor, resident_id), commit=True
    )
    return JSONResponse({"confirmed": True})


@requires(READ)
async def waive_finding(request: Request) -> Response:
    """Mark a finding as checked and right (``rule``, ``note``): its rule skips the resident."""
    body = await read_json_object(request)
    actor = request_actor(request)
    resident_id = _resident_id(request)
    await in_session(
        request,
        lambda s: _service(request).waive(
            s, actor, resident_id, body.get("rule"), body.get("note")
        ),
        commit=True,
    )
    return JSONResponse({"waived": True}, status_code=201)


@requires(READ)
async def unit_scores(request: Request) -> Response:
    """A unit's quality scores and its children's, best first (404 outside your grant)."""
    actor = request_actor(request)
    code = request.path_params["code"]
    total, children = await in_session(
        request, lambda s: _service(request).scores(s, actor, code), commit=False
    )
    ranked = sorted(children, key=lambda c: (c.score is None, -(c.score or 0)))
    return JSONResponse({**total.view(), "children": [c.view() for c in ranked]})


@describe(
    parameters=[
        {
            "name": "days",
            "in": "query",
            "description": "天数，缺省 90",
            "schema": {"type": "integer", "minimum": 1, "maximum": 400},
        }
    ]
)
@requires(READ)
async def unit_trend(request: Request) -> Response:
    """A unit's score per day, as the daily job kept it."""
    actor = request_actor(request)
    days = _int(request, "days", 90, 1, 400)
    code = request.path_params["code"]
    points = await in_session(
        request, lambda s: _service(request).trend(s, actor, code, days=days), commit=False
    )
    return JSONResponse({"trend": points})


ROUTES: list[BaseRoute] = [
    Route("/quality/rules", list_rules, methods=["GET"]),
    Route("/quality/rules", save_rule, methods=["POST"]),
    Route("/quality/rules/{code}/versions", rule_versions, methods=["GET"]),
    Route("/quality/findings", list_findings, methods=["GET"]),
    Route("/quality/residents/{resident_id}/confirm", confirm_resident, methods=["POST"]),
    Route("/quality/residents/{resident_id}/waivers", waive_finding, methods=["POST"]),
    Route("/quality/units/{code}/scores", unit_scores, methods=["GET"]),
    Route("/quality/units/{code}/trend", unit_trend, methods=["GET"]),
]
