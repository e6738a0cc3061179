"""Bounds and hygiene at the door: body size, and no NUL characters in text input.

PostgreSQL refuses NUL in text, so a NUL smuggled into a query string, a form or a JSON string
would surface as a database error deep inside a handler. It is refused here with a 400 instead,
for every route, plugins' included. (File uploads, multipart bodies, are left alone: binary
files legitimately contain NUL bytes.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response
from .i18n import gettext

__all__ = ["BodySizeLimitMiddleware", "BodyTooLarge"]

_NUL_MARKERS = (b"%00", b"\\u0000", b"\x00")


class BodyTooLarge(Exception):
    pass


class NulInInput(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse bodies above ``max_bytes`` (413) and NUL characters in text input (400)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if _has_nul(scope.get("query_string", b"")) or "\x00" in str(scope.get("path", "")):
            await self._bad_input(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        content_type = headers.get(b"content-type", b"").lower()
        check_text = not content_type.startswith(b"multipart/")
        received = 0
        tail = b""
        started = False

        async def counting_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > self.max_bytes:
                    raise BodyTooLarge()
                if check_text and _has_nul(tail + body):
                    raise NulInInput()
                tail = body[-6:]
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)
        except NulInInput:
            if started:
                raise
            await self._bad_input(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(scope, 413, "too_large", gettext("The request body is too large"))
        await response(scope, receive, send)

    async def _bad_input(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(scope, 400, "invalid_characters", "请求中含有不允许的控制字符")
        await response(scope, receive, send)


def _has_nul(data: bytes) -> bool:
    return any(marker in data for marker in _NUL_MARKERS) or b"%00" in data.upper()
