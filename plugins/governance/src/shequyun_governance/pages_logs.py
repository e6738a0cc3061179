"""民情日志 pages: the three-tap visit, the list, one entry (→ case), coverage."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, NotFound, platform_from_request, plugin_from_request
from shequyun_sdk.params import path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import categories, fieldlog
from .core import HANDLE, LOG, VIEW, acting_unit
from .web import actor_of, form_errors, form_with_files, redirect, render, run, staff_page

__all__ = ["ROUTES"]


@staff_page(LOG)
async def log_new(request: Request) -> Response:
    """记一笔: the subject is optional (the committee), the text is optional for a visit, so a
    visit with a photo is three taps from the workbench: the card, the camera, 保存."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "photos", fieldlog.MAX_PHOTOS)

            def work() -> int:
                with platform.session() as session:
                    entry = fieldlog.record(platform, session, actor, values, uploads)
                    return int(entry.id or 0)

            log_id = await run(work)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/logs/{log_id}?saved=1")
    query = str(values.get("q") or "")

    def context() -> dict[str, Any]:
        with platform.session() as session:
            picks: list[Any] = []
            if query:
                for kind in ("resident", "household", "building"):
                    picks += platform.pick(session, actor, kind, q=query, limit=6, permission=VIEW)
            chosen = None
            if values.get("subject"):
                key = str(values["subject"])
                chosen = platform.resolve_picks(session, actor, [key], permission=VIEW).get(key)
            return {
                "categories": categories.listed(session, "log"),
                "picks": picks,
                "chosen": chosen,
            }

    return render(
        request,
        "log_new.html",
        {**await run(context), "values": values, "errors": errors, "kinds": fieldlog.KINDS},
        status_code=422 if errors else 200,
    )


@staff_page(VIEW)
async def log_list(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    follow = request.query_params.get("follow_up")

    def work() -> list[Any]:
        with platform.session() as session:
            return fieldlog.listed(
                platform, session, actor, follow_up=True if follow == "1" else None, limit=50
            )

    return render(request, "logs.html", {"rows": await run(work), "follow": follow == "1"})


@staff_page(VIEW)
async def log_page(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    log_id = path_id(request, "log_id")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            values, _ = await form_with_files(request, "photos", 0)

            def turn() -> int:
                with platform.session() as session:
                    return int(fieldlog.to_case(platform, session, actor, log_id, values).id or 0)

            case_id = await run(turn)
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
        else:
            return redirect(request, f"/cases/{case_id}")

    def work() -> dict[str, Any]:
        with platform.session() as session:
            entry = fieldlog.get(platform, session, actor, log_id)
            return {
                "entry": fieldlog.log_dict(entry),
                "case_categories": categories.listed(session, "case"),
                "may_turn": entry.case_id is None
                and entry.unit_id == acting_unit(actor).id
                and actor.has(HANDLE),
            }

    return render(
        request,
        "log.html",
        {**await run(work), "errors": errors, "saved": request.query_params.get("saved")},
        status_code=422 if errors else 200,
    )


@staff_page(VIEW)
async def coverage_page(request: Request) -> Response:
    platform = platform_from_request(request)
    plugin = plugin_from_request(request)
    actor = actor_of(request)
    months = int(plugin.settings.get("coverage_months", 3))
    code = request.query_params.get("unit_code")

    def work() -> dict[str, Any]:
        with platform.session() as session:
            unit = acting_unit(actor)
            if code:
                found = platform.unit(session, code)
                if found is None or not platform.can(actor, VIEW, found):
                    raise NotFound("找不到该组织", field="unit_code")
                unit = found
            rows = fieldlog.coverage(platform, session, actor, months=months, unit=unit)
            missing = (
                fieldlog.not_visited(platform, session, actor, unit, months=months)
                if unit.level == "committee"
                else []
            )
            return {"unit": unit, "rows": rows, "missing": missing}

    found = await run(work)
    households = sum(r.households for r in found["rows"])
    visited = sum(r.visited for r in found["rows"])
    return render(
        request,
        "coverage.html",
        {**found, "months": months, "households": households, "visited": visited},
    )


ROUTES: list[BaseRoute] = [
    Route("/logs", log_list, methods=["GET"]),
    Route("/logs/new", log_new, methods=["GET", "POST"]),
    Route("/logs/{log_id:int}", log_page, methods=["GET", "POST"]),
    Route("/coverage", coverage_page, methods=["GET"]),
]
