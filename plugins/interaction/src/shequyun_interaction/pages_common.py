"""What the resident pages share: the page frame (with the unread-message count of the tabs),
the plugin settings they read, and the "本社区未开通居社互动" page for a committee switched off.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from shequyun_sdk import platform_from_request, plugin_from_request
from starlette.requests import Request
from starlette.responses import Response

from . import notify, phone
from .availability import NotOpen
from .core import Viewer
from .web import render, run

__all__ = ["page", "phone_proof_required", "plugin_name", "session_days", "shown_when_closed"]


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


def session_days(request: Request) -> int:
    return int(plugin_from_request(request).settings.get("session_days", 30))


def plugin_name(request: Request) -> str:
    return plugin_from_request(request).name


def phone_proof_required(request: Request) -> bool:
    return phone.required(plugin_from_request(request).settings)


def shown_when_closed(
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
