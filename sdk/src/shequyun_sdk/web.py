"""Helpers for plugin route handlers."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .errors import ApiError, ValidationFailed

__all__ = ["read_json", "read_json_object"]


async def read_json(request: Request) -> Any:
    """The request's JSON body, or an :class:`ApiError` (400 ``invalid_json``) saying why not.

    The kernel already bounds the body's size (``max_body_bytes``).
    """
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("请求内容不是有效的 JSON", code="invalid_json") from None


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body when it is an object; otherwise :class:`ValidationFailed`
    (422, field ``(body)``). Most endpoints take an object: this saves each the same check."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", field="(body)")
    return body
