"""The door every HTTP request passes before authentication, as one middleware.

In order, for every request:

1. who the client is, from trusted proxies' forwarded headers (:mod:`.proxies`);
2. its request id, kept for the log lines and sent back in ``X-Request-ID``
   (:mod:`.request_context`);
3. ``GET /metrics`` answered for scrapers (:mod:`.metrics`);
4. a NUL in the path or query string refused, a body over the bound refused before and while
   it is read (:mod:`.limits`);
5. an error the app did not handle turned into the platform's 500, or 503 for a database
   outage (:mod:`.errors`);
6. the security headers added to the answer (:mod:`.headers`);
7. when the answer is over, its latency observed under the route's template and its access
   line written.

The rules live in those modules; the gate applies them with one look at the request's headers
and one wrapped ``send``. (They were six middlewares, each with its own call, header dict and
wrapped ``send``; a request paid for all of them, issue 20.)
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import unhandled_response
from .headers import STATIC_PREFIX, with_security_headers
from .limits import limited_receive, refusal, refusal_for
from .metrics import PATH as METRICS_PATH
from .metrics import observe_request, route_template, serve_metrics
from .proxies import ForwardedHeaders
from .request_context import (
    HEADER,
    access_log,
    enter_request,
    leave_request,
    log_access,
    request_id_from,
)

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["Gate"]

_REQUEST_ID = HEADER.encode()


class Gate:
    """The middleware of the steps above, outermost of the platform's own."""

    def __init__(self, app: ASGIApp, *, kernel: Kernel) -> None:
        settings = kernel.settings
        self.app = app
        self.kernel = kernel
        self.forwarded = ForwardedHeaders(settings.forwarded_allow_ips, https=settings.https)
        self.max_bytes = settings.max_body_bytes
        self.access = settings.access_log
        self.metrics = settings.metrics
        self.timed = self.access or self.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                self.forwarded.apply(scope)
            await self.app(scope, receive, send)
            return
        began = perf_counter()
        if self.forwarded.active:
            self.forwarded.apply(scope)
        headers = dict(scope["headers"])
        request_id = request_id_from(headers.get(_REQUEST_ID))
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        tokens = enter_request(request_id, client[0] if client else None)
        path = scope["path"]
        static = path.startswith(STATIC_PREFIX)
        id_header = (_REQUEST_ID, request_id.encode("latin-1"))
        status = 500  # what the client gets when the app fails before answering
        started = False
        scraped = False

        async def send_answer(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                answer = with_security_headers(message.get("headers") or (), static=static)
                answer.append(id_header)
                message["headers"] = answer
            await send(message)

        try:
            try:
                if path == METRICS_PATH and self.metrics:
                    scraped = True
                    await serve_metrics(self.kernel, scope, receive, send_answer)
                    return
                refused = refusal(scope, headers, self.max_bytes)
                if refused is not None:
                    await refused(scope, receive, send_answer)
                    return
                await self.app(
                    scope, limited_receive(receive, headers, self.max_bytes), send_answer
                )
            except Exception as exc:
                answer = None if started else refusal_for(scope, exc)
                if answer is None:
                    answer = unhandled_response(scope, exc, started=started)
                if answer is None:
                    raise
                await answer(scope, receive, send_answer)
        finally:
            if self.timed:
                seconds = perf_counter() - began
                route = METRICS_PATH if scraped else route_template(scope)
                if self.metrics:
                    observe_request(scope["method"], route, status, seconds)
                if self.access and access_log.isEnabledFor(logging.INFO):
                    log_access(scope, route, status, seconds)
            leave_request(tokens)
