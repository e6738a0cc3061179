"""在线服务 for residents: their requests (with photos), one request's thread, its photos."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, platform_from_request, plugin_from_request
from shequyun_sdk.params import path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import files, servicedesk
from .pages_common import page
from .web import form_errors, form_values, form_with_files, is_multipart, redirect, run, viewer_of

__all__ = ["ROUTES"]


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


ROUTES = [
    Route("/requests", requests_page, methods=["GET", "POST"]),
    Route("/requests/{item_id:int}", request_page, methods=["GET", "POST"]),
    Route("/requests/{item_id:int}/photos/{attachment_id}", request_photo, methods=["GET"]),
]
