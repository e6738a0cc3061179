"""``/api/v1/audit``: reading the audit log, filtered, paged and limited to the reader's subtree.

The log is append-only: these routes only read it, and the database refuses updates and
deletes whatever asks. A reader sees the entries whose unit lies in the subtree of their grant;
entries with no unit (failed logins of unknown users, rejected tokens) are platform-wide and
only readers granted at the city see them. Reading the log is not itself audited: that would
bury the log in its own noise (exporting it is, when exports come).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, requires
from shequyun_sdk.params import MAX_ID, parse_int
from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import describe
from . import scope
from .auth import request_actor
from .directory import unit_by_code
from .models import LEVELS, AuditEntry, OrgUnit, User

__all__ = ["AUDIT_READ", "MAX_LIMIT", "ROUTES", "AuditFilters", "parse_filters"]

AUDIT_READ = "identity.audit.read"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_OUTCOME = re.compile(r"[a-z_]{1,16}")

#: Text filters: query parameter -> (column, longest value, compared by prefix).
_TEXT_FILTERS: dict[str, tuple[Any, int, bool]] = {
    "action": (AuditEntry.action, 80, True),
    "actor": (AuditEntry.actor_username, 64, False),
    "target_type": (AuditEntry.target_type, 40, False),
    "target_id": (AuditEntry.target_id, 80, False),
    "request_id": (AuditEntry.request_id, 64, False),
}
PARAMETERS = (*_TEXT_FILTERS, "outcome", "unit", "from", "to", "cursor", "limit")
_Report = Callable[[str, str], None]  # (field, message) of one bad parameter


@dataclass(frozen=True)
class AuditFilters:
    """The validated query of ``GET /audit``."""

    text: Mapping[str, str]
    outcome: str | None = None
    unit: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: int | None = None
    limit: int = DEFAULT_LIMIT


def parse_filters(params: QueryParams) -> AuditFilters:
    """Validate every query parameter; a :class:`ValidationFailed` lists each bad one."""
    problems: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    for key in params:
        if key not in PARAMETERS:
            bad(key, f"未知的查询参数 {key}，可用：{'、'.join(PARAMETERS)}")
        elif len(params.getlist(key)) > 1:
            bad(key, f"查询参数 {key} 只能出现一次")
    values = {k: params[k].strip() for k in PARAMETERS if k in params}

    text: dict[str, str] = {}
    for key, (_, longest, _) in _TEXT_FILTERS.items():
        value = values.get(key)
        if value is None:
            continue
        if not value or len(value) > longest or not value.isprintable():
            bad(key, f"{key} 不能为空、不能含控制字符，且不超过 {longest} 个字符")
        else:
            text[key] = value
    outcome = values.get("outcome")
    if outcome is not None and not _OUTCOME.fullmatch(outcome):
        bad("outcome", "outcome 应为小写字母，如 ok、denied")
    unit = values.get("unit")
    if unit is not None and not re.fullmatch(r"[0-9]{12}", unit):
        bad("unit", "unit 应为 12 位组织编码")
    since = _moment(values.get("from"), "from", bad)
    until = _moment(values.get("to"), "to", bad)
    if since is not None and until is not None and since >= until:
        bad("to", "to 应晚于 from")
    cursor = _integer(values.get("cursor"), "cursor", 1, MAX_ID, bad)
    limit = _integer(values.get("limit"), "limit", 1, MAX_LIMIT, bad)
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], details=problems)
    return AuditFilters(
        text=text,
        outcome=outcome,
        unit=unit,
        since=since,
        until=until,
        cursor=cursor,
        limit=DEFAULT_LIMIT if limit is None else limit,
    )


def _moment(value: str | None, field: str, bad: _Report) -> datetime | None:
    if value is None:
        return None
    # An unencoded "+" in a query string arrives as a space: "...T08:00:00 08:00".
    value = re.sub(r"^(.+T.+) (\d{2}:?\d{2})$", r"\1+\2", value)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        bad(field, f"{field} 应为 ISO 8601 时间，如 2024-05-01T08:00:00+08:00")
        return None
    if moment.tzinfo is None:
        bad(field, f"{field} 须带时区，如 2024-05-01T08:00:00+08:00 或以 Z 结尾")
        return None
    return moment


def _integer(value: str | None, field: str, low: int, high: int, bad: _Report) -> int | None:
    if value is None:
        return None
    try:
        return parse_int(value, field, low=low, high=high)
    except ValidationFailed as exc:
        bad(field, exc.message)
        return None


def visible(actor: Actor | None) -> ColumnElement[bool]:
    """The entries ``actor`` may read: their subtree's, and unit-less ones for city grants."""
    condition = scope.scope_filter(actor, AUDIT_READ, col(AuditEntry.unit_id))
    prefix = scope.grant_prefix(actor, AUDIT_READ)
    if prefix is not None and actor is not None and actor.unit and actor.unit.level == LEVELS[0]:
        condition = or_(condition, col(AuditEntry.unit_id).is_(None))
    return condition


def query_entries(
    session: Session, actor: Actor | None, filters: AuditFilters
) -> list[tuple[AuditEntry, OrgUnit | None]]:
    query = (
        select(AuditEntry, OrgUnit)
        .outerjoin(OrgUnit, col(OrgUnit.id) == col(AuditEntry.unit_id))
        .where(visible(actor))
    )
    for key, value in filters.text.items():
        column, _, by_prefix = _TEXT_FILTERS[key]
        condition = (
            col(column).startswith(value, autoescape=True) if by_prefix else col(column) == value
        )
        if key == "actor":  # a person is found by their login (lower case) or by their name
            named = select(col(User.id)).where(col(User.display_name) == value)
            condition = or_(col(column) == value.lower(), col(AuditEntry.actor_user_id).in_(named))
        query = query.where(condition)
    if filters.outcome is not None:
        query = query.where(col(AuditEntry.outcome) == filters.outcome)
    if filters.unit is not None:
        unit = unit_by_code(session, filters.unit)
        if unit is None:
            raise ValidationFailed(f"组织编码 {filters.unit} 不存在", field="unit")
        subtree = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(unit.path))
        query = query.where(col(AuditEntry.unit_id).in_(subtree))
    if filters.since is not None:
        query = query.where(col(AuditEntry.at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditEntry.at) < filters.until)
    if filters.cursor is not None:
        query = query.where(col(AuditEntry.id) < filters.cursor)
    query = query.order_by(col(AuditEntry.id).desc()).limit(filters.limit + 1)
    return [(entry, unit) for entry, unit in session.exec(query).all()]


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

    def fetch() -> tuple[AuditEntry, OrgUnit | None] | None:
        with Session(kernel.engine) as session:
            row = session.exec(
                select(AuditEntry, OrgUnit)
                .outerjoin(OrgUnit, col(OrgUnit.id) == col(AuditEntry.unit_id))
                .where(col(AuditEntry.id) == entry_id)
                .where(visible(actor))
            ).first()
            return None if row is None else (row[0], row[1])

    found = await run_in_threadpool(fetch)
    if found is None:
        raise NotFound("审计记录不存在")
    return JSONResponse(entry_dict(*found))


ROUTES: list[BaseRoute] = [
    Route("/audit", list_audit, methods=["GET"]),
    Route("/audit/{entry_id:int}", get_audit_entry, methods=["GET"]),
]
