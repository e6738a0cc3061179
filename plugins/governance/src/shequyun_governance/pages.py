"""The plugin's portal pages (phone first): home, cases; logs, knowledge and 民情 in their own
modules. Every page calls the same service functions as the API."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, platform_from_request, plugin_from_request
from shequyun_sdk.params import path_id, query_int
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import caselist, cases, categories, fieldlog, flow, pages_logs, pages_more
from .api_cases import case_document
from .core import HANDLE, LOG, VIEW, acting_unit, today
from .present import case_dict
from .web import actor_of, form_errors, form_with_files, redirect, render, run, staff_page

__all__ = ["ROUTES"]

STEP_FIELDS = {
    "accept": (),
    "handle": ("note", "photos"),
    "report": ("note", "photos"),
    "verify": ("passed", "note"),
    "close": ("note",),
    "reject": ("note",),
    "escalate": ("note",),
    "reassign": ("unit_code", "note"),
    "extend": ("days", "note"),
    "extend_grant": ("note",),
    "extend_deny": ("note",),
    "supervise": ("note",),
    "revisit": ("satisfaction", "note"),
}


@staff_page(VIEW)
async def home(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    unit = acting_unit(actor)
    months = int(plugin_from_request(request).settings.get("coverage_months", 3))

    def work() -> dict[str, Any]:
        with platform.session() as session:
            calendar = platform.work_calendar(session)
            mine: list[Any] = []
            if actor.has(HANDLE):
                rows, _ = caselist.list_cases(
                    platform,
                    session,
                    actor,
                    caselist.CaseFilters(status="open", mine=True),
                    limit=8,
                )
                mine = [case_dict(calendar, r) for r in rows]
            coverage = None
            if actor.has(LOG) and unit.level == "committee":
                found = fieldlog.coverage(platform, session, actor, months=months, unit=unit)
                coverage = found[0] if found else None
            return {
                "mine": mine,
                "pending": sum(1 for c in mine if c["status"] == "pending"),
                "overdue": sum(1 for c in mine if c["punctuality"] == "overdue"),
                "at_risk": sum(1 for c in mine if c["punctuality"] == "at_risk"),
                "coverage": coverage,
                "recent_logs": fieldlog.listed(platform, session, actor, limit=5)
                if actor.has(LOG)
                else [],
                "today": today(),
            }

    return render(request, "home.html", {"unit": unit, "months": months, **await run(work)})


@staff_page(VIEW)
async def case_list(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = dict(request.query_params)
    params.setdefault("status", "open")
    if params["status"] == "all":
        params.pop("status")
    try:
        filters = caselist.read_filters(params)
    except ApiError:
        filters = caselist.CaseFilters(status="open")
    page = query_int(request, "page", 1, low=1, high=10**6)

    def work() -> dict[str, Any]:
        with platform.session() as session:
            rows, total = caselist.list_cases(
                platform, session, actor, filters, limit=30, offset=(page - 1) * 30
            )
            calendar = platform.work_calendar(session)
            return {"rows": [case_dict(calendar, r) for r in rows], "total": total}

    found = await run(work)
    return render(
        request,
        "cases.html",
        {
            **found,
            "filters": filters,
            "status": request.query_params.get("status", "open"),
            "statuses": cases.STATUSES,
            "page": page,
            "pages": max(1, (found["total"] + 29) // 30),
        },
    )


def _new_case_context(platform: Any, actor: Any, query: str) -> dict[str, Any]:
    unit = acting_unit(actor)
    with platform.session() as session:
        targets = [unit]
        if actor.has("governance.dispatch"):
            targets += platform.unit_children(session, unit)
        picks = (
            platform.pick(session, actor, "resident", q=query, limit=8, permission=VIEW)
            + platform.pick(session, actor, "building", q=query, limit=5, permission=VIEW)
            if query
            else []
        )
        return {
            "categories": categories.listed(session, "case"),
            "targets": targets,
            "picks": picks,
            "priorities": cases.PRIORITIES,
        }


@staff_page(HANDLE)
async def case_new(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "photos", 6)

            def work() -> int:
                with platform.session() as session:
                    own = values.get("unit_code") == acting_unit(actor).code
                    raw = {**values, "unit_code": None if own else values.get("unit_code")}
                    opening = cases.check_opening(platform, session, actor, raw)
                    case = cases.open_case(
                        platform,
                        session,
                        actor,
                        opening,
                        source="self" if opening.target.id == acting_unit(actor).id else "dispatch",
                        uploads=uploads,
                    )
                    return int(case.id or 0)

            case_id = await run(work)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/cases/{case_id}")
    context = await run(_new_case_context, platform, actor, str(values.get("q") or ""))
    return render(
        request,
        "case_new.html",
        {**context, "values": values, "errors": errors},
        status_code=422 if errors else 200,
    )


@staff_page(VIEW)
async def case_page(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    case_id = path_id(request, "case_id")
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        action = str(request.path_params.get("action", ""))
        try:
            values, uploads = await form_with_files(request, "photos", 6)
            if "passed" in values:
                values["passed"] = values["passed"] == "yes"
            await run(flow.take_step, platform, actor, case_id, action, values, uploads)
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
            errors.setdefault("_form", exc.message)
            status = exc.status_code
        else:
            return redirect(request, f"/cases/{case_id}")
    document = await run(case_document, platform, actor, case_id)

    def targets() -> list[Any]:
        with platform.session() as session:
            return platform.unit_children(session, acting_unit(actor))

    children = await run(targets) if "reassign" in document["steps"] else []
    return render(
        request,
        "case.html",
        {
            "case": document,
            "errors": errors,
            "actions": cases.ACTIONS,
            "step_fields": STEP_FIELDS,
            "children": children,
            "satisfaction": flow.SATISFACTION,
        },
        status_code=status,
    )


ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/cases", case_list, methods=["GET"]),
    Route("/cases/new", case_new, methods=["GET", "POST"]),
    Route("/cases/{case_id:int}", case_page, methods=["GET"]),
    Route("/cases/{case_id:int}/steps/{action}", case_page, methods=["POST"]),
    *pages_logs.ROUTES,
    *pages_more.ROUTES,
]
