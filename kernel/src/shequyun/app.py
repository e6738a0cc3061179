"""The web application: the kernel's and every plugin's routes assembled into one Starlette app.

``create_app()`` is the app factory uvicorn serves (``shequyun serve``). Plugin routes are
mounted under the plugin's mount point and wrapped in a guard that answers 404 once the plugin is
no longer active and charges unhandled errors to the plugin in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

from shequyun_sdk.types import NavEntry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .apps.calls import AppCallAudit
from .display import DisplayPreferences
from .errors import exception_handlers
from .gate import Gate
from .identity.middleware import AuthMiddleware
from .kernel import Kernel
from .metrics import process_exit
from .outages import OutageWatch
from .plugin_host import API_PREFIX, PluginRecord, PluginState
from .replicas import ReplicaRouting
from .route_index import IndexedRouter
from .routing import checked_routes
from .settings import Settings
from .templating import Renderer

__all__ = ["create_app"]

log = logging.getLogger("shequyun.app")

KERNEL_STATIC = Path(__file__).parent / "static"


class PlatformApp(Starlette):
    """Starlette without its outermost ServerErrorMiddleware: the gate (:mod:`.gate`) turns
    every error a request raises into the platform's 500 (or a 503 for a database outage) and
    re-raises only once the answer has started, when Starlette's middleware would re-raise it
    too. One layer and one wrapped ``send`` fewer for every request (issue 20)."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not isinstance(stack, ServerErrorMiddleware):  # a Starlette that builds otherwise
            return stack
        return stack.app


class PluginGuard:
    """Wraps one plugin's routes: 404 when the plugin is not active, errors charged to it."""

    def __init__(
        self, kernel: Kernel, record: PluginRecord, app: ASGIApp, *, per_unit: bool = True
    ) -> None:
        self.kernel = kernel
        self.record = record
        self.app = app
        self.per_unit = per_unit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.record.state is not PluginState.ACTIVE:
            raise HTTPException(status_code=404)
        if (
            self.per_unit
            and not self.record.builtin
            and not self.kernel.enablement.allows(self.record.name, scope.get("shequyun.actor"))
        ):
            # Not switched on where this actor works: as if it were not installed.
            raise HTTPException(status_code=404)
        scope["shequyun.plugin"] = self.record.context
        await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    plugins: Iterable[Any] = (),
    discover: bool = True,
    kernel: Kernel | None = None,
) -> Starlette:
    """Build the platform's ASGI app.

    ``plugins`` are extra plugin objects to load besides the installed ones (tests use this);
    ``discover=False`` loads only the kernel's defaults and ``plugins``.
    """
    kernel = kernel or Kernel(settings, plugins=plugins, discover=discover)
    routes = _assemble_routes(kernel)
    nav = _collect_nav(kernel)
    renderer = Renderer(
        kernel.host,
        nav,
        {name: role.title for name, role in kernel.permissions.roles.items()},
        allowed=kernel.enablement.allows,
        display=DisplayPreferences(kernel.engine),
        role_titles_en={name: role.title_en for name, role in kernel.permissions.roles.items()},
    )
    kernel.platform.bind_renderer(renderer)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Refused like `shequyun serve` refuses, however the process was started.
        await asyncio.to_thread(kernel.check_data_key)
        kernel.start()
        kernel.authenticator.epoch.start()
        worker = (
            asyncio.create_task(_inline_worker(kernel)) if kernel.settings.inline_worker else None
        )
        if kernel.settings.inline_worker:
            kernel.scheduler.start_background()
            kernel.openness.start_background()
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            # Off the event loop: a job still running gets a moment to finish.
            await asyncio.to_thread(kernel.scheduler.stop_background)
            await asyncio.to_thread(kernel.openness.stop_background)
            await asyncio.to_thread(kernel.authenticator.epoch.stop)
            try:
                await asyncio.to_thread(kernel.authenticator.token_uses.flush)
            except Exception as exc:  # the database may be away; the uses are informational
                log.warning("token last-use times not written at shutdown: %s", exc)
            kernel.stop()
            process_exit()

    middleware = [
        # First: the client's address, the request id, limits, errors, headers, metrics.
        Middleware(Gate, kernel=kernel),
        Middleware(
            AuthMiddleware,
            authenticator=lambda: kernel.authenticator,
            max_body_bytes=kernel.settings.max_body_bytes,
            secure_cookies=kernel.settings.https,
            # Only a request with an actor can be an app's call to audit.
            for_actors=lambda inner: AppCallAudit(inner, engine=kernel.engine),
        ),
    ]
    if kernel.replicas is not None:  # without replicas every read is the primary's anyway
        middleware.append(
            Middleware(
                ReplicaRouting, replicas=kernel.replicas, secure_cookies=kernel.settings.https
            )
        )
    app = PlatformApp(
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    # The same routes, tried by their first path segment (see route_index).
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.kernel = kernel
    app.state.platform = kernel.platform
    app.state.renderer = renderer
    return app


def _assemble_routes(kernel: Kernel) -> list[BaseRoute]:
    """Plugin mounts first (they are the most specific), then the kernel's own routes."""
    routes: list[BaseRoute] = []
    kernel_api: list[BaseRoute] = []
    kernel_pages: list[BaseRoute] = []
    host = kernel.host
    for hook in ("register_api_routes", "register_routes"):
        for record, contributed in host.collect(hook):
            checked = _checked_routes(kernel, record, hook, contributed)
            if checked is None or record.context is None:
                continue
            is_api = hook == "register_api_routes"
            if record.builtin:
                # The kernel's own routes keep their paths (API ones under /api/v1).
                # Copies (checked_routes makes them): the route objects are the plugin's
                # module-level lists, shared by every app built in this process (tests build many).
                guarded = checked_routes(checked, api=is_api)
                for route in guarded:
                    route.app = PluginGuard(kernel, record, route.app)  # type: ignore[attr-defined]
                (kernel_api if is_api else kernel_pages).extend(guarded)
            else:
                prefix = record.context.api_mount if is_api else record.context.mount
                routes.append(
                    Mount(
                        prefix,
                        app=PluginGuard(
                            kernel,
                            record,
                            IndexedRouter(routes=checked_routes(checked, api=is_api)),
                        ),
                    )
                )
    routes.append(Mount(API_PREFIX, app=IndexedRouter(routes=kernel_api)))
    routes.extend(kernel_pages)
    routes.append(Mount("/static/kernel", app=StaticFiles(directory=KERNEL_STATIC), name="static"))
    # Browsers and feed readers ask for /favicon.ico whatever the page links: answer with the
    # icon rather than a 404 in every first visit's log.
    routes.append(Route("/favicon.ico", _favicon, methods=["GET", "HEAD"]))
    for record, directory in host.collect("register_static"):
        path = Path(directory)
        if not path.is_dir():
            host.fail(record.name, f"register_static returned {path}, which is not a directory")
            continue
        routes.append(
            Mount(
                f"/static/plugins/{record.name}",
                # Static files hold no data and their URLs name no unit: served wherever the
                # plugin is active, so a cached script or style never depends on who asked.
                app=PluginGuard(kernel, record, StaticFiles(directory=path), per_unit=False),
            )
        )
    return routes


async def _favicon(request: Request) -> Response:
    return FileResponse(
        KERNEL_STATIC / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _checked_routes(
    kernel: Kernel, record: PluginRecord, hook: str, contributed: Any
) -> list[BaseRoute] | None:
    if not isinstance(contributed, Sequence) or not all(
        isinstance(r, BaseRoute) for r in contributed
    ):
        kernel.host.fail(record.name, f"{hook} must return a list of Starlette routes")
        return None
    return list(contributed)


def _collect_nav(kernel: Kernel) -> list[tuple[str, NavEntry]]:
    nav: list[tuple[str, NavEntry]] = []
    for record, entries in kernel.host.collect("register_nav"):
        if not isinstance(entries, Sequence) or not all(isinstance(e, NavEntry) for e in entries):
            kernel.host.fail(record.name, "register_nav must return a list of NavEntry")
            continue
        nav.extend((record.name, entry) for entry in entries)
    return nav


async def _inline_worker(kernel: Kernel, interval: float = 1.0) -> None:
    """Deliver due events from inside the web process (the embedded default)."""
    watch = OutageWatch(log, "event delivery")
    while True:
        try:
            await asyncio.to_thread(kernel.events.deliver_due)
        except Exception as exc:  # the database may be briefly unavailable; wait, try again
            await asyncio.sleep(watch.failed(exc))
            continue
        watch.succeeded()
        await asyncio.sleep(interval)
