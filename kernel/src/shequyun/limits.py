"""Bounds and hygiene at the door: body size, and no NUL characters in text input.

PostgreSQL refuses NUL in text, so a NUL smuggled into a query string, a form or a JSON string
would surface as a database error deep inside a handler. It is refused here with a 400 instead,
for every route, plugins' included. (File uploads, multipart bodies, are left alone: binary
files legitimately contain NUL bytes.)

A body is refused (413) when its ``Content-Length`` is above the bound, before the handler runs,
or as soon as more than the bound has been read from it. The gate (:mod:`shequyun.gate`) applies
these rules to every request.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from .errors import error_response
from .i18n import Message as Text

__all__ = ["BodyTooLarge", "NulInInput", "limited_receive", "refusal", "refusal_for"]

_NUL_MARKERS = (b"%00", b"\\u0000", b"\x00")


class BodyTooLarge(Exception):
    pass


class NulInInput(Exception):
    pass


def refusal(scope: Scope, headers: Mapping[bytes, bytes], max_bytes: int) -> Response | None:
    """The answer to a request refused before its body is read (a NUL in its path or query
    string, a ``Content-Length`` above ``max_bytes``), or None. ``headers``: the request's."""
    query = scope.get("query_string", b"")
    if (query and _has_nul(query)) or "\x00" in str(scope.get("path", "")):
        return _bad_input(scope)
    length = headers.get(b"content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        return _too_large(scope)
    return None


def limited_receive(receive: Receive, headers: Mapping[bytes, bytes], max_bytes: int) -> Receive:
    """``receive`` raising :class:`BodyTooLarge` past ``max_bytes`` of body, and
    :class:`NulInInput` at a NUL in a body that is not multipart. ``headers``: the request's."""
    received = 0
    tail = b""
    check_text: bool | None = None  # known at the first message: most requests read none

    async def counting_receive() -> Message:
        nonlocal received, tail, check_text
        message = await receive()
        if message["type"] == "http.request":
            if check_text is None:
                content_type = headers.get(b"content-type", b"").lower()
                check_text = not content_type.startswith(b"multipart/")
            body = message.get("body", b"")
            received += len(body)
            if received > max_bytes:
                raise BodyTooLarge()
            if check_text and _has_nul(tail + body):
                raise NulInInput()
            tail = body[-6:]
        return message

    return counting_receive


def refusal_for(scope: Scope, exc: Exception) -> Response | None:
    """The answer to a request whose body ``exc`` (raised by :func:`limited_receive`) refused,
    or None for any other exception."""
    if isinstance(exc, BodyTooLarge):
        return _too_large(scope)
    if isinstance(exc, NulInInput):
        return _bad_input(scope)
    return None


def _too_large(scope: Scope) -> Response:
    return error_response(scope, 413, "too_large", Text("The request body is too large"))


def _bad_input(scope: Scope) -> Response:
    return error_response(scope, 400, "invalid_characters", "请求中含有不允许的控制字符")


def _has_nul(data: bytes) -> bool:
    return any(marker in data for marker in _NUL_MARKERS) or b"%00" in data.upper()
