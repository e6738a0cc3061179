"""A request id on every response and in every log line; an access line and a latency figure
for every request.

The id comes from an incoming ``X-Request-ID`` header when it looks sane, otherwise it is made
up; it is kept in a context variable so that the logging filter can stamp every record. When the
response is over, the same middleware writes the access line (logger ``shequyun.access``: method,
path without its query string, which may hold names or ID numbers, status, duration, client) and
observes the request's latency under its route template (:mod:`shequyun.metrics`). An ID number
or a mobile number typed into the path itself (a mistyped address, a probe) is masked in the line
as it is on the portal's pages.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import configure_logging
from .metrics import observe_request, route_template

__all__ = [
    "RequestIdFilter",
    "RequestIdMiddleware",
    "configure_logging",
    "current_client_ip",
    "current_request_id",
]

access_log = logging.getLogger("shequyun.access")

_request_id: ContextVar[str] = ContextVar("shequyun_request_id", default="-")
_client_ip: ContextVar[str | None] = ContextVar("shequyun_client_ip", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# An ID number (17 digits and a digit or X) or a mobile number inside a path segment, also
# in any script's digits (full-width, Arabic-Indic …: the path arrives percent-decoded, and a
# number the API refuses for its digits is still logged). ``\d`` is every Unicode digit here.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(\d{3})(\d{4,14})([\dXx]{4})(?!\d)")
HEADER = "x-request-id"


def current_request_id() -> str:
    """The id of the request being handled, or ``-`` outside a request."""
    return _request_id.get()


def current_client_ip() -> str | None:
    """The address of the client whose request is being handled, or None outside a request.

    The audit log takes it from here, so a service function records who called it from where
    without the HTTP request being passed down to it.
    """
    return _client_ip.get()


class RequestIdMiddleware:
    """The outermost middleware: request id, then (when the response is over) the access line
    and the latency figure."""

    def __init__(self, app: ASGIApp, *, access: bool = True, metrics: bool = True) -> None:
        self.app = app
        self.access = access
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        token = _request_id.set(request_id)
        client = scope.get("client")
        ip_token = _client_ip.set(client[0] if client else None)
        status = 500  # what the client gets when the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics:
                observe_request(scope["method"], route_template(scope), status, seconds)
            if self.access and access_log.isEnabledFor(logging.INFO):
                _log_access(scope, status, seconds)
            _request_id.reset(token)
            _client_ip.reset(ip_token)


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": masked_path(scope["path"]),
        "route": route_template(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "client": client[0] if client else None,
    }
    access_log.info(
        "%s %s %d %.1fms %s",
        fields["method"],
        fields["path"],
        status,
        fields["duration_ms"],
        fields["client"] or "-",
        extra=fields,
    )


def masked_path(path: str) -> str:
    """``path`` with every run of 11 to 21 digits (mobile and ID numbers, bank cards) cut to its
    first three and last four: ``/x/310***********1234``."""
    return _PERSONAL_NUMBER.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], path)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
