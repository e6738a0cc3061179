"""``/api/v1/quality``: rules, the findings to work through, decisions on them, scores.

Handlers translate the request into one call of :class:`.service.QualityService` and its answer
into JSON; scope, permissions, validation and audit are the service's, as for the portal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import BOOLEAN, INTEGER, STRING, any_object, array, obj
from shequyun_sdk.params import path_id, query_int
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


_RULE = obj(
    {
        "code": STRING,
        "version": INTEGER,
        "kind": STRING,
        "check": STRING,
        "params": any_object(),
        "level": STRING,
        "title": STRING,
        "fix": STRING,
        "shipped": BOOLEAN,
        "active": BOOLEAN,
        "area": STRING,
        "created_by": {},
    },
    required=["code", "version", "check", "level"],
)


@describe(response=obj({"rules": array(_RULE)}, required=["rules"]))
@requires(READ)
async def list_rules(request: Request) -> Response:
    """The rules in force for your area: the shipped set, the city's and your district's."""
    actor = request_actor(request)
    found = await in_session(
        request, lambda s: _service(request).visible_rules(s, actor), commit=False
    )
    return JSONResponse({"rules": [rule_view(r) for r in found]})


@describe(
    body=obj(
        {
            "code": STRING,
            "kind": STRING,
            "check": STRING,
            "params": any_object(),
            "level": {"enum": ["error", "warning"]},
            "title": STRING,
            "fix": STRING,
            "active": BOOLEAN,
        },
        required=["code", "check", "level", "title"],
    ),
    response=obj({"rule": _RULE}, required=["rule"]),
    status=201,
)
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


@describe(response=obj({"versions": array(any_object())}, required=["versions"]))
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


@describe(
    parameters=_FINDING_PARAMETERS,
    response=obj(
        {"total": INTEGER, "items": array(any_object("一条待处理的问题"))}, required=["items"]
    ),
)
@requires(READ)
async def list_findings(request: Request) -> Response:
    """The open findings in your area (a cadre: their committee), errors first."""
    actor = request_actor(request)
    params = request.query_params
    limit = query_int(request, "limit", 50, low=1, high=500)
    offset = query_int(request, "offset", 0, high=10_000_000)
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


@describe(response=obj({"confirmed": BOOLEAN}, required=["confirmed"]))
@requires(READ)
async def confirm_resident(request: Request) -> Response:
    """Record that a resident's record was checked with them today (clears 未核实)."""
    actor = request_actor(request)
    resident_id = path_id(request, "resident_id")
    await in_session(
        request, lambda s: _service(request).confirm(s, actor, resident_id), commit=True
    )
    return JSONResponse({"confirmed": True})


@describe(
    body=obj({"rule": STRING, "note": STRING}, required=["rule"]),
    response=obj({"waived": BOOLEAN}, required=["waived"]),
    status=201,
)
@requires(READ)
async def waive_finding(request: Request) -> Response:
    """Mark a finding as checked and right (``rule``, ``note``): its rule skips the resident."""
    body = await read_json_object(request)
    actor = request_actor(request)
    resident_id = path_id(request, "resident_id")
    await in_session(
        request,
        lambda s: _service(request).waive(
            s, actor, resident_id, body.get("rule"), body.get("note")
        ),
        commit=True,
    )
    return JSONResponse({"waived": True}, status_code=201)


@describe(
    response=obj(
        {
            "unit": any_object(),
            "score": {},
            "completeness": {},
            "freshness": {},
            "children": array(any_object()),
        },
        required=["children"],
    )
)
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
    ],
    response=obj({"trend": array(any_object("一天的得分"))}, required=["trend"]),
)
@requires(READ)
async def unit_trend(request: Request) -> Response:
    """A unit's score per day, as the daily job kept it."""
    actor = request_actor(request)
    days = query_int(request, "days", 90, low=1, high=400)
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
