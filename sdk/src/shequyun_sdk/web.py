"""Helpers for plugin route handlers."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSONResponse

from .errors import ApiError, ValidationFailed

__all__ = ["JSONResponse", "read_json", "read_json_object"]


async def read_json(request: Request) -> Any:
    """The request's JSON body, or an :class:`ApiError` (400 ``invalid_json``) saying why not.

    The kernel already bounds the body's size (``max_body_bytes``); nesting deeper than 1,024
    levels, ``NaN``/``Infinity`` and integers beyond 64 bits are refused too.
    """
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError("请求内容不是有效的 JSON", code="invalid_json") from None


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body when it is an object; otherwise :class:`ValidationFailed`
    (422, field ``(body)``). Most endpoints take an object: this saves each the same check."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", field="(body)")
    return body


class JSONResponse(_StarletteJSONResponse):
    """Starlette's ``JSONResponse`` with the same output (compact UTF-8), rendered several
    times faster: worth it for big documents such as a 250-question form's answers.
    Dictionary keys that are not strings are written as strings."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
