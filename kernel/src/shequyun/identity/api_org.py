"""``/api/v1/org-units``: browsing, searching and reorganising the org-unit tree.

Reads need ``identity.org.view``, changes ``identity.org.manage``; both reach only the subtree
of the actor's grant. A unit outside it answers 404 exactly like a unit that does not exist.
Changes go through :mod:`.orgunits`, which validates everything before writing and records the
history and the audit entry in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor, requires
from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import ERROR_RESPONSE, describe
from . import orgunits, scope
from .api_org_changes import (
    close_unit,
    create_unit,
    merge_units,
    move_unit,
    rename_unit,
    split_unit,
)
from .api_org_support import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    STATUSES,
    actor_of,
    brief,
    json_content,
    list_item,
    query_parameter,
    run_work,
    unit_view,
)
from .models import LEVELS, OrgUnit
from .orgunits import ORG_VIEW, is_code

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ROUTES", "list_page", "parse_list_query", "unit_view"]

LIST_PARAMETERS = ("parent", "within", "q", "level", "status", "cursor", "limit")


@describe(responses={"200": json_content("单位、面包屑、下级数量"), "404": ERROR_RESPONSE})
@requires(ORG_VIEW)
async def get_unit(request: Request) -> Response:
    """One org unit with its breadcrumb, children counts and successor."""
    actor = actor_of(request)
    code = request.path_params["code"]

    def fetch(session: Session) -> dict[str, Any]:
        unit = orgunits.find(session, code, by=actor, permission=ORG_VIEW)
        return unit_view(session, unit, actor)

    return JSONResponse(await run_work(request, fetch))


@describe(
    parameters=[
        query_parameter("parent", "列出该单位的直接下级（浏览树）；默认为自己授权所在的单位"),
        query_parameter("within", "在该单位的整个下级范围内查找（不含它自己）"),
        query_parameter("q", "名称包含的文字；全为数字时按编码前缀查找"),
        query_parameter("level", "层级", enum=list(LEVELS)),
        query_parameter("status", "open（默认，今天未撤销）、closed 或 all", enum=list(STATUSES)),
        query_parameter("cursor", "上一页返回的 next_cursor"),
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"每页条数，默认 {DEFAULT_LIMIT}，最多 {MAX_LIMIT}",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
    ],
    responses={"200": json_content("按编码排序；next_cursor 为 null 表示没有更多")},
)
@requires(ORG_VIEW)
async def list_units(request: Request) -> Response:
    """Children of a unit (tree browsing) or a search in a subtree, paged by cursor.

    With neither parent nor within, lists the children of the actor's own unit, or searches
    its subtree when q or level is given.
    """
    actor = actor_of(request)
    query = parse_list_query(request.query_params)

    def fetch(session: Session) -> dict[str, Any]:
        return list_page(session, actor, query)

    return JSONResponse(await run_work(request, fetch))


def parse_list_query(params: QueryParams) -> dict[str, Any]:
    problems: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    for key in params:
        if key not in LIST_PARAMETERS:
            bad(key, f"未知的查询参数 {key}，可用：{'、'.join(LIST_PARAMETERS)}")
        elif len(params.getlist(key)) > 1:
            bad(key, f"查询参数 {key} 只能出现一次")
    values = {k: params[k].strip() for k in LIST_PARAMETERS if k in params}
    for key in ("parent", "within"):
        if key in values and not is_code(values[key]):
            bad(key, f"{key} 应为 12 位数字的组织编码")
    if "parent" in values and "within" in values:
        bad("within", "parent 与 within 只能用一个")
    if "level" in values and values["level"] not in LEVELS:
        bad("level", f"level 应为 {'、'.join(LEVELS)} 之一")
    if "status" in values and values["status"] not in STATUSES:
        bad("status", f"status 应为 {'、'.join(STATUSES)} 之一")
    q = values.get("q")
    if q is not None and (not q or len(q) > 40):
        bad("q", "q 不能为空且不超过 40 个字")
    after = None
    if "cursor" in values:
        try:
            after = base64.urlsafe_b64decode(values["cursor"].encode("ascii")).decode("ascii")
        except (ValueError, binascii.Error, UnicodeError):
            after = None
        if after is None or not is_code(after):
            bad("cursor", "cursor 无效，请使用上一页返回的 next_cursor")
    limit = DEFAULT_LIMIT
    if "limit" in values:
        raw = values["limit"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            bad("limit", f"limit 应为 1 到 {MAX_LIMIT} 之间的整数")
        else:
            limit = int(raw)
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], details=problems)
    return {**values, "after": after, "limit": limit}


def list_page(session: Session, actor: Actor, query: Mapping[str, Any]) -> dict[str, Any]:
    parent_alias = aliased(OrgUnit)
    stmt = (
        select(OrgUnit, parent_alias)
        .outerjoin(parent_alias, col(parent_alias.id) == col(OrgUnit.parent_id))
        .where(scope.unit_scope_filter(actor, ORG_VIEW))
    )
    searching = "q" in query or "level" in query
    if "within" in query or ("parent" not in query and searching):
        assert actor.unit is not None
        within = query.get("within") or actor.unit.code
        root = orgunits.find(session, within, by=actor, permission=ORG_VIEW, field="within")
        stmt = stmt.where(col(OrgUnit.path).startswith(root.path), col(OrgUnit.id) != root.id)
    else:
        assert actor.unit is not None
        code = query.get("parent") or actor.unit.code
        root = orgunits.find(session, code, by=actor, permission=ORG_VIEW, field="parent")
        stmt = stmt.where(col(OrgUnit.parent_id) == root.id)
    if "level" in query:
        stmt = stmt.where(col(OrgUnit.level) == query["level"])
    q = query.get("q")
    if q is not None:
        by_name = col(OrgUnit.name).contains(q, autoescape=True)
        stmt = stmt.where(or_(by_name, col(OrgUnit.code).startswith(q)) if q.isdigit() else by_name)
    today = orgunits.shanghai_today()
    status = query.get("status", "open")
    if status == "open":
        stmt = stmt.where(orgunits.open_on(today))
    elif status == "closed":
        stmt = stmt.where(~orgunits.open_on(today))
    if query["after"] is not None:
        stmt = stmt.where(col(OrgUnit.code) > query["after"])
    limit: int = query["limit"]
    rows = session.exec(stmt.order_by(col(OrgUnit.code)).limit(limit + 1)).all()
    page = rows[:limit]
    counts = dict(
        session.exec(
            select(col(OrgUnit.parent_id), func.count())
            .where(col(OrgUnit.parent_id).in_([u.id for u, _ in page]), orgunits.open_on(today))
            .group_by(col(OrgUnit.parent_id))
        ).all()
    )
    more = len(rows) > limit
    return {
        "items": [list_item(unit, parent, counts.get(unit.id, 0)) for unit, parent in page],
        "next_cursor": base64.urlsafe_b64encode(page[-1][0].code.encode()).decode()
        if more
        else None,
    }


@describe(responses={"200": json_content("最早的在前"), "404": ERROR_RESPONSE})
@requires(ORG_VIEW)
async def unit_history(request: Request) -> Response:
    """The history of a unit: created, renamed, moved, closed, split, merged."""
    actor = actor_of(request)
    code = request.path_params["code"]

    def fetch(session: Session) -> dict[str, Any]:
        unit, rows = orgunits.history(session, code, by=actor)
        return {
            "unit": brief(unit),
            "items": [
                {
                    "action": change.action,
                    "effective_on": change.effective_on.isoformat()
                    if change.effective_on
                    else None,
                    "at": (
                        change.at if change.at.tzinfo else change.at.replace(tzinfo=UTC)
                    ).isoformat(),
                    "actor": user.username if user else None,
                    "detail": change.detail,
                }
                for change, user in rows
            ],
        }

    return JSONResponse(await run_work(request, fetch))


ROUTES: list[BaseRoute] = [
    Route("/org-units", list_units, methods=["GET"]),
    Route("/org-units", create_unit, methods=["POST"]),
    Route("/org-units/merge", merge_units, methods=["POST"]),
    Route("/org-units/{code}", get_unit, methods=["GET"]),
    Route("/org-units/{code}", rename_unit, methods=["PATCH"]),
    Route("/org-units/{code}/history", unit_history, methods=["GET"]),
    Route("/org-units/{code}/move", move_unit, methods=["POST"]),
    Route("/org-units/{code}/close", close_unit, methods=["POST"]),
    Route("/org-units/{code}/split", split_unit, methods=["POST"]),
]
