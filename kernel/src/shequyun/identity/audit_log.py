"""Reading the audit log: which entries a reader may see, the filters (validated, each bad one
named) and the query, for both doors — ``GET /api/v1/audit`` (:mod:`.api_audit`) and the 审计日志
page (:mod:`.pages_audit`) — and the download (:mod:`.audit_reading`).

A reader sees the entries whose unit lies in the subtree of their grant; entries with no unit
(failed logins of unknown users, rejected tokens) are platform-wide and only readers granted at
the city see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import MAX_ID, parse_int
from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from . import scope
from .directory import unit_by_code
from .models import LEVELS, AuditEntry, OrgUnit, User

__all__ = [
    "AUDIT_READ",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "PARAMETERS",
    "AuditFilters",
    "get_entry",
    "parse_filters",
    "query_entries",
    "visible",
]


class QueryLike(Protocol):
    """A query string's parameters (Starlette's ``QueryParams`` is one)."""

    def __iter__(self) -> Iterator[str]: ...
    def __contains__(self, key: object) -> bool: ...
    def __getitem__(self, key: str) -> str: ...
    def getlist(self, key: str) -> list[str]: ...


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


def parse_filters(params: QueryLike) -> AuditFilters:
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
    """The entries ``actor`` may read that ``filters`` select, newest first, with their units:
    one more than ``filters.limit`` when there are more (the caller pages on)."""
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


def get_entry(
    session: Session, actor: Actor | None, entry_id: int
) -> tuple[AuditEntry, OrgUnit | None]:
    """One entry with its unit; NotFound when there is none or ``actor`` may not read it."""
    row = session.exec(
        select(AuditEntry, OrgUnit)
        .outerjoin(OrgUnit, col(OrgUnit.id) == col(AuditEntry.unit_id))
        .where(col(AuditEntry.id) == entry_id)
        .where(visible(actor))
    ).first()
    if row is None:
        raise NotFound("审计记录不存在")
    return row[0], row[1]
