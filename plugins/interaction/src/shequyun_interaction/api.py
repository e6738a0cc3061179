"""JSON API under ``/api/v1/plugins/interaction/`` for the residents' mobile app (cadres': in
:mod:`.api_manage`).

Residents authenticate with ``X-Resident-Token`` (from ``POST /auth/login``); cadres with the
platform's bearer token, and may act for a resident by adding ``X-Assist-Resident: <id>``.
With ``phone_proof = "sms"`` a new account confirms the SMS code it was sent
(``POST /auth/phone/confirm``) before verifying by name and ID number. Errors leave in the
platform's shape ``{"error": {"code", "message", "field"?}}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequyun_sdk import (
    Conflict,
    NotAuthenticated,
    ValidationFailed,
    platform_from_request,
    plugin_from_request,
)
from shequyun_sdk.openapi import describe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import (
    accounts,
    api_manage,
    deliberation,
    files,
    neighbours,
    notices,
    notify,
    phone,
    servicedesk,
    tally,
)
from . import api_schemas as docs
from .availability import is_open
from .core import Viewer
from .web import (
    TOKEN_HEADER,
    client_address,
    form_with_files,
    is_multipart,
    json_object,
    run,
    signups_per_hour,
    viewer_of,
)

__all__ = ["ROUTES"]


async def _viewer(request: Request, *, account: bool = True, public: bool = False) -> Viewer:
    viewer = await viewer_of(request, api=True, public=public)
    if account and viewer.account is None and viewer.assistant is None:
        raise NotAuthenticated("请先登录居民账号")
    return viewer


def _me(viewer: Viewer, *, phone_proof: bool = False, enabled: bool = True) -> dict[str, Any]:
    """The account and placement; ``enabled`` is false when the plugin is off in the resident's
    committee, ``must_confirm_phone`` when an SMS code is wanted before verifying by ID number."""
    ref = viewer.resident
    account = viewer.account
    confirmed = account is not None and account.phone_confirmed_at is not None
    return {
        "account": None
        if account is None
        else {
            "id": account.id,
            "phone": account.phone_masked,
            "verified": ref is not None,
            "verified_via": account.verified_via or None,
            "phone_confirmed": confirmed,
            "must_confirm_phone": phone_proof and not confirmed and ref is None,
        },
        "resident": None
        if ref is None
        else {
            "id": ref.id,
            "name": ref.name,
            "committee": {"code": ref.committee.code, "name": ref.committee.name},
            "address": ref.address_label,
            "building": ref.building,
            "household_number": ref.household_number,
        },
        "assisted_by": viewer.assisted_by,
        "enabled": enabled,
    }


def _phone_proof(request: Request) -> bool:
    return phone.required(plugin_from_request(request).settings)


async def _me_response(request: Request, status_code: int = 200, **extra: Any) -> Response:
    viewer = await _viewer(request, public=True)
    enabled = True
    if viewer.resident is not None:
        name = plugin_from_request(request).name
        platform = platform_from_request(request)
        enabled = await run(is_open, platform, name, viewer.resident.committee)
    body = _me(viewer, phone_proof=_phone_proof(request), enabled=enabled)
    return JSONResponse({**body, **extra}, status_code=status_code)


# -- account -----------------------------------------------------------------------------------


@describe(body=docs.CREDENTIALS, response=docs.ME, status=201)
async def signup(request: Request) -> Response:
    """201 with the account; with ``phone_proof = "sms"`` also ``phone_code`` (where the SMS
    code went, how long it lives, when another may be asked for)."""
    body = await json_object(request)
    prove = _phone_proof(request)
    account, sent = await run(
        accounts.sign_up,
        platform_from_request(request),
        body.get("phone"),
        body.get("password"),
        prove_phone=prove,
        client=client_address(request),
        per_address_hour=signups_per_hour(request),
    )
    data = _me(Viewer(account), phone_proof=prove)
    if sent is not None:
        data["phone_code"] = sent.as_dict()
    return JSONResponse(data, status_code=201)


@describe(body=docs.CREDENTIALS, response=docs.TOKEN)
async def login(request: Request) -> Response:
    body = await json_object(request)
    days = int(plugin_from_request(request).settings.get("session_days", 30))
    _, token = await run(
        accounts.log_in,
        platform_from_request(request),
        body.get("phone"),
        body.get("password"),
        kind="api",
        lifetime=timedelta(days=days),
        client=client_address(request),
    )
    return JSONResponse({"token": token, "header": "X-Resident-Token"})


@describe(responses=docs.NO_CONTENT)
async def logout(request: Request) -> Response:
    token = request.headers.get(TOKEN_HEADER)
    if token:
        await run(accounts.log_out, platform_from_request(request), token)
    return Response(status_code=204)


@describe(response=docs.ME)
async def me(request: Request) -> Response:
    return await _me_response(request)


async def _own_account(request: Request) -> int:
    """The signed-in resident's own account (not in assisted mode), for the phone routes."""
    viewer = await _viewer(request)
    if viewer.account is None or viewer.account.id is None:
        raise ValidationFailed("代办模式下不能验证手机号", field="(account)")
    if not _phone_proof(request):
        raise Conflict("本平台未启用短信验证手机号", field="phone", code="phone_proof_off")
    return viewer.account.id


@describe(body=docs.CODE, response=docs.ME)
async def phone_confirm(request: Request) -> Response:
    """``{code}``: the SMS code sent to the account's phone; 200 with the account."""
    account_id = await _own_account(request)
    body = await json_object(request)
    await run(phone.confirm, platform_from_request(request), account_id, body.get("code"))
    return await _me_response(request)


@describe(response=docs.SENT, status=202)
async def phone_resend(request: Request) -> Response:
    """Send a new SMS code (429 within the cool-down or past the hourly or daily limit)."""
    account_id = await _own_account(request)
    sent = await run(phone.resend, platform_from_request(request), account_id)
    return JSONResponse(sent.as_dict(), status_code=202)


@describe(body=docs.VERIFY, response=docs.ME)
async def verify(request: Request) -> Response:
    viewer = await _viewer(request)
    if viewer.account is None:
        raise ValidationFailed("代办模式下不能核验账号", field="(account)")
    body = await json_object(request)
    platform = platform_from_request(request)
    name = plugin_from_request(request).name
    if "code" in body:
        await run(
            accounts.redeem_code,
            platform,
            viewer.account.id,
            body.get("code"),
            body.get("name"),
            plugin_name=name,
            client=client_address(request),
        )
    else:
        await run(
            accounts.verify_identity,
            platform,
            viewer.account.id,
            body.get("name"),
            body.get("id_number"),
            plugin_name=name,
            require_phone=_phone_proof(request),
            client=client_address(request),
        )
    return await _me_response(request)


# -- public content ----------------------------------------------------------------------------


async def _unit(request: Request) -> Any:
    code = request.query_params.get("unit", "").strip()
    if not code:
        return None
    platform = platform_from_request(request)

    def find() -> Any:
        with platform.session() as session:
            return platform.unit(session, code)

    unit = await run(find)
    if unit is None:
        raise ValidationFailed("找不到该单位", field="unit")
    return unit


@describe(query=[docs.UNIT_PARAM], response=docs.ANNOUNCEMENTS)
async def announcements(request: Request) -> Response:
    viewer = await _viewer(request, account=False, public=True)
    rows = await run(
        notices.announcements_for,
        platform_from_request(request),
        viewer,
        await _unit(request),
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse({"items": [notices.announcement_dict(r) for r in rows]})


@describe(response=docs.ANNOUNCEMENT)
async def announcement(request: Request) -> Response:
    viewer = await _viewer(request, account=False, public=True)
    row, reads, attached = await run(
        notices.read_announcement,
        platform_from_request(request),
        viewer,
        request.path_params["item_id"],
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse(notices.announcement_dict(row, reads, attached))


@describe(query=[docs.UNIT_PARAM, docs.CATEGORY_PARAM], response=docs.DISCLOSURES)
async def disclosures(request: Request) -> Response:
    viewer = await _viewer(request, account=False, public=True)
    unit = await _unit(request) or (viewer.resident.committee if viewer.resident else None)
    if unit is None:
        raise ValidationFailed("请指定居委（unit=居委编码）", field="unit")
    rows = await run(
        notices.disclosures,
        platform_from_request(request),
        unit,
        request.query_params.get("category"),
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse({"items": [notices.disclosure_dict(r) for r in rows]})


@describe(response=docs.DISCLOSURE)
async def disclosure(request: Request) -> Response:
    row, history, attached = await run(
        notices.disclosure,
        platform_from_request(request),
        request.path_params["item_id"],
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse(notices.disclosure_dict(row, history, attached))


# -- 在线服务 ------------------------------------------------------------------------------------


@describe(response=docs.SERVICE_REQUESTS)
async def my_requests(request: Request) -> Response:
    viewer = await _viewer(request)
    rows = await run(servicedesk.mine, platform_from_request(request), viewer)
    return JSONResponse({"items": [servicedesk.as_dict(r) for r in rows]})


@describe(requestBody=docs.NEW_REQUEST_BODY, response=docs.SERVICE_REQUEST, status=201)
async def submit_request(request: Request) -> Response:
    """JSON ``{category, title, body}``, or the same as a multipart form with ``photos``."""
    viewer = await _viewer(request)
    due = plugin_from_request(request).settings.get("request_due_days", {})
    if is_multipart(request):
        body, photos = await form_with_files(request, "photos", files.MAX_REQUEST_PHOTOS)
    else:
        body, photos = await json_object(request), []
    row = await run(servicedesk.submit, platform_from_request(request), viewer, body, due, photos)
    return await _own_request(request, viewer, row.id, status_code=201)


async def _own_request(
    request: Request, viewer: Viewer, item_id: Any, status_code: int = 200
) -> Response:
    platform = platform_from_request(request)
    plugin = plugin_from_request(request)
    row, replies = await run(servicedesk.own, platform, viewer, item_id)
    photos = await run(servicedesk.photos_of, platform, item_id)

    def url(ref: Any) -> str:
        return plugin.api_url(f"/requests/{item_id}/photos/{ref.id}")

    return JSONResponse(
        servicedesk.as_dict(row, replies, files.as_dicts(photos, url)), status_code=status_code
    )


@describe(response=docs.SERVICE_REQUEST)
async def my_request(request: Request) -> Response:
    viewer = await _viewer(request)
    return await _own_request(request, viewer, request.path_params["item_id"])


@describe(body=docs.RESIDENT_REPLY, response=docs.SERVICE_REQUEST, status=201)
async def add_to_request(request: Request) -> Response:
    viewer = await _viewer(request)
    platform = platform_from_request(request)
    item_id = request.path_params["item_id"]
    await run(servicedesk.resident_reply, platform, viewer, item_id, await json_object(request))
    return await _own_request(request, viewer, item_id, status_code=201)


@describe(requestBody=docs.PHOTOS_BODY, response=docs.SERVICE_REQUEST, status=201)
async def add_photos(request: Request) -> Response:
    """Multipart ``photos`` (one or more) added to one's own open request."""
    viewer = await _viewer(request)
    item_id = request.path_params["item_id"]
    _, photos = await form_with_files(request, "photos", files.MAX_REQUEST_PHOTOS)
    await run(servicedesk.add_photos, platform_from_request(request), viewer, item_id, photos)
    return await _own_request(request, viewer, item_id, status_code=201)


@describe(query=[docs.DOWNLOAD], responses=docs.FILE)
async def photo(request: Request) -> Response:
    """A photo of one's own request (``?download=1`` to save it)."""
    viewer = await _viewer(request)
    return await run(
        servicedesk.photo_response,
        platform_from_request(request),
        viewer,
        request.path_params["item_id"],
        request.path_params["attachment_id"],
        request.query_params.get("download") == "1",
    )


# -- 议事厅 -------------------------------------------------------------------------------------


def _topic_view(session: Any, platform: Any, topic: Any, viewer: Viewer) -> dict[str, Any]:
    tally.settle(platform, session, topic)
    ballot = deliberation.ballot_of(session, topic, viewer)
    now_standing = tally.standing(platform, session, topic)
    return {
        **deliberation.summary(topic),
        "ballots_cast": now_standing["ballots"],
        "standing": now_standing,
        "my_ballot": None if ballot is None else {"option": ballot.option},
        "can_vote": deliberation.refusal(topic, viewer) is None,
        "why_not": deliberation.refusal(topic, viewer),
        "stances": deliberation.stance_counts(session, topic.id),
    }


@describe(response=docs.TOPICS)
async def topics(request: Request) -> Response:
    viewer = await _viewer(request)
    rows = await run(deliberation.for_viewer, platform_from_request(request), viewer)
    return JSONResponse({"items": [deliberation.summary(t) for t in rows]})


@describe(response=docs.TOPIC)
async def topic(request: Request) -> Response:
    viewer = await _viewer(request)
    platform = platform_from_request(request)

    def load() -> dict[str, Any]:
        with platform.session() as session:
            row = deliberation.get_visible(session, request.path_params["item_id"], viewer)
            data = _topic_view(session, platform, row, viewer)
            data["comments"] = [
                {
                    "id": c.id,
                    "author": c.author,
                    "stance": c.stance,
                    "body": c.body,
                    "created_at": c.created_at.isoformat(),
                }
                for c in deliberation.comments(session, row.id or 0)
            ]
            return data

    return JSONResponse(await run(load))


@describe(body=docs.BALLOT, response=docs.CAST)
async def vote(request: Request) -> Response:
    viewer = await _viewer(request)
    body = await json_object(request)
    ballot = await run(
        deliberation.cast_vote,
        platform_from_request(request),
        request.path_params["item_id"],
        viewer,
        body.get("option"),
    )
    return JSONResponse(
        {"topic_id": ballot.topic_id, "option": ballot.option, "changes": ballot.changes}
    )


@describe(body=docs.TOPIC_COMMENT, response=docs.CREATED, status=201)
async def comment_topic(request: Request) -> Response:
    viewer = await _viewer(request)
    row = await run(
        deliberation.comment,
        platform_from_request(request),
        request.path_params["item_id"],
        viewer,
        await json_object(request),
    )
    return JSONResponse({"ok": True, "id": row.id}, status_code=201)


# -- 邻里互动 -----------------------------------------------------------------------------------


@describe(response=docs.POSTS)
async def posts(request: Request) -> Response:
    viewer = await _viewer(request)
    threads = await run(neighbours.posts_for, platform_from_request(request), viewer)
    return JSONResponse(
        {
            "items": [
                {
                    "id": t.post.id,
                    "author": t.post.author,
                    "body": t.post.body,
                    "created_at": t.post.created_at.isoformat(),
                    "comments": [
                        {"id": c.id, "author": c.author, "body": c.body} for c in t.comments
                    ],
                }
                for t in threads
            ]
        }
    )


@describe(body=docs.NEW_POST, response=docs.POST, status=201)
async def create_post(request: Request) -> Response:
    viewer = await _viewer(request)
    row = await run(
        neighbours.create_post, platform_from_request(request), viewer, await json_object(request)
    )
    return JSONResponse({"id": row.id, "body": row.body, "author": row.author}, status_code=201)


@describe(body=docs.POST_COMMENT, response=docs.CREATED, status=201)
async def comment_post(request: Request) -> Response:
    viewer = await _viewer(request)
    await run(
        neighbours.comment,
        platform_from_request(request),
        viewer,
        request.path_params["item_id"],
        await json_object(request),
    )
    return JSONResponse({"ok": True}, status_code=201)


@describe(body=docs.REPORT, response=docs.HIDDEN, status=201)
async def report(request: Request) -> Response:
    viewer = await _viewer(request)
    body = await json_object(request)
    threshold = int(plugin_from_request(request).settings.get("auto_hide_reports", 3))
    hidden = await run(
        neighbours.report,
        platform_from_request(request),
        viewer,
        body.get("target_type"),
        body.get("target_id"),
        body.get("reason"),
        threshold=threshold,
    )
    return JSONResponse({"hidden": hidden}, status_code=201)


@describe(response=docs.NOTIFICATIONS)
async def notifications(request: Request) -> Response:
    viewer = await _viewer(request)
    if viewer.resident is None:
        return JSONResponse({"items": []})
    rows = await run(notify.for_resident, platform_from_request(request), viewer.resident.id)
    return JSONResponse(
        {
            "items": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "title": n.title,
                    "link": n.link,
                    "read": n.read_at is not None,
                    "created_at": n.created_at.isoformat(),
                }
                for n in rows
            ]
        }
    )


@describe(responses=docs.NO_CONTENT)
async def notifications_read(request: Request) -> Response:
    viewer = await _viewer(request)
    if viewer.resident is not None:
        await run(notify.mark_read, platform_from_request(request), viewer.resident.id)
    return Response(status_code=204)


ROUTES = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/phone/confirm", phone_confirm, methods=["POST"]),
    Route("/auth/phone/resend", phone_resend, methods=["POST"]),
    Route("/me", me, methods=["GET"]),
    Route("/me/verify", verify, methods=["POST"]),
    Route("/announcements", announcements, methods=["GET"]),
    Route("/announcements/{item_id:int}", announcement, methods=["GET"]),
    Route("/disclosures", disclosures, methods=["GET"]),
    Route("/disclosures/{item_id:int}", disclosure, methods=["GET"]),
    Route("/requests", my_requests, methods=["GET"]),
    Route("/requests", submit_request, methods=["POST"]),
    Route("/requests/{item_id:int}", my_request, methods=["GET"]),
    Route("/requests/{item_id:int}/replies", add_to_request, methods=["POST"]),
    Route("/requests/{item_id:int}/photos", add_photos, methods=["POST"]),
    Route("/requests/{item_id:int}/photos/{attachment_id}", photo, methods=["GET"]),
    Route("/topics", topics, methods=["GET"]),
    Route("/topics/{item_id:int}", topic, methods=["GET"]),
    Route("/topics/{item_id:int}/ballot", vote, methods=["PUT"]),
    Route("/topics/{item_id:int}/comments", comment_topic, methods=["POST"]),
    Route("/posts", posts, methods=["GET"]),
    Route("/posts", create_post, methods=["POST"]),
    Route("/posts/{item_id:int}/comments", comment_post, methods=["POST"]),
    Route("/reports", report, methods=["POST"]),
    Route("/notifications", notifications, methods=["GET"]),
    Route("/notifications/read", notifications_read, methods=["POST"]),
    *api_manage.ROUTES,
]
