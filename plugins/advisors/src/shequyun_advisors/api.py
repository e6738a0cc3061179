"""The JSON API under ``/api/v1/plugins/advisors/``: handlers only translate.

Each route is guarded by its permission; every rule (scope, masking, audit, history, events) is
in the service modules, which the pages call too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from shequyun_sdk import (
    Actor,
    NotFound,
    ValidationFailed,
    actor_from_request,
    platform_from_request,
    read_json_object,
    requires,
)
from shequyun_sdk.csvfiles import csv_bytes
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import api_desk, funnel, notices, outreach, policies, pool
from . import api_schemas as docs
from .core import OUTREACH, POLICIES, VIEW, area
from .policy.evaluate import Facts, evaluate
from .policy.loader import PolicyError

__all__ = ["ROUTES"]

T = TypeVar("T")


def _actor(request: Request) -> Actor:
    actor = actor_from_request(request)
    assert actor is not None  # requires() let the request through
    return actor


async def in_session(request: Request, work: Callable[..., T], *args: Any, **kw: Any) -> T:
    platform = platform_from_request(request)

    def call() -> T:
        with platform.session() as session:
            return work(platform, session, _actor(request), *args, **kw)

    return await run_in_threadpool(call)


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", field="day") from None


# -- policy pool ------------------------------------------------------------------------------


@describe(query=[docs.DAY], response=docs.POLICIES)
@requires(VIEW)
async def list_policies(request: Request) -> Response:
    def work(platform: Any, session: Any, actor: Actor) -> Any:
        day = _day(request.query_params.get("day")) or pool.today()
        return [policies.policy_summary(p, day) for p in pool.pool(session, in_force=False)]

    return JSONResponse({"items": await in_session(request, work)})


@describe(response=docs.POLICY)
@requires(VIEW)
async def get_policy(request: Request) -> Response:
    def work(platform: Any, session: Any, actor: Actor) -> Any:
        policy = pool.get_policy(session, request.path_params["policy_id"])
        if policy is None:
            raise NotFound("找不到该政策", field="policy_id")
        return policies.policy_detail(session, policy, pool.today())

    return JSONResponse(await in_session(request, work))


@describe(body=docs.NEW_POLICY, response=docs.SAVED_POLICY, status=201)
@requires(POLICIES)
async def save_policy(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        try:
            row = policies.save_policy(
                platform, session, actor, body.get("source"), body.get("note", "")
            )
        except PolicyError as exc:
            details = [{"field": where, "message": message} for where, message in exc.problems]
            raise ValidationFailed(
                details[0]["message"], field=details[0]["field"], details=details
            ) from None
        return {"id": row.policy_id, "version": row.version}

    return JSONResponse(await in_session(request, work), status_code=201)


@describe(body=docs.EVALUATE, response=docs.EVALUATED)
@requires(VIEW)
async def evaluate_facts(request: Request) -> Response:
    """A questionnaire: one person's facts → each policy's verdict and reasons (no data read)."""
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        day = _day(body.get("day")) or pool.today()
        try:
            facts = Facts.from_mapping(body)
        except (TypeError, ValueError, AttributeError):
            raise ValidationFailed("居民信息格式不正确", field="person") from None
        wanted = body.get("policy")
        results = [
            evaluate(p, facts, day).as_dict()
            for p in pool.pool(session, day=day)
            if wanted in (None, p.id)
        ]
        if wanted and not results:
            raise NotFound("找不到该政策", field="policy")
        return {"day": day.isoformat(), "results": results}

    return JSONResponse(await in_session(request, work))


@describe(response=docs.ITEMS)
@requires(VIEW)
async def resident_policies(request: Request) -> Response:
    resident_id = path_id(request, "resident_id")

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        return policies.resident_policies(platform, session, actor, resident_id)

    return JSONResponse({"items": await in_session(request, work)})


# -- outreach ---------------------------------------------------------------------------------


@describe(body=docs.AREA, response=docs.SYNCED)
@requires(OUTREACH)
async def sync(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        unit = area(platform, session, actor, OUTREACH, body.get("unit"))
        found = outreach.sync(platform, session, actor, unit, pool.pool(session))
        return {"unit": unit.code, "found": found}

    return JSONResponse(await in_session(request, work))


def _candidates(request: Request, *, export: bool) -> Callable[..., Any]:
    params = request.query_params

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        unit = area(platform, session, actor, OUTREACH, params.get("unit"))
        return outreach.list_candidates(
            platform,
            session,
            actor,
            unit,
            committees=funnel.committee_ids(platform, session, unit),
            policy_id=params.get("policy") or None,
            status=params.get("status") or "open",
            after=query_int(request, "after"),
            limit=query_int(request, "limit", 50, low=1, high=500 if export else 200),
            export=export,
        )

    return work


@describe(query=docs.CANDIDATE_PARAMS, response=docs.CANDIDATES)
@requires(OUTREACH)
async def candidates(request: Request) -> Response:
    items, after = await in_session(request, _candidates(request, export=False))
    return JSONResponse({"items": items, "next": after})


@describe(query=docs.CANDIDATE_PARAMS, responses=docs.CSV)
@requires(OUTREACH)
async def export_candidates(request: Request) -> Response:
    items, _ = await in_session(request, _candidates(request, export=True))
    header = ["政策", "姓名", "性别", "年龄", "居委", "地址"]
    header += ["身份证号", "电话", "判断", "状态", "依据"]
    rows = []
    for item in items:
        person = item["resident"] or {}
        rows.append(
            [
                item["policy"]["name"],
                person.get("name"),
                person.get("gender"),
                person.get("age"),
                (person.get("unit") or {}).get("name"),
                person.get("address"),
                person.get("id_number"),
                person.get("phone"),
                item["verdict_title"],
                item["status_title"],
                "；".join(r["reason"] for r in item["reasons"]),
            ]
        )
    return Response(
        csv_bytes(rows, header=header),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''zhengce-zhaoren.csv"},
    )


@describe(response=docs.CASE)
@requires(OUTREACH)
async def get_case(request: Request) -> Response:
    case_id = path_id(request, "case_id")

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        row = outreach.get_case(platform, session, actor, case_id)
        view = outreach.views(platform, session, actor, [row])[0]
        return {**view, "history": outreach.history(session, row.id or 0)}

    return JSONResponse(await in_session(request, work))


@describe(body=docs.OUTCOME, response=docs.RECORDED)
@requires(OUTREACH)
async def record_outcome(request: Request) -> Response:
    case_id = path_id(request, "case_id")
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        row = outreach.record_outcome(
            platform,
            session,
            actor,
            case_id,
            outcome=body.get("outcome"),
            note=body.get("note", ""),
            version=body.get("version"),
        )
        return {"id": row.id, "status": row.status, "version": row.version}

    return JSONResponse(await in_session(request, work))


@describe(body=docs.ASSIGN, response=docs.ASSIGNED)
@requires(OUTREACH)
async def assign_case(request: Request) -> Response:
    case_id = path_id(request, "case_id")
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        row = outreach.assign(platform, session, actor, case_id, assignee=body.get("assignee"))
        return {"id": row.id, "assignee": row.assignee, "version": row.version}

    return JSONResponse(await in_session(request, work))


@describe(query=[docs.UNIT, docs.POLICY_PARAM], response=docs.FUNNEL)
@requires(OUTREACH)
async def get_funnel(request: Request) -> Response:
    params = request.query_params

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        unit = area(platform, session, actor, OUTREACH, params.get("unit"))
        return funnel.funnel(platform, session, actor, unit, policy_id=params.get("policy") or None)

    return JSONResponse(await in_session(request, work))


@describe(body=docs.NOTIFY, response=docs.NOTIFIED, status=202)
@requires(OUTREACH)
async def notify(request: Request) -> Response:
    body = await read_json_object(request)

    def work(platform: Any, session: Any, actor: Actor) -> Any:
        unit = area(platform, session, actor, OUTREACH, body.get("unit"))
        return notices.notify_candidates(
            platform,
            session,
            actor,
            unit,
            policy_id=body.get("policy"),
            committees=funnel.committee_ids(platform, session, unit),
        )

    return JSONResponse(await in_session(request, work), status_code=202)


ROUTES = [
    Route("/policies", list_policies, methods=["GET"]),
    Route("/policies", save_policy, methods=["POST"]),
    Route("/policies/{policy_id}", get_policy, methods=["GET"]),
    Route("/evaluate", evaluate_facts, methods=["POST"]),
    Route("/residents/{resident_id}/policies", resident_policies, methods=["GET"]),
    Route("/outreach/sync", sync, methods=["POST"]),
    Route("/outreach/candidates", candidates, methods=["GET"]),
    Route("/outreach/candidates.csv", export_candidates, methods=["GET"]),
    Route("/outreach/cases/{case_id}", get_case, methods=["GET"]),
    Route("/outreach/cases/{case_id}/outcome", record_outcome, methods=["POST"]),
    Route("/outreach/cases/{case_id}/assign", assign_case, methods=["POST"]),
    Route("/outreach/funnel", get_funnel, methods=["GET"]),
    Route("/outreach/notify", notify, methods=["POST"]),
    *api_desk.ROUTES,
]
