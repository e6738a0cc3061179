"""The cadres' pages under ``/plugins/interaction/manage/``: announcements and disclosures, the
request queue, topics, moderation, verification codes and assisted mode.

Every page is guarded by a permission (:func:`shequyun_sdk.requires`); every object is read
through the kernel's scope filter, so a cadre sees only their own committee's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequyun_sdk import (
    Actor,
    ApiError,
    actor_from_request,
    platform_from_request,
    plugin_from_request,
)
from shequyun_sdk.params import form_int, path_id
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    affairs,
    assisting,
    deliberation,
    escalation,
    files,
    neighbours,
    notices,
    servicedesk,
    tally,
    verification,
)
from .core import ASSIST, DELIBERATE, MODERATE, PUBLISH, SERVE, VIEW
from .models import Topic
from .web import (
    ASSIST_COOKIE,
    form_errors,
    form_values,
    form_with_files,
    redirect,
    render,
    run,
    set_cookie,
    staff_page,
)

__all__ = ["ROUTES"]


def _actor(request: Request) -> Actor:
    actor = actor_from_request(request)
    assert actor is not None  # requires() let the request through
    return actor


def _manage(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    actor = _actor(request)
    abilities = {p: actor.has(p) for p in (PUBLISH, SERVE, DELIBERATE, MODERATE, ASSIST)}
    return render(
        request,
        f"manage/{template}",
        None,
        {"actor_can": abilities, **context},
        status_code=status,
    )


@staff_page(VIEW)
async def dashboard(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    queue = await run(servicedesk.queue, platform, actor, "open") if actor.has(SERVE) else []
    reported = await run(neighbours.queue, platform, actor) if actor.has(MODERATE) else []
    return _manage(
        request,
        "index.html",
        {
            "open_requests": len(queue),
            "overdue": sum(1 for r in queue if servicedesk.overdue(r)),
            "reported": len(reported),
        },
    )


# -- announcements and disclosures -------------------------------------------------------------


@staff_page(PUBLISH)
async def announcements(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "files", files.MAX_NOTICE_FILES)
            if values.get("action") == "withdraw":
                await run(
                    notices.withdraw, platform, actor, form_int(values, "id", 0, label="公告编号")
                )
            else:
                await run(notices.publish, platform, actor, values, uploads)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, "/manage/announcements")
    rows = await run(notices.managed_announcements, platform, actor)
    return _manage(
        request,
        "announcements.html",
        {"rows": rows, "errors": errors, "values": values, "max_files": files.MAX_NOTICE_FILES},
        422 if errors else 200,
    )


@staff_page(PUBLISH)
async def disclosures(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "files", files.MAX_NOTICE_FILES)
            await run(affairs.disclose, platform, actor, values, uploads)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, "/manage/disclosures")
    rows = await run(affairs.managed_disclosures, platform, actor)
    return _manage(
        request,
        "disclosures.html",
        {
            "rows": rows,
            "errors": errors,
            "values": values,
            "categories": affairs.CATEGORIES,
            "max_files": files.MAX_NOTICE_FILES,
        },
        422 if errors else 200,
    )


@staff_page(PUBLISH)
async def disclosure(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    item_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "files", files.MAX_NOTICE_FILES)
            # The files of the new version: the current ones left ticked, then the uploads.
            kept = values.get("keep", [])
            values["attachments"] = [kept] if isinstance(kept, str) else list(kept)
            await run(affairs.revise, platform, actor, item_id, values, uploads)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/manage/disclosures/{item_id}")
    row, history, attached = await run(affairs.disclosure, platform, item_id, actor)
    current = attached.get(row.version, [])
    return _manage(
        request,
        "disclosure.html",
        {
            "item": row,
            "history": history,
            "files": attached,
            "current": current,
            "kept": set(values["attachments"]) if values else {f.id for f in current},
            "errors": errors,
            "values": values or {"category": row.category, "title": row.title, "body": row.body},
            "categories": affairs.CATEGORIES,
            "max_files": files.MAX_NOTICE_FILES,
        },
        422 if errors else 200,
    )


# -- 在线服务 ------------------------------------------------------------------------------------


@staff_page(SERVE)
async def request_queue(request: Request) -> Response:
    status = request.query_params.get("status", "open")
    rows = await run(servicedesk.queue, platform_from_request(request), _actor(request), status)
    return _manage(
        request,
        "requests.html",
        {
            "rows": rows,
            "status": status,
            "statuses": servicedesk.STATUSES,
            "categories": servicedesk.CATEGORIES,
            "overdue": servicedesk.overdue,
        },
    )


@staff_page(SERVE)
async def request_detail(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    item_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            if values.get("action") == "escalate":
                await run(escalation.escalate, platform, actor, item_id, values)
            else:
                await run(servicedesk.cadre_reply, platform, actor, item_id, values)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/manage/requests/{item_id}")
    row, replies = await run(servicedesk.for_cadre, platform, actor, item_id)
    photos = await run(servicedesk.photos_of, platform, item_id)
    return _manage(
        request,
        "request.html",
        {
            "row": row,
            "replies": replies,
            "photos": photos,
            "errors": errors,
            "values": values,
            "statuses": servicedesk.STATUSES,
            "categories": servicedesk.CATEGORIES,
            "closed": row.status in servicedesk.CLOSED,
            "overdue": servicedesk.overdue(row),
        },
        422 if errors else 200,
    )


# -- 议事厅 -------------------------------------------------------------------------------------


@staff_page(DELIBERATE)
async def topics(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            row = await run(deliberation.open_topic, platform, actor, values)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/manage/topics/{row.id}")

    def load() -> tuple[list[Topic], list[Any]]:
        with platform.session() as session:
            rows = list(
                session.exec(
                    select(Topic)
                    .where(platform.scope_filter(actor, DELIBERATE, Topic.unit_id))
                    .order_by(col(Topic.id).desc())
                    .limit(100)
                )
            )
            for row in rows:
                tally.settle(platform, session, row)
            unit = actor.unit
            buildings = (
                platform.resident_buildings(session, unit.id)
                if unit is not None and unit.level == "committee"
                else []
            )
            return rows, buildings

    rows, buildings = await run(load)
    return _manage(
        request,
        "topics.html",
        {
            "rows": rows,
            "buildings": buildings,
            "errors": errors,
            "values": values,
            "rules": deliberation.RULES,
            "scopes": deliberation.SCOPES,
        },
        422 if errors else 200,
    )


@staff_page(DELIBERATE)
async def topic(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    item_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            await run(tally.close_topic, platform, actor, item_id)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/manage/topics/{item_id}")
    row = await run(tally.manageable, platform, actor, item_id)
    recount = await run(tally.recount, platform, actor, item_id)
    ballots = [] if row.secret else await run(tally.ballots_for_cadre, platform, actor, item_id)

    def extra() -> dict[str, Any]:
        with platform.session() as session:
            return {
                "electorate": tally.electorate(platform, session, row),
                "comments": deliberation.comments(session, item_id, everything=True),
                "stances": deliberation.stance_counts(session, item_id),
            }

    return _manage(
        request,
        "topic.html",
        {
            "topic": row,
            "recount": recount,
            "ballots": ballots,
            "errors": errors,
            "rules": deliberation.RULES,
            "stance_labels": deliberation.STANCES,
            **(await run(extra)),
        },
        422 if errors else 200,
    )


# -- moderation --------------------------------------------------------------------------------


@staff_page(MODERATE)
async def moderation(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            await run(
                neighbours.decide,
                platform,
                actor,
                values.get("target_type"),
                values.get("target_id", "0"),
                values,
            )
        except ApiError as exc:
            errors = form_errors(exc)
        except ValueError:
            errors = {"_form": platform.translator(request)("请求不完整，请刷新后重试")}
        else:
            return redirect(request, "/manage/moderation")
    items = await run(neighbours.queue, platform, actor)
    history = await run(neighbours.decisions, platform, actor)
    return _manage(
        request,
        "moderation.html",
        {
            "items": items,
            "history": history,
            "errors": errors,
            "decisions": neighbours.DECISIONS,
            "labels": neighbours.TARGET_LABELS,
        },
        422 if errors else 200,
    )


# -- verification codes and assisted mode ------------------------------------------------------


async def _search(request: Request, actor: Actor, q: str) -> list[dict[str, Any]]:
    platform = platform_from_request(request)
    if not q:
        return []

    def work() -> list[dict[str, Any]]:
        with platform.session() as session:
            items, _ = platform.search_residents(session, actor, q=q, limit=20)
            return items

    return await run(work)


@staff_page(ASSIST)
async def codes(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    issued: dict[str, Any] | None = None
    if request.method == "POST":
        values = await form_values(request)
        days = int(plugin_from_request(request).settings.get("code_days", 14))
        try:
            code, row = await run(
                verification.issue_code,
                platform,
                actor,
                form_int(values, "resident_id", 0, label="居民编号"),
                timedelta(days=days),
            )
        except ApiError as exc:
            # The form's one field is hidden: its refusal is said above the form.
            errors = {"_form": exc.message}
        except ValueError:
            errors = {"_form": platform.translator(request)("请先选择居民")}
        else:
            issued = {"code": code, "row": row, "name": values.get("name", "")}
    q = request.query_params.get("q", "").strip()
    found = await _search(request, actor, q)
    recent = await run(verification.issued_codes, platform, actor)
    return _manage(
        request,
        "codes.html",
        {"q": q, "found": found, "issued": issued, "recent": recent, "errors": errors},
        422 if errors else 200,
    )


@staff_page(ASSIST)
async def assist(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = _actor(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = await form_values(request)
        if values.get("action") == "end":
            token = request.cookies.get(ASSIST_COOKIE)
            if token:
                await run(assisting.end_assist, platform, actor, token)
            response = redirect(request, "/manage/assist")
            set_cookie(request, response, ASSIST_COOKIE, None)
            return response
        try:
            token, _ = await run(
                assisting.start_assist,
                platform,
                actor,
                form_int(values, "resident_id", 0, label="居民编号"),
            )
        except ApiError as exc:
            # The form's one field is hidden: its refusal is said above the form.
            errors = {"_form": exc.message}
        except ValueError:
            errors = {"_form": platform.translator(request)("请先选择居民")}
        else:
            response = redirect(request, "/")
            set_cookie(request, response, ASSIST_COOKIE, token, 2 * 3600)
            return response
    q = request.query_params.get("q", "").strip()
    found = await _search(request, actor, q)
    return _manage(
        request, "assist.html", {"q": q, "found": found, "errors": errors}, 422 if errors else 200
    )


ROUTES = [
    Route("/manage/", dashboard, methods=["GET"]),
    Route("/manage/announcements", announcements, methods=["GET", "POST"]),
    Route("/manage/disclosures", disclosures, methods=["GET", "POST"]),
    Route("/manage/disclosures/{item_id:int}", disclosure, methods=["GET", "POST"]),
    Route("/manage/requests", request_queue, methods=["GET"]),
    Route("/manage/requests/{item_id:int}", request_detail, methods=["GET", "POST"]),
    Route("/manage/topics", topics, methods=["GET", "POST"]),
    Route("/manage/topics/{item_id:int}", topic, methods=["GET", "POST"]),
    Route("/manage/moderation", moderation, methods=["GET", "POST"]),
    Route("/manage/codes", codes, methods=["GET", "POST"]),
    Route("/manage/assist", assist, methods=["GET", "POST"]),
]
