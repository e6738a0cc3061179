"""Checks every route gets from the kernel before its handler runs.

- **Path integers.** Starlette's ``{name:int}`` converter takes any run of ASCII digits, so
  ``/residents/{id:int}`` would hand a handler ``2**70``, which SQLite cannot bind
  (``OverflowError``, a 500). An integer path parameter no stored row can have is a 404 naming
  the parameter. (Text parameters a handler reads as ids go through
  ``shequyun_sdk.params.path_id``.)
- **Query parameters** (API routes only). A parameter the endpoint does not declare
  (``shequyun_sdk.openapi.describe(query=...)``, the same declaration ``openapi.json`` shows)
  is a 400 naming it, instead of being ignored while the answer covers everything.

:func:`checked_routes` wraps every route, the kernel's and the plugins', so no handler has to.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from shequyun_sdk.errors import ApiError, NotFound
from shequyun_sdk.openapi import declared_query
from shequyun_sdk.params import MAX_ID
from starlette.convertors import FloatConvertor, PathConvertor, StringConvertor, UUIDConvertor
from starlette.datastructures import QueryParams
from starlette.endpoints import HTTPEndpoint
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RouteChecks", "accepted_query", "checked_routes"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RouteChecks:
    """Wraps one route's app: its path integers, and for API routes the names of its query
    parameters (``accepted``: method → declared names), are checked before it runs."""

    def __init__(self, app: ASGIApp, accepted: Mapping[str, frozenset[str]] | None) -> None:
        self.app = app
        self.accepted = accepted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                raise NotFound(f"{name}：没有这个编号", field=name)
        if self.accepted is not None and scope.get("query_string"):
            method = "GET" if scope.get("method") == "HEAD" else str(scope.get("method"))
            allowed = self.accepted.get(method, frozenset())
            for key in QueryParams(scope["query_string"]):
                if key not in allowed:
                    raise _unknown(key, allowed)
        await self.app(scope, receive, send)


def checked_routes(routes: Sequence[BaseRoute], *, api: bool = False) -> list[BaseRoute]:
    """Copies of ``routes`` (mounts' routes included) each wrapped in :class:`RouteChecks`;
    ``api`` routes also refuse undeclared query parameters.

    Copies, because route lists are often module-level and shared by every app built in the
    process (tests build many)."""
    checked: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            route = copy.copy(route)
            accepted = accepted_query(route) if api else None
            if accepted is not None or _may_hold_integers(route):  # else nothing to check
                route.app = RouteChecks(route.app, accepted)
        elif isinstance(route, Mount) and isinstance(route.app, Router):
            route = Mount(route.path, routes=checked_routes(route.routes, api=api), name=route.name)
        checked.append(route)
    return checked


def accepted_query(route: Route) -> dict[str, frozenset[str]]:
    """Method → the query parameters the route's handler for it declares."""
    endpoint: Any = route.endpoint
    if inspect.isclass(endpoint) and issubclass(endpoint, HTTPEndpoint):
        return {
            method: declared_query(getattr(endpoint, method.lower(), None))
            for method in HTTP_METHODS
        }
    return {method: declared_query(endpoint) for method in HTTP_METHODS}


def _may_hold_integers(route: Route) -> bool:
    """Whether a path parameter of ``route`` may be an integer (any convertor but the ones
    that make strings, floats or UUIDs)."""
    return not all(isinstance(c, _NOT_INTEGERS) for c in route.param_convertors.values())


_NOT_INTEGERS = (StringConvertor, PathConvertor, FloatConvertor, UUIDConvertor)


def _unknown(key: str, allowed: frozenset[str]) -> ApiError:
    if allowed:
        message = f"未知的查询参数 {key}，可用：{'、'.join(sorted(allowed))}"
    else:
        message = f"未知的查询参数 {key}：此接口不接受查询参数"
    return ApiError(message, field=key, code="unknown_parameter", status_code=400)
