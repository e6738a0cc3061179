"""The resident-facing pages (phone first): home, announcements, disclosures and notifications
here; the account pages (:mod:`.pages_account`, :mod:`.pages_phone`), 在线服务
(:mod:`.pages_services`) and 议事厅 / 邻里 (:mod:`.pages_community`) in modules of their own.

Every page works out the viewer afresh (:func:`~.web.viewer_of`); pages that need a verified
resident say so instead of showing anything, and only the public pages are shown to a resident
whose committee has the plugin switched off. Forms post back to the same page: on success a
303 to a GET page, on bad input the form again with 422 and the errors next to the fields.
"""

from __future__ import annotations

from shequyun_sdk import platform_from_request
from shequyun_sdk.params import path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    affairs,
    deliberation,
    notices,
    notify,
    pages_account,
    pages_community,
    pages_password,
    pages_phone,
    pages_services,
    servicedesk,
)
from .pages_common import page, plugin_name, shown_when_closed
from .places import choose_place
from .web import redirect, run, viewer_of

__all__ = ["ROUTES"]


# -- home ----------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    place = None
    if viewer.resident is None:
        code = request.query_params.get("unit", "").strip()
        place = await run(choose_place, platform, plugin_name(request), code)
    # Until a place is chosen a visitor stands at the city: the city's own announcements
    # apply to them, not the newest of 6,000 committees they do not live in.
    unit = place.start if place else None
    items = await run(
        notices.announcements_for, platform, viewer, unit, 20, plugin_name=plugin_name(request)
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
            "place": place,
            "open_topics": [t for t in topics if t.status == "open"][:5],
            "open_requests": [r for r in requests if r.status not in servicedesk.CLOSED][:5],
        },
    )


# -- public content ------------------------------------------------------------------------------


async def announcement(request: Request) -> Response:
    viewer = await viewer_of(request, public=True)
    row, reads, attached = await run(
        notices.read_announcement,
        platform_from_request(request),
        viewer,
        path_id(request, "item_id"),
        plugin_name=plugin_name(request),
    )
    return await page(
        request, "announcement.html", viewer, {"item": row, "reads": reads, "files": attached}
    )


async def disclosures(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request, public=True)
    code = request.query_params.get("unit", "").strip()
    place = None
    if viewer.resident is not None and not code:
        unit = viewer.resident.committee
    else:
        place = await run(choose_place, platform, plugin_name(request), code)
        unit = place.chosen
    category = request.query_params.get("category") or None
    rows = []
    if unit is not None and unit.level == "committee":
        rows = await run(
            affairs.disclosures, platform, unit, category, plugin_name=plugin_name(request)
        )
    return await page(
        request,
        "disclosures.html",
        viewer,
        {
            "unit": unit,
            "place": place,
            "rows": rows,
            "category": category,
            "categories": affairs.CATEGORIES,
            "code": code,
        },
    )


async def disclosure(request: Request) -> Response:
    viewer = await viewer_of(request, public=True)
    row, history, attached = await run(
        affairs.disclosure,
        platform_from_request(request),
        path_id(request, "item_id"),
        plugin_name=plugin_name(request),
    )
    return await page(
        request,
        "disclosure.html",
        viewer,
        {"item": row, "history": history, "files": attached, "categories": affairs.CATEGORIES},
    )


# -- 消息 ----------------------------------------------------------------------------------------


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


_ROUTES = [
    Route("/", home, methods=["GET"]),
    *pages_account.ROUTES,
    *pages_phone.ROUTES,
    *pages_password.ROUTES,
    Route("/announcements/{item_id:int}", announcement, methods=["GET"]),
    Route("/disclosures", disclosures, methods=["GET"]),
    Route("/disclosures/{item_id:int}", disclosure, methods=["GET"]),
    *pages_services.ROUTES,
    *pages_community.ROUTES,
    Route("/notifications", notifications, methods=["GET", "POST"]),
]
ROUTES = [Route(r.path, shown_when_closed(r.endpoint), methods=r.methods) for r in _ROUTES]
