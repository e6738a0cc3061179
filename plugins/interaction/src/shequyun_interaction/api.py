"""JSON API under ``/api/v1/plugins/interaction/`` for the residents' mobile app (cadres': in
:mod:`.api_manage`).

Residents authenticate with ``X-Resident-Token`` (from ``POST /auth/login``); cadres with the
platform's bearer token, and may act for a resident by adding ``X-Assist-Resident: <id>``.
With ``phone_proof = "sms"`` a new account confirms the SMS code it was sent
(``POST /auth/phone/confirm``) before verifying by name and ID number. Errors leave in the
platform's shape ``{"error": {"code", "message", "field"?}}``.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import (
    ValidationFailed,
    platform_from_request,
    plugin_from_request,
)
from shequyun_sdk.openapi import describe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import (
    affairs,
    api_account,
    api_manage,
    deliberation,
    files,
    neighbours,
    notices,
    notify,
    servicedesk,
    tally,
)
from . import api_schemas as docs
from .api_account import resident_viewer
from .core import Viewer
from .web import (
    form_with_files,
    is_multipart,
    json_object,
    run,
)

__all__ = ["ROUTES"]


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


@describe(query=[docs.ANNOUNCEMENTS_UNIT_PARAM], response=docs.ANNOUNCEMENTS)
async def announcements(request: Request) -> Response:
    viewer = await resident_viewer(request, account=False, public=True)
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
    viewer = await resident_viewer(request, account=False, public=True)
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
    viewer = await resident_viewer(request, account=False, public=True)
    unit = await _unit(request) or (viewer.resident.committee if viewer.resident else None)
    if unit is None:
        raise ValidationFailed("请指定居委（unit=居委编码）", field="unit")
    rows = await run(
        affairs.disclosures,
        platform_from_request(request),
        unit,
        request.query_params.get("category"),
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse({"items": [affairs.disclosure_dict(r) for r in rows]})


@describe(response=docs.DISCLOSURE)
async def disclosure(request: Request) -> Response:
    row, history, attached = await run(
        affairs.disclosure,
        platform_from_request(request),
        request.path_params["item_id"],
        plugin_name=plugin_from_request(request).name,
    )
    return JSONResponse(affairs.disclosure_dict(row, history, attached))


# -- 在线服务 ------------------------------------------------------------------------------------


@describe(response=docs.SERVICE_REQUESTS)
async def my_requests(request: Request) -> Response:
    viewer = await resident_viewer(request)
    rows = await run(servicedesk.mine, platform_from_request(request), viewer)
    return JSONResponse({"items": [servicedesk.as_dict(r) for r in rows]})


@describe(requestBody=docs.NEW_REQUEST_BODY, response=docs.SERVICE_REQUEST, status=201)
async def submit_request(request: Request) -> Response:
    """JSON ``{category, title, body}``, or the same as a multipart form with ``photos``."""
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
    return await _own_request(request, viewer, request.path_params["item_id"])


@describe(body=docs.RESIDENT_REPLY, response=docs.SERVICE_REQUEST, status=201)
async def add_to_request(request: Request) -> Response:
    viewer = await resident_viewer(request)
    platform = platform_from_request(request)
    item_id = request.path_params["item_id"]
    await run(servicedesk.resident_reply, platform, viewer, item_id, await json_object(request))
    return await _own_request(request, viewer, item_id, status_code=201)


@describe(requestBody=docs.PHOTOS_BODY, response=docs.SERVICE_REQUEST, status=201)
async def add_photos(request: Request) -> Response:
    """Multipart ``photos`` (one or more) added to one's own open request."""
    viewer = await resident_viewer(request)
    item_id = request.path_params["item_id"]
    _, photos = await form_with_files(request, "photos", files.MAX_REQUEST_PHOTOS)
    await run(servicedesk.add_photos, platform_from_request(request), viewer, item_id, photos)
    return await _own_request(request, viewer, item_id, status_code=201)


@describe(query=[docs.DOWNLOAD], responses=docs.FILE)
async def photo(request: Request) -> Response:
    """A photo of one's own request (``?download=1`` to save it)."""
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
    rows = await run(deliberation.for_viewer, platform_from_request(request), viewer)
    return JSONResponse({"items": [deliberation.summary(t) for t in rows]})


@describe(response=docs.TOPIC)
async def topic(request: Request) -> Response:
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
    row = await run(
        neighbours.create_post, platform_from_request(request), viewer, await json_object(request)
    )
    return JSONResponse({"id": row.id, "body": row.body, "author": row.author}, status_code=201)


@describe(body=docs.POST_COMMENT, response=docs.CREATED, status=201)
async def comment_post(request: Request) -> Response:
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
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
    viewer = await resident_viewer(request)
    if viewer.resident is not None:
        await run(notify.mark_read, platform_from_request(request), viewer.resident.id)
    return Response(status_code=204)


ROUTES = [
    *api_account.ACCOUNT_ROUTES,
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
