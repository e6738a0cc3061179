"""``/api/v1/audit``: reading the audit log, filtered, paged and limited to the reader's subtree.

The log is append-only: these routes only read it, and the database refuses updates and
deletes whatever asks. Who may read which entries, the filters and the query are in
:mod:`.audit_log`. Reading the log is not itself audited: that would bury the log in its own
noise (exporting it is, from the 审计日志 page).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from shequyun_sdk.identity import requires
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import describe
from .audit_log import (
    AUDIT_READ,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    get_entry,
    parse_filters,
    query_entries,
)
from .auth import request_actor
from .models import AuditEntry, OrgUnit

__all__ = ["ROUTES", "entry_dict"]


def entry_dict(entry: AuditEntry, unit: OrgUnit | None) -> dict[str, Any]:
    """One entry as the API shows it (units by code, times in UTC)."""
    at = entry.at if entry.at.tzinfo is not None else entry.at.replace(tzinfo=UTC)
    return {
        "id": entry.id,
        "at": at.isoformat(),
        "action": entry.action,
        "outcome": entry.outcome,
        "actor_user_id": entry.actor_user_id,
        "actor_username": entry.actor_username,
        "grant_id": entry.grant_id,
        "role": entry.role,
        "unit": None
        if unit is None
        else {"code": unit.code, "name": unit.name, "level": unit.level},
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
        "client_ip": entry.client_ip,
        "request_id": entry.request_id,
    }


_ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "action": {"type": "string", "examples": ["login.failed", "access.denied"]},
        "outcome": {"type": "string", "examples": ["ok", "denied"]},
        "actor_user_id": {"type": ["integer", "null"]},
        "actor_username": {"type": ["string", "null"]},
        "grant_id": {"type": ["integer", "null"]},
        "role": {"type": ["string", "null"]},
        "unit": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "level": {"type": "string"},
                    },
                },
            ]
        },
        "target_type": {"type": ["string", "null"]},
        "target_id": {"type": ["string", "null"]},
        "detail": {"type": "object"},
        "client_ip": {"type": ["string", "null"]},
        "request_id": {"type": ["string", "null"]},
    },
}


def _query_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


LIST_PARAMETERS: Sequence[dict[str, Any]] = (
    _query_parameter("action", "动作前缀，如 login. 匹配 login.ok、login.failed"),
    _query_parameter("outcome", "结果：ok、denied 等"),
    _query_parameter("actor", "操作人用户名或姓名"),
    _query_parameter("unit", "组织编码：该单位及其下级的记录", pattern=r"^\d{12}$"),
    _query_parameter("target_type", "对象类型"),
    _query_parameter("target_id", "对象编号"),
    _query_parameter("from", "起始时间（含），带时区的 ISO 8601", format="date-time"),
    _query_parameter("to", "截止时间（不含），带时区的 ISO 8601", format="date-time"),
    _query_parameter("request_id", "请求编号（响应头 X-Request-ID）"),
    _query_parameter("cursor", "上一页返回的 next_cursor"),
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"每页条数，默认 {DEFAULT_LIMIT}，最多 {MAX_LIMIT}",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
)


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@describe(
    parameters=list(LIST_PARAMETERS),
    responses={
        "200": _json(
            "最新的在前；next_cursor 为 null 表示没有更多",
            {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": _ENTRY_SCHEMA},
                    "next_cursor": {"type": ["string", "null"]},
                },
            },
        )
    },
)
@requires(AUDIT_READ)
async def list_audit(request: Request) -> Response:
    """Audit entries in the reader's subtree, newest first, filtered and paged by cursor.

    Filters combine with AND. Pass the returned next_cursor as cursor for the next page.
    """
    filters = parse_filters(request.query_params)
    actor = request_actor(request)
    kernel = request.app.state.kernel

    def fetch() -> list[tuple[AuditEntry, OrgUnit | None]]:
        with Session(kernel.engine) as session:
            return query_entries(session, actor, filters)

    rows = await run_in_threadpool(fetch)
    page = rows[: filters.limit]
    more = len(rows) > filters.limit
    return JSONResponse(
        {
            "items": [entry_dict(entry, unit) for entry, unit in page],
            "next_cursor": str(page[-1][0].id) if more else None,
        }
    )


@describe(responses={"200": _json("一条审计记录", _ENTRY_SCHEMA)})
@requires(AUDIT_READ)
async def get_audit_entry(request: Request) -> Response:
    """One audit entry; 404 when it does not exist or lies outside the reader's subtree."""
    entry_id: int = request.path_params["entry_id"]
    actor = request_actor(request)
    kernel = request.app.state.kernel

    def fetch() -> tuple[AuditEntry, OrgUnit | None]:
        with Session(kernel.engine) as session:
            return get_entry(session, actor, entry_id)

    found = await run_in_threadpool(fetch)
    return JSONResponse(entry_dict(*found))


ROUTES: list[BaseRoute] = [
    Route("/audit", list_audit, methods=["GET"]),
    Route("/audit/{entry_id:int}", get_audit_entry, methods=["GET"]),
]
