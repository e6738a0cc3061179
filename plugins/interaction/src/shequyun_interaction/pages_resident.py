"""The resident-facing pages (phone first): home, account, announcements, disclosures, services,
the deliberation hall, neighbours and notifications.

Every page works out the viewer afresh (:func:`~.web.viewer_of`); pages that need a verified
resident say so instead of showing anything, and only the public pages are shown to a resident
whose committee has the plugin switched off. Forms post back to the same page: on success a
303 to a GET page, on bad input the form again with 422 and the errors next to the fields.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from shequyun_sdk import ApiError, platform_from_request, plugin_from_request
from shequyun_sdk.params import form_int, path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    accounts,
    deliberation,
    files,
    neighbours,
    notices,
    notify,
    pages_phone,
    phone,
    servicedesk,
    tally,
)
from .availability import NotOpen
from .core import Viewer
from .web import (
    RESIDENT_COOKIE,
    client_address,
    form_errors,
    form_values,
    form_with_files,
    is_multipart,
    redirect,
    render,
    run,
    set_cookie,
    signups_per_hour,
    viewer_of,
)

__all__ = ["ROUTES"]


async def page(
    request: Request,
    template: str,
    viewer: Viewer,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    unread = 0
    if viewer.resident is not None:
        platform = platform_from_request(request)
        resident_id = viewer.resident.id

        def count() -> int:
            with platform.session() as session:
                return notify.unread_count(session, resident_id)

        unread = await run(count)
    return render(request, template, viewer, {"unread": unread, **context}, status_code=status_code)


def _session_days(request: Request) -> int:
    return int(plugin_from_request(request).settings.get("session_days", 30))


def _name(request: Request) -> str:
    return plugin_from_request(request).name


def _phone_proof(request: Request) -> bool:
    return phone.required(plugin_from_request(request).settings)


# -- home and account --------------------------------------------------------------------------


async def home(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    unit = None
    code = request.query_params.get("unit", "").strip()
    if code and viewer.resident is None:

        def find() -> Any:
            with platform.session() as session:
                return platform.unit(session, code)

        unit = await run(find)
    items = await run(
        notices.announcements_for, platform, viewer, unit, 20, plugin_name=_name(request)
    )
    topics = await run(deliberation.for_viewer, platform, viewer)
    requests = await run(servicedesk.mine, platform, viewer)
    return await page(
        request,
        "home.html",
        viewer,
        {
            "announcements": items,
            "chosen_unit": unit,
            "open_topics": [t for t in topics if t.status == "open"][:5],
            "open_requests": [r for r in requests if r.status not in servicedesk.CLOSED][:5],
        },
    )


async def signup(request: Request) -> Response:
    platform = platform_from_request(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        if values.get("password") != values.get("password2"):
            errors["password2"] = platform.translator(request)("两次输入的密码不一致")
        else:
            try:
                await run(
                    accounts.sign_up,
                    platform,
                    values.get("phone"),
                    values.get("password"),
                    prove_phone=_phone_proof(request),
                    client=client_address(request),
                    per_address_hour=signups_per_hour(request),
                )
                _, token = await run(
                    accounts.log_in,
                    platform,
                    values.get("phone"),
                    values.get("password"),
                    kind="cookie",
                    lifetime=timedelta(days=_session_days(request)),
                    client=client_address(request),
                )
            except ApiError as exc:
                errors = form_errors(exc)
            else:
                response = redirect(request, "/phone" if _phone_proof(request) else "/verify")
                set_cookie(
                    request, response, RESIDENT_COOKIE, token, _session_days(request) * 86400
                )
                return response
    values.pop("password", None)
    values.pop("password2", None)
    return render(
        request,
        "signup.html",
        None,
        {"errors": errors, "values": values},
        status_code=422 if errors else 200,
    )


async def login(request: Request) -> Response:
    platform = platform_from_request(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            _, token = await run(
                accounts.log_in,
                platform,
                values.get("phone"),
                values.get("password"),
                kind="cookie",
                lifetime=timedelta(days=_session_days(request)),
                client=client_address(request),
            )
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            target = request.query_params.get("next", "/")
            response = redirect(request, target if target.startswith("/") else "/")
            set_cookie(request, response, RESIDENT_COOKIE, token, _session_days(request) * 86400)
            return response
    values.pop("password", None)
    return render(
        request,
        "login.html",
        None,
        {"errors": errors, "values": values},
        status_code=422 if errors else 200,
    )


async def logout(request: Request) -> Response:
    token = request.cookies.get(RESIDENT_COOKIE)
    if token:
        await run(accounts.log_out, platform_from_request(request), token)
    response = redirect(request, "/")
    set_cookie(request, response, RESIDENT_COOKIE, None)
    return response


async def verify(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    if viewer.account is None:
        return redirect(request, "/login?next=/verify")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST" and not viewer.verified:
        values = await form_values(request)
        account_id = viewer.account.id
        try:
            if values.get("method") == "code":
                await run(
                    accounts.redeem_code,
                    platform,
                    account_id,
                    values.get("code"),
                    values.get("code_name"),
                    plugin_name=_name(request),
                    client=client_address(request),
                )
            else:
                await run(
                    accounts.verify_identity,
                    platform,
                    account_id,
                    values.get("name"),
                    values.get("id_number"),
                    plugin_name=_name(request),
                    require_phone=_phone_proof(request),
                    client=client_address(request),
                )
        except ApiError as exc:
            errors = form_errors(exc)
            if "phone" in errors:  # no such field here: say it above the forms
                errors["_form"] = errors.pop("phone")
            if values.get("method") == "code" and "name" in errors:
                errors["code_name"] = errors.pop("name")
        else:
            return redirect(request, "/?verified=1")
    values.pop("id_number", None)
    pending = _phone_proof(request) and viewer.account.phone_confirmed_at is None
    return await page(
        request,
        "verify.html",
        viewer,
        {"errors": errors, "values": values, "phone_pending": pending},
        status_code=422 if errors else 200,
    )


# -- public content ------------------------------------------------------------------------------


async def announcement(request: Request) -> Response:
    viewer = await viewer_of(request, public=True)
    row, reads, attached = await run(
        notices.read_announcement,
        platform_from_request(request),
        viewer,
        path_id(request, "item_id"),
        plugin_name=_name(request),
    )
    return await page(
        request, "announcement.html", viewer, {"item": row, "reads": reads, "files": attached}
    )


async def disclosures(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request, public=True)
    code = request.query_params.get("unit", "").strip()

    def find() -> Any:
        if viewer.resident is not None and not code:
            return viewer.resident.committee
        if not code:
            return None
        with platform.session() as session:
            return platform.unit(session, code)

    unit = await run(find)
    category = request.query_params.get("category") or None
    rows = []
    if unit is not None:
        rows = await run(notices.disclosures, platform, unit, category, plugin_name=_name(request))
    return await page(
        request,
        "disclosures.html",
        viewer,
        {
            "unit": unit,
            "rows": rows,
            "category": category,
            "categories": notices.CATEGORIES,
            "code": code,
        },
    )


async def disclosure(request: Request) -> Response:
    viewer = await viewer_of(request, public=True)
    row, history, attached = await run(
        notices.disclosure,
        platform_from_request(request),
        path_id(request, "item_id"),
        plugin_name=_name(request),
    )
    return await page(
        request,
        "disclosure.html",
        viewer,
        {"item": row, "history": history, "files": attached, "categories": notices.CATEGORIES},
    )


# -- 在线服务 ------------------------------------------------------------------------------------


async def requests_page(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST" and viewer.verified:
        due = plugin_from_request(request).settings.get("request_due_days", {})
        try:
            values, photos = await _with_photos(request)
            row = await run(servicedesk.submit, platform, viewer, values, due, photos)
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, f"/requests/{row.id}")
    rows = await run(servicedesk.mine, platform, viewer)
    return await page(
        request,
        "requests.html",
        viewer,
        {
            "rows": rows,
            "errors": errors,
            "values": values,
            "categories": servicedesk.CATEGORIES,
            "statuses": servicedesk.STATUSES,
        },
        status_code=422 if errors else 200,
    )


async def _with_photos(request: Request) -> tuple[dict[str, Any], list[files.Upload]]:
    if is_multipart(request):
        return await form_with_files(request, "photos", files.MAX_REQUEST_PHOTOS)
    return await form_values(request), []


async def request_page(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    request_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    action = None
    if request.method == "POST":
        try:
            values, uploads = await _with_photos(request)
            action = values.get("action")
            if action == "photos":
                await run(servicedesk.add_photos, platform, viewer, request_id, uploads)
            else:
                await run(servicedesk.resident_reply, platform, viewer, request_id, values)
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
        else:
            return redirect(request, f"/requests/{request_id}")
    row, replies = await run(servicedesk.own, platform, viewer, request_id)
    photos = await run(servicedesk.photos_of, platform, request_id)
    return await page(
        request,
        "request.html",
        viewer,
        {
            "row": row,
            "replies": replies,
            "photos": photos,
            "max_photos": files.MAX_REQUEST_PHOTOS,
            "action": action,
            "errors": errors,
            "categories": servicedesk.CATEGORIES,
            "statuses": servicedesk.STATUSES,
            "closed": row.status in servicedesk.CLOSED,
        },
        status_code=422 if errors else 200,
    )


async def request_photo(request: Request) -> Response:
    """A photo of the resident's own request; 404 for anyone else."""
    viewer = await viewer_of(request)
    return await run(
        servicedesk.photo_response,
        platform_from_request(request),
        viewer,
        path_id(request, "item_id"),
        request.path_params["attachment_id"],
        request.query_params.get("download") == "1",
    )


# -- 议事厅 -------------------------------------------------------------------------------------


async def topics(request: Request) -> Response:
    viewer = await viewer_of(request)
    rows = await run(deliberation.for_viewer, platform_from_request(request), viewer)
    return await page(
        request,
        "topics.html",
        viewer,
        {"rows": rows, "rules": deliberation.RULES, "in_scope": _scope_test(viewer)},
    )


def _scope_test(viewer: Viewer) -> Any:
    def test(topic: Any) -> bool:
        return viewer.resident is not None and deliberation.in_scope(topic, viewer.resident)

    return test


async def topic(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    topic_id = path_id(request, "item_id")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        threshold = int(plugin_from_request(request).settings.get("auto_hide_reports", 3))
        try:
            if values.get("action") == "comment":
                await run(deliberation.comment, platform, topic_id, viewer, values)
            elif values.get("action") == "report":
                await run(
                    neighbours.report,
                    platform,
                    viewer,
                    "topic_comment",
                    values.get("target_id"),
                    values.get("reason"),
                    threshold=threshold,
                )
            else:
                await run(deliberation.cast_vote, platform, topic_id, viewer, values.get("option"))
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
            if values.get("action") == "report":  # shown by the comments, not the ballot
                errors = {"report": next(iter(errors.values()))}
        else:
            return redirect(request, f"/topics/{topic_id}?done={values.get('action', 'vote')}")

    def load() -> dict[str, Any]:
        with platform.session() as session:
            row = deliberation.get_visible(session, topic_id, viewer)
            tally.settle(platform, session, row)
            now_standing = tally.standing(platform, session, row)
            return {
                "topic": row,
                "ballot": deliberation.ballot_of(session, row, viewer),
                "ballots": now_standing["ballots"],
                "standing": now_standing,
                "comments": deliberation.comments(session, topic_id),
                "stances": deliberation.stance_counts(session, topic_id),
                "refusal": deliberation.refusal(row, viewer),
            }

    data = await run(load)
    return await page(
        request,
        "topic.html",
        viewer,
        {
            **data,
            "errors": errors,
            "values": values,
            "rules": deliberation.RULES,
            "stance_labels": deliberation.STANCES,
            "done": request.query_params.get("done"),
        },
        status_code=422 if errors else 200,
    )


# -- 邻里互动 -----------------------------------------------------------------------------------


async def posts(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    notice = ""
    if request.method == "POST":
        values = await form_values(request)
        action = values.get("action")
        threshold = int(plugin_from_request(request).settings.get("auto_hide_reports", 3))
        try:
            if action == "comment":
                post_id = form_int(values, "post_id", 0)
                await run(neighbours.comment, platform, viewer, post_id, values)
            elif action == "report":
                await run(
                    neighbours.report,
                    platform,
                    viewer,
                    values.get("target_type"),
                    values.get("target_id"),
                    values.get("reason"),
                    threshold=threshold,
                )
                return redirect(request, "/posts?reported=1")
            else:
                await run(neighbours.create_post, platform, viewer, values)
        except ApiError as exc:
            errors = form_errors(exc)
        except (KeyError, ValueError):
            errors = {"_form": platform.translator(request)("请求不完整，请刷新后重试")}
        else:
            return redirect(request, "/posts")
    if request.query_params.get("reported"):
        notice = platform.translator(request)("已收到您的举报，居委会将尽快处理")
    threads = await run(neighbours.posts_for, platform, viewer)
    return await page(
        request,
        "posts.html",
        viewer,
        {"threads": threads, "errors": errors, "values": values, "notice": notice},
        status_code=422 if errors else 200,
    )


async def notifications(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    if viewer.resident is None:
        return await page(request, "notifications.html", viewer, {"rows": []})
    if request.method == "POST":
        await run(notify.mark_read, platform, viewer.resident.id)
        return redirect(request, "/notifications")
    rows = await run(notify.for_resident, platform, viewer.resident.id)
    return await page(request, "notifications.html", viewer, {"rows": rows})


def _not_open_page(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Show "本社区未开通居社互动" as the plugin's own page rather than the bare error page."""

    @functools.wraps(handler)
    async def shown(request: Request) -> Response:
        try:
            return await handler(request)
        except NotOpen as exc:
            context = {"unit": exc.unit}
            return render(request, "not_open.html", None, context, status_code=exc.status_code)

    return shown


_ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/verify", verify, methods=["GET", "POST"]),
    *pages_phone.ROUTES,
    Route("/announcements/{item_id:int}", announcement, methods=["GET"]),
    Route("/disclosures", disclosures, methods=["GET"]),
    Route("/disclosures/{item_id:int}", disclosure, methods=["GET"]),
    Route("/requests", requests_page, methods=["GET", "POST"]),
    Route("/requests/{item_id:int}", request_page, methods=["GET", "POST"]),
    Route("/requests/{item_id:int}/photos/{attachment_id}", request_photo, methods=["GET"]),
    Route("/topics", topics, methods=["GET"]),
    Route("/topics/{item_id:int}", topic, methods=["GET", "POST"]),
    Route("/posts", posts, methods=["GET", "POST"]),
    Route("/notifications", notifications, methods=["GET", "POST"]),
]
ROUTES = [Route(r.path, _not_open_page(r.endpoint), methods=r.methods) for r in _ROUTES]
