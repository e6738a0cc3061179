"""What the users, grants and tokens endpoints share over HTTP: the call of a request, body and
query parsing, the OpenAPI description of what a route cannot tell.

The rules (scope, escalation, audit) are in :mod:`.access` and the services of
:mod:`.user_admin`; the names of :mod:`.access` are re-exported here for the handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.params import MAX_ID, is_id, query_int
from shequyun_sdk.web import read_json
from starlette.requests import Request

from .access import (
    MAX_TOKEN_DAYS,
    PHONE_RE,
    TOKENS_MANAGE,
    USERS_MANAGE,
    USERS_VIEW,
    Call,
    GrantRow,
    active_grants,
    aware,
    end_sessions,
    grant_json,
    iso,
    load_grant,
    load_unit,
    load_user,
    mask_phone,
    may_take_over,
    refuse_escalation,
    refuse_token_delegation,
    token_json,
    unit_json,
    user_detail,
    user_json,
    utcnow,
)
from .auth import client_ip, request_actor

__all__ = [
    "CREATED",
    "INT",
    "MAX_TOKEN_DAYS",
    "PAGE_PARAMS",
    "PHONE_RE",
    "STR",
    "TOKENS_MANAGE",
    "USERS_MANAGE",
    "USERS_VIEW",
    "Call",
    "GrantRow",
    "active_grants",
    "aware",
    "body_doc",
    "call_of",
    "end_sessions",
    "grant_json",
    "id_field",
    "int_field",
    "iso",
    "json_body",
    "load_grant",
    "load_unit",
    "load_user",
    "mask_phone",
    "may_take_over",
    "page_bounds",
    "query_flag",
    "query_int",
    "query_param",
    "refuse_escalation",
    "refuse_token_delegation",
    "text_field",
    "token_json",
    "unit_json",
    "user_detail",
    "user_json",
    "utcnow",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def call_of(request: Request) -> Call:
    """The :class:`~.access.Call` of a request whose route is guarded by ``requires()``."""
    kernel = request.app.state.kernel
    actor = request_actor(request)
    assert actor is not None
    return Call(kernel.engine, kernel.permissions, actor, client_ip(request))


async def json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    data = await read_json(request) if (await request.body()).strip() else {}
    if not isinstance(data, dict):
        raise ValidationFailed("请求内容应为 JSON 对象")
    for key in data:
        if key not in allowed:
            raise ValidationFailed(f"未知字段 {key}", field=str(key))
    return data


def text_field(data: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"缺少字段 {name}", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} 应为字符串", field=name)
    if required and not value.strip():
        raise ValidationFailed(f"{name} 不能为空", field=name)
    return value


def int_field(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None:
        raise ValidationFailed(f"缺少字段 {name}", field=name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{name} 应为整数", field=name)
    if not 0 <= value <= MAX_ID:
        # PostgreSQL refuses to compare an integer column with a number beyond its range.
        raise ValidationFailed(f"{name} 应在 0–{MAX_ID} 之间", field=name)
    return value


def id_field(data: Mapping[str, Any], name: str) -> int:
    """Body field ``name`` as the id of a stored row (see :func:`shequyun_sdk.params.is_id`)."""
    value = int_field(data, name)
    if not is_id(value):
        raise ValidationFailed(f"{name} 不是有效的编号", field=name)
    return value


def query_flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ValidationFailed(f"{name} 应为 true 或 false", field=name)


def page_bounds(request: Request) -> tuple[int, int | None]:
    """The page size and the id the previous page ended at, from ``limit`` and ``cursor``
    (newest first). A limit above the maximum is an error rather than a silently shorter page."""
    limit = query_int(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    before = query_int(request, "cursor", 0, low=1)
    return limit, before or None


# -- the OpenAPI description of what a route cannot tell ------------------------------------


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def body_doc(required: list[str], properties: dict[str, Any], optional: bool = False) -> Any:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {
        "required": not optional,
        "content": {"application/json": {"schema": schema}},
    }


STR = {"type": "string"}
INT = {"type": "integer"}
PAGE_PARAMS = [
    query_param(
        "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "每页条数，默认 100"
    ),
    query_param("cursor", STR, "上一页返回的 next_cursor"),
]
CREATED = {"201": {"description": "已创建"}}
