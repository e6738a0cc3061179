"""The cadres' JSON API under ``/api/v1/plugins/interaction/manage/``: topics, the request
queue, moderation, verification codes, announcements and disclosures, digests.

Each route is guarded by its permission (:func:`shequyun_sdk.requires`); objects are reached
through the kernel's scope filter, so other committees' objects answer 404.
"""

from __future__ import annotations

from datetime import timedelta

from shequyun_sdk import (
    Actor,
    ValidationFailed,
    actor_from_request,
    platform_from_request,
    plugin_from_request,
    requires,
)
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import is_id
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import (
    affairs,
    deliberation,
    escalation,
    files,
    neighbours,
    notices,
    notify,
    servicedesk,
    tally,
    verification,
)
from . import api_schemas as docs
from .core import ASSIST, DELIBERATE, MODERATE, OPERATE, PUBLISH, SERVE
from .web import json_object, run

__all__ = ["ROUTES"]


def _actor(request: Request) -> Actor:
    actor = actor_from_request(request)
    assert actor is not None  # requires() let the request through
    return actor


@describe(body=docs.NEW_TOPIC, response=docs.TOPIC, status=201)
@requires(DELIBERATE)
async def open_topic(request: Request) -> Response:
    row = await run(
        deliberation.open_topic,
        platform_from_request(request),
        _actor(request),
        await json_object(request),
    )
    return JSONResponse(deliberation.summary(row), status_code=201)


@describe(response=docs.TOPIC)
@requires(DELIBERATE)
async def close_topic(request: Request) -> Response:
    row = await run(
        tally.close_topic,
        platform_from_request(request),
        _actor(request),
        request.path_params["item_id"],
    )
    return JSONResponse(deliberation.summary(row))


@describe(response=docs.RECOUNT)
@requires(DELIBERATE)
async def recount(request: Request) -> Response:
    return JSONResponse(
        await run(
            tally.recount,
            platform_from_request(request),
            _actor(request),
            request.path_params["item_id"],
        )
    )


@describe(response=docs.BALLOTS)
@requires(DELIBERATE)
async def ballots(request: Request) -> Response:
    items = await run(
        tally.ballots_for_cadre,
        platform_from_request(request),
        _actor(request),
        request.path_params["item_id"],
    )
    return JSONResponse({"items": items})


@describe(query=[docs.QUEUE_STATUS], response=docs.SERVICE_REQUESTS)
@requires(SERVE)
async def request_queue(request: Request) -> Response:
    rows = await run(
        servicedesk.queue,
        platform_from_request(request),
        _actor(request),
        request.query_params.get("status", "open"),
    )
    return JSONResponse({"items": [servicedesk.as_dict(r) for r in rows]})


async def _request_view(request: Request, status_code: int = 200) -> Response:
    """A request of the cadre's committees with replies and photos (served at the kernel URL,
    which reads them to holders of ``interaction.serve`` on the committee)."""
    platform = platform_from_request(request)
    item_id = request.path_params["item_id"]
    row, replies = await run(servicedesk.for_cadre, platform, _actor(request), item_id)
    photos = await run(servicedesk.photos_of, platform, item_id)
    return JSONResponse(
        servicedesk.as_dict(row, replies, files.as_dicts(photos)), status_code=status_code
    )


@describe(response=docs.SERVICE_REQUEST)
@requires(SERVE)
async def request_detail(request: Request) -> Response:
    return await _request_view(request)


@describe(body=docs.CADRE_REPLY, response=docs.SERVICE_REQUEST, status=201)
@requires(SERVE)
async def reply_request(request: Request) -> Response:
    platform = platform_from_request(request)
    item_id = request.path_params["item_id"]
    await run(
        servicedesk.cadre_reply, platform, _actor(request), item_id, await json_object(request)
    )
    return await _request_view(request, status_code=201)


@describe(body=docs.ESCALATION, response=docs.SERVICE_REQUEST)
@requires(SERVE)
async def escalate_request(request: Request) -> Response:
    """Pass a request to the 末端处置 case channel (once): body ``note`` (optional)."""
    platform = platform_from_request(request)
    item_id = request.path_params["item_id"]
    await run(escalation.escalate, platform, _actor(request), item_id, await json_object(request))
    return await _request_view(request)


@describe(response=docs.MODERATION)
@requires(MODERATE)
async def moderation_queue(request: Request) -> Response:
    items = await run(neighbours.queue, platform_from_request(request), _actor(request))
    return JSONResponse(
        {
            "items": [
                {
                    "target_type": i.target_type,
                    "target_id": i.item.id,
                    "author": i.item.author,
                    "body": i.item.body,
                    "status": i.item.status,
                    "reports": i.item.report_count,
                    "reasons": i.reasons,
                    "topic": None
                    if i.topic is None
                    else {"id": i.topic.id, "title": i.topic.title},
                }
                for i in items
            ]
        }
    )


@describe(body=docs.DECISION, response=docs.DECIDED, status=201)
@requires(MODERATE)
async def moderate(request: Request) -> Response:
    row = await run(
        neighbours.decide,
        platform_from_request(request),
        _actor(request),
        request.path_params["target_type"],
        request.path_params["item_id"],
        await json_object(request),
    )
    return JSONResponse({"id": row.id, "decision": row.decision}, status_code=201)


@describe(body=docs.ISSUE_CODE, response=docs.ISSUED, status=201)
@requires(ASSIST)
async def issue_code(request: Request) -> Response:
    body = await json_object(request)
    resident_id = body.get("resident_id")
    if not is_id(resident_id):
        raise ValidationFailed("请提供居民编号 resident_id", field="resident_id")
    days = int(plugin_from_request(request).settings.get("code_days", 14))
    code, row = await run(
        verification.issue_code,
        platform_from_request(request),
        _actor(request),
        resident_id,
        timedelta(days=days),
    )
    return JSONResponse(
        {"code": code, "resident_id": resident_id, "expires_at": row.expires_at.isoformat()},
        status_code=201,
    )


@describe(body=docs.NEW_ANNOUNCEMENT, response=docs.ANNOUNCEMENT, status=201)
@requires(PUBLISH)
async def publish_announcement(request: Request) -> Response:
    """``{title, body, pinned?, expires_on?, attachments?: [ids uploaded first]}``."""
    platform = platform_from_request(request)
    row = await run(notices.publish, platform, _actor(request), await json_object(request))
    attached = await run(files.of, platform, "announcement", row.id)
    return JSONResponse(notices.announcement_dict(row, 0, attached), status_code=201)


@describe(response=docs.ANNOUNCEMENT)
@requires(PUBLISH)
async def withdraw_announcement(request: Request) -> Response:
    platform = platform_from_request(request)
    row = await run(notices.withdraw, platform, _actor(request), request.path_params["item_id"])
    attached = await run(files.of, platform, "announcement", row.id)
    return JSONResponse(notices.announcement_dict(row, None, attached))


@describe(body=docs.NEW_DISCLOSURE, response=docs.DISCLOSURE, status=201)
@requires(PUBLISH)
async def disclose(request: Request) -> Response:
    """``{category, title, body, attachments?: [ids uploaded first]}``."""
    platform = platform_from_request(request)
    row = await run(affairs.disclose, platform, _actor(request), await json_object(request))
    _, history, attached = await run(affairs.disclosure, platform, row.id)
    return JSONResponse(affairs.disclosure_dict(row, history, attached), status_code=201)


@describe(body=docs.REVISION, response=docs.DISCLOSURE)
@requires(PUBLISH)
async def revise(request: Request) -> Response:
    """A new version: ``{category, title, body, note, attachments?}``; ``attachments`` lists
    the new version's files (earlier ones to keep, new uploads), absent keeps them all."""
    platform = platform_from_request(request)
    row = await run(
        affairs.revise,
        platform,
        _actor(request),
        request.path_params["item_id"],
        await json_object(request),
    )
    _, history, attached = await run(affairs.disclosure, platform, row.id)
    return JSONResponse(affairs.disclosure_dict(row, history, attached))


@describe(response=docs.DIGESTS)
@requires(OPERATE)
async def digests(request: Request) -> Response:
    sent = await run(notify.run_digests, platform_from_request(request))
    return JSONResponse({"digests": sent})


ROUTES = [
    Route("/manage/topics", open_topic, methods=["POST"]),
    Route("/manage/topics/{item_id:int}/close", close_topic, methods=["POST"]),
    Route("/manage/topics/{item_id:int}/recount", recount, methods=["GET"]),
    Route("/manage/topics/{item_id:int}/ballots", ballots, methods=["GET"]),
    Route("/manage/requests", request_queue, methods=["GET"]),
    Route("/manage/requests/{item_id:int}", request_detail, methods=["GET"]),
    Route("/manage/requests/{item_id:int}/replies", reply_request, methods=["POST"]),
    Route("/manage/requests/{item_id:int}/escalate", escalate_request, methods=["POST"]),
    Route("/manage/moderation", moderation_queue, methods=["GET"]),
    Route("/manage/moderation/{target_type}/{item_id:int}", moderate, methods=["POST"]),
    Route("/manage/codes", issue_code, methods=["POST"]),
    Route("/manage/announcements", publish_announcement, methods=["POST"]),
    Route("/manage/announcements/{item_id:int}/withdraw", withdraw_announcement, methods=["POST"]),
    Route("/manage/disclosures", disclose, methods=["POST"]),
    Route("/manage/disclosures/{item_id:int}", revise, methods=["PATCH"]),
    Route("/manage/digests", digests, methods=["POST"]),
]
