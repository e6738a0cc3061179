"""Checks every route gets from the kernel before its handler runs.

Starlette's ``{name:int}`` converter takes any run of ASCII digits, so ``/residents/{id:int}``
hands a handler ``2**70``, which SQLite cannot bind (``OverflowError``, a 500). Rather than each
handler bounding its ids, :func:`checked_routes` wraps every route, the kernel's and the
plugins', so that an integer path parameter no stored row can have is a 404 naming the
parameter. (Text parameters a handler reads as ids go through ``shequyun_sdk.params.path_id``.)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from shequyun_sdk.errors import NotFound
from shequyun_sdk.params import MAX_ID
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RouteChecks", "checked_routes"]


class RouteChecks:
    """Wraps one route's app: its integer path parameters are checked before it runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                raise NotFound(f"{name}：没有这个编号", field=name)
        await self.app(scope, receive, send)


def checked_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Copies of ``routes`` (mounts' routes included) each wrapped in :class:`RouteChecks`.

    Copies, because route lists are often module-level and shared by every app built in the
    process (tests build many)."""
    checked: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            route = copy.copy(route)
            route.app = RouteChecks(route.app)
        elif isinstance(route, Mount) and isinstance(route.app, Router):
            route = Mount(route.path, routes=checked_routes(route.routes), name=route.name)
        checked.append(route)
    return checked
