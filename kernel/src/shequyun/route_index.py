"""A router that tries only the routes a path's first segment can reach.

Starlette's :class:`~starlette.routing.Router` tries its routes one after another until one
matches. The platform's top level holds every plugin's mount, the API mount and every portal
page (about 80 routes), so ``GET /healthz`` ran some 80 regular expressions before its own:
that was most of what a request to the kernel cost beyond a bare Starlette app (issue 20).

:class:`IndexedRouter` groups the routes by the literal first segment of their path
(``/healthz`` → ``healthz``, ``Mount("/api/v1")`` → ``api``); a route whose first segment is
a parameter, or that has no path (a ``Host``), is tried for every path. A request tries the
routes of its own first segment together with those, **in their original order**, so the
route chosen is the one Starlette would choose: a route left out cannot match, since its
first literal segment differs from the path's. Anything but a full match among them (a 405, a
trailing-slash redirect, a 404) is left to Starlette's own loop over every route, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

__all__ = ["IndexedRouter", "first_segment", "template_aimed_at"]


def first_segment(route: BaseRoute) -> str | None:
    """The literal first segment every path the route matches starts with, or None when the
    route may match paths starting with anything."""
    if not isinstance(route, Route | Mount | WebSocketRoute):
        return None
    path = route.path
    if not path.startswith("/"):
        return None
    segment = path[1:].split("/", 1)[0]
    if "{" in segment or (isinstance(route, Mount) and not segment):
        return None  # a parameter, or a mount at the root: anything may follow
    return segment


def template_aimed_at(routes: Sequence[BaseRoute] | Router, scope: Scope) -> str | None:
    """The template of the route (``/api/v1/residents/{resident_id}``) that ``scope``'s path
    and method would reach among ``routes`` (a list, or a router), looking into mounts, or None
    when none would. For a request answered before the router ran (a refused token, a failed
    CSRF check, a body over the bound): the route it was for, never the path itself. A path
    that only the same path with or without a trailing slash serves gets that route's
    template: Starlette answers it with a redirect (307) there.

    An :class:`IndexedRouter` (the platform's top level, the API's and every plugin's mount) is
    asked only for the routes of the path's first segment, so a stream of 404s from a scanner
    costs a few routes each, not every route of the platform."""
    found = _aimed_at(routes, scope)
    if found is not None or scope.get("type") != "http":
        return found
    path = str(scope["path"])
    route_path = get_route_path(scope)
    if route_path in ("", "/"):
        return None
    flipped = path.rstrip("/") if route_path.endswith("/") else path + "/"
    return _aimed_at(routes, {**scope, "path": flipped}, redirect=True)


def _aimed_at(
    routes: Sequence[BaseRoute] | Router, scope: Scope, *, redirect: bool = False
) -> str | None:
    """:func:`template_aimed_at` without the trailing slash's second try, at the top level;
    inside a mount the mount's router tries it (as Starlette's does). ``redirect``: the path
    is already the one a redirect would name."""
    if isinstance(routes, IndexedRouter):
        tried: Sequence[BaseRoute] = routes.candidates(get_route_path(scope))
    elif isinstance(routes, Router):
        tried = routes.routes
    else:
        tried = routes
    partial: str | None = None
    for route in tried:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        template: str | None = getattr(route, "path", None)
        if isinstance(route, Mount):
            inner = _router_inside(route)
            if inner is None:  # static files: whatever follows the mount
                template = route.path + "/{path}"
            else:
                inside = {**scope, **child}
                found = _aimed_at(inner, inside) if redirect else template_aimed_at(inner, inside)
                template = None if found is None else route.path + found
        if match is Match.FULL:
            return template or partial
        partial = partial or template  # another method's route: Starlette's 405
    return partial


def _router_inside(mount: Mount) -> Router | list[BaseRoute] | None:
    """The router a mount hands its requests to (or its route list), through wrappers that
    keep it in ``.app`` (a plugin's guard); None when it holds no routes (static files)."""
    app: object = mount.app
    for _ in range(4):
        if isinstance(app, Router):
            return app if app.routes else None
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            return routes or None
        app = getattr(app, "app", None)
    return None


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that tries only the routes a path can reach."""

    #: The route list the index was built from, its length then, routes by first segment
    #: and the catch-all routes.
    _indexed: tuple[list[BaseRoute], int, dict[str, tuple[BaseRoute, ...]], tuple[BaseRoute, ...]]
    _indexed = ([], -1, {}, ())

    def _reindex(self) -> tuple[dict[str, tuple[BaseRoute, ...]], tuple[BaseRoute, ...]]:
        """Routes by first segment (each list with the catch-all routes, in order), and the
        catch-all routes alone, from the current route list."""
        routes = self.routes
        segments = [first_segment(route) for route in routes]
        anywhere = tuple(r for r, s in zip(routes, segments, strict=True) if s is None)
        by_segment: dict[str, tuple[BaseRoute, ...]] = {}
        for name in {s for s in segments if s is not None}:
            by_segment[name] = tuple(
                r for r, s in zip(routes, segments, strict=True) if s is None or s == name
            )
        self._indexed = (routes, len(routes), by_segment, anywhere)
        return by_segment, anywhere

    def candidates(self, route_path: str) -> Sequence[BaseRoute]:
        """The routes that may match ``route_path``, in their order. The index is built again
        when the route list was replaced or has grown since."""
        if not route_path.startswith("/"):
            return self.routes
        indexed = self._indexed
        if indexed[0] is self.routes and indexed[1] == len(indexed[0]):
            by_segment, anywhere = indexed[2], indexed[3]
        else:
            by_segment, anywhere = self._reindex()
        end = route_path.find("/", 1)
        return by_segment.get(route_path[1:end] if end > 0 else route_path[1:], anywhere)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    if "router" not in scope:
                        scope["router"] = self
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        # No full match (or a lifespan): Starlette's own loop decides, over every route.
        await super().app(scope, receive, send)
