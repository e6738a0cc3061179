"""``/api/v1/org-units``: browsing, searching and reorganising the org-unit tree.

Reads need ``identity.org.view``, changes ``identity.org.manage``; both reach only the subtree
of the actor's grant. A unit outside it answers 404 exactly like a unit that does not exist.
Changes go through :mod:`.orgunits`, which validates everything before writing and records the
history and the audit entry in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import UTC, date
from typing import Any, TypeVar

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor, requires
from shequyun_sdk.web import read_json
from sqlalchemy import case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import ERROR_RESPONSE, describe
from . import orgunits, scope
from .auth import request_actor, unit_ref
from .models import LEVEL_NAMES, LEVELS, OrgUnit, OrgUnitChange, User
from .orgunits import ORG_MANAGE, ORG_VIEW, NewUnit, StaleVersion, is_code

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ROUTES"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
LIST_PARAMETERS = ("parent", "within", "q", "level", "status", "cursor", "limit")
STATUSES = ("open", "closed", "all")

T = TypeVar("T")


# -- plumbing ---------------------------------------------------------------------------------


def _actor(request: Request) -> Actor:
    actor = request_actor(request)
    assert actor is not None  # requires() let the request through
    return actor


async def _run(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a session in a worker thread; it commits what it wants kept."""
    engine = request.app.state.kernel.engine

    def run() -> T:
        with Session(engine, expire_on_commit=False) as session:
            return work(session)

    return await run_in_threadpool(run)


View = Callable[[Session], Any]


async def _change(request: Request, work: Callable[[Session], View], status: int = 200) -> Response:
    """Apply a change, commit, and answer with the view ``work`` returns (rendered after the
    commit). A stale version answers 409 with the unit's current values in
    ``error.current``, so the client can show them and ask again."""

    def committed(session: Session) -> Any:
        view = work(session)
        session.commit()
        return view(session)

    try:
        body = await _run(request, committed)
    except StaleVersion as exc:
        error = {"code": exc.code, "message": exc.message, "field": exc.field}
        return JSONResponse({"error": {**error, "current": exc.current}}, status_code=409)
    return JSONResponse(body, status_code=status)


class _Body:
    """A JSON object body checked field by field; :meth:`done` raises every problem at once."""

    def __init__(self, data: Any, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise ValidationFailed("请求内容应为 JSON 对象", field="body")
        self.data: dict[str, Any] = data
        self.problems: list[dict[str, str]] = []
        for key in data:
            if key not in allowed:
                self.bad(str(key), f"未知字段 {key}，可用：{'、'.join(allowed)}")

    def bad(self, field: str, message: str) -> None:
        self.problems.append({"field": field, "message": message})

    def text(self, key: str, value: Any, *, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.bad(key, f"缺少 {key}")
            return None
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 80:
            self.bad(key, f"{key} 应为不超过 80 个字的文字")
            return None
        return value.strip()

    def code(self, key: str, value: Any, *, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.bad(key, f"缺少 {key}")
            return None
        if not is_code(value):
            self.bad(key, f"{key} 应为 12 位数字的组织编码")
            return None
        return value

    def day(self, key: str, *, required: bool) -> date | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.bad(key, f"缺少 {key}（日期，如 2025-01-01）")
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.bad(key, f"{key} 应为日期，格式如 2025-01-01")
            return None

    def version(self, *, required: bool) -> int | None:
        value = self.data.get("version")
        if value is None:
            if required:
                self.bad("version", "缺少 version（读取时得到的版本号），用于防止覆盖他人的修改")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.bad("version", "version 应为正整数")
            return None
        return value

    def done(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise ValidationFailed(first["message"], field=first["field"], details=self.problems)


# -- views ------------------------------------------------------------------------------------


def _brief(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "level": unit.level}


def _dates(unit: OrgUnit) -> dict[str, Any]:
    return {
        "opened_on": unit.opened_on.isoformat() if unit.opened_on else None,
        "closed_on": unit.closed_on.isoformat() if unit.closed_on else None,
    }


def unit_view(session: Session, unit: OrgUnit, actor: Actor) -> dict[str, Any]:
    """One unit with what a page about it needs: the way down to it, its children, its
    successor. Ancestors and successors outside the actor's subtree are left out."""
    ids = [int(i) for i in unit.path.strip("/").split("/")]
    above = {
        u.id: u
        for u in session.exec(
            select(OrgUnit).where(
                col(OrgUnit.id).in_(ids[:-1]), scope.unit_scope_filter(actor, ORG_VIEW)
            )
        ).all()
    }
    breadcrumb = [_brief(above[i]) for i in ids[:-1] if i in above]
    today = orgunits.shanghai_today()
    total, still_open = session.exec(
        select(
            func.count(), func.coalesce(func.sum(case((orgunits.open_on(today), 1), else_=0)), 0)
        ).where(col(OrgUnit.parent_id) == unit.id)
    ).one()
    below = session.exec(
        select(col(OrgUnit.level), func.count())
        .where(
            col(OrgUnit.path).startswith(unit.path),
            col(OrgUnit.id) != unit.id,
            orgunits.open_on(today),
        )
        .group_by(col(OrgUnit.level))
    ).all()
    successor = session.get(OrgUnit, unit.successor_id) if unit.successor_id else None
    if successor is not None and not scope.can(actor, ORG_VIEW, unit_ref(successor)):
        successor = None
    return {
        **_brief(unit),
        "level_name": LEVEL_NAMES[unit.level],
        **_dates(unit),
        "open": unit.is_open_on(today),
        "version": unit.version,
        "parent": breadcrumb[-1] if breadcrumb and unit.parent_id in above else None,
        "breadcrumb": breadcrumb,
        "successor": _brief(successor) if successor else None,
        "successors": _split_successors(session, unit, actor) if successor is None else [],
        "children": {"open": still_open, "closed": total - still_open},
        "open_descendants": {level: n for level, n in sorted(below, key=_level_order)},
    }


def _level_order(row: tuple[str, int]) -> int:
    return LEVELS.index(row[0]) if row[0] in LEVELS else len(LEVELS)


def _split_successors(session: Session, unit: OrgUnit, actor: Actor) -> list[dict[str, Any]]:
    """The units a split unit became (a split has several successors, kept in its history)."""
    if unit.closed_on is None:
        return []
    change = session.exec(
        select(OrgUnitChange)
        .where(OrgUnitChange.unit_id == unit.id, OrgUnitChange.action == "split")
        .order_by(col(OrgUnitChange.id).desc())
    ).first()
    if change is None:
        return []
    codes = list(change.detail.get("into", []))
    found = session.exec(
        select(OrgUnit).where(
            col(OrgUnit.code).in_(codes), scope.unit_scope_filter(actor, ORG_VIEW)
        )
    ).all()
    return [_brief(u) for u in sorted(found, key=lambda u: codes.index(u.code))]


def _item(unit: OrgUnit, parent: OrgUnit | None, open_children: int) -> dict[str, Any]:
    return {
        **_brief(unit),
        "parent": {"code": parent.code, "name": parent.name} if parent else None,
        **_dates(unit),
        "version": unit.version,
        "open_children": open_children,
    }


# -- reads ------------------------------------------------------------------------------------


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _body_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": False,
                }
            }
        },
    }


_CODE = {"type": "string", "pattern": r"^\d{12}$"}
_DATE = {"type": "string", "format": "date"}
_NAME = {"type": "string", "maxLength": 80}
_VERSION = {"type": "integer", "minimum": 1, "description": "读取时得到的版本号"}


@describe(responses={"200": _json("单位、面包屑、下级数量"), "404": ERROR_RESPONSE})
@requires(ORG_VIEW)
async def get_unit(request: Request) -> Response:
    """One org unit with its breadcrumb, children counts and successor."""
    actor = _actor(request)
    code = request.path_params["code"]

    def fetch(session: Session) -> dict[str, Any]:
        unit = orgunits.find(session, code, by=actor, permission=ORG_VIEW)
        return unit_view(session, unit, actor)

    return JSONResponse(await _run(request, fetch))


def _query_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


@describe(
    parameters=[
        _query_parameter("parent", "列出该单位的直接下级（浏览树）；默认为自己授权所在的单位"),
        _query_parameter("within", "在该单位的整个下级范围内查找（不含它自己）"),
        _query_parameter("q", "名称包含的文字；全为数字时按编码前缀查找"),
        _query_parameter("level", "层级", enum=list(LEVELS)),
        _query_parameter("status", "open（默认，今天未撤销）、closed 或 all", enum=list(STATUSES)),
        _query_parameter("cursor", "上一页返回的 next_cursor"),
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"每页条数，默认 {DEFAULT_LIMIT}，最多 {MAX_LIMIT}",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
    ],
    responses={"200": _json("按编码排序；next_cursor 为 null 表示没有更多")},
)
@requires(ORG_VIEW)
async def list_units(request: Request) -> Response:
    """Children of a unit (tree browsing) or a search in a subtree, paged by cursor.

    With neither parent nor within, lists the children of the actor's own unit, or searches
    its subtree when q or level is given.
    """
    actor = _actor(request)
    query = _parse_list(request.query_params)

    def fetch(session: Session) -> dict[str, Any]:
        return _list(session, actor, query)

    return JSONResponse(await _run(request, fetch))


def _parse_list(params: QueryParams) -> dict[str, Any]:
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


def _list(session: Session, actor: Actor, query: Mapping[str, Any]) -> dict[str, Any]:
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
        "items": [_item(unit, parent, counts.get(unit.id, 0)) for unit, parent in page],
        "next_cursor": base64.urlsafe_b64encode(page[-1][0].code.encode()).decode()
        if more
        else None,
    }


@describe(responses={"200": _json("最早的在前"), "404": ERROR_RESPONSE})
@requires(ORG_VIEW)
async def unit_history(request: Request) -> Response:
    """The history of a unit: created, renamed, moved, closed, split, merged."""
    actor = _actor(request)
    code = request.path_params["code"]

    def fetch(session: Session) -> dict[str, Any]:
        unit = orgunits.find(session, code, by=actor, permission=ORG_VIEW)
        rows = session.exec(
            select(OrgUnitChange, User)
            .outerjoin(User, col(User.id) == col(OrgUnitChange.actor_user_id))
            .where(OrgUnitChange.unit_id == unit.id)
            .order_by(col(OrgUnitChange.at), col(OrgUnitChange.id))
        ).all()
        return {
            "unit": _brief(unit),
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

    return JSONResponse(await _run(request, fetch))


# -- changes ----------------------------------------------------------------------------------


def _view_of(unit: OrgUnit, actor: Actor) -> Callable[[Session], dict[str, Any]]:
    return lambda session: unit_view(session, unit, actor)


@describe(
    requestBody=_body_schema(
        {
            "code": _CODE,
            "name": _NAME,
            "parent": _CODE,
            "level": {"type": "string", "enum": list(LEVELS)},
            "opened_on": _DATE,
        },
        ["code", "name", "parent"],
    ),
    responses={"201": _json("新单位"), "409": ERROR_RESPONSE, "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def create_unit(request: Request) -> Response:
    """Create a unit under parent; its level is the one below the parent's."""
    actor = _actor(request)
    body = _Body(await read_json(request), ("code", "name", "parent", "level", "opened_on"))
    code = body.code("code", body.data.get("code"))
    name = body.text("name", body.data.get("name"))
    parent = body.code("parent", body.data.get("parent"))
    level = body.data.get("level")
    if level is not None and level not in LEVELS:
        body.bad("level", f"level 应为 {'、'.join(LEVELS)} 之一")
    opened_on = body.day("opened_on", required=False)
    body.done()
    assert code is not None and name is not None and parent is not None

    def work(session: Session) -> View:
        unit = orgunits.create(
            session,
            code=code,
            name=name,
            parent=parent,
            level=level,
            opened_on=opened_on,
            by=actor,
        )
        return _view_of(unit, actor)

    return await _change(request, work, status=201)


@describe(
    requestBody=_body_schema({"name": _NAME, "version": _VERSION}, ["name", "version"]),
    responses={"200": _json("改名后的单位"), "409": ERROR_RESPONSE, "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def rename_unit(request: Request) -> Response:
    """Rename a unit. version must be the one read; a stale one answers 409 with the
    current values (error.current)."""
    actor = _actor(request)
    code = request.path_params["code"]
    body = _Body(await read_json(request), ("name", "version", "on"))
    name = body.text("name", body.data.get("name"))
    version = body.version(required=True)
    on = body.day("on", required=False)
    body.done()
    assert name is not None and version is not None

    def work(session: Session) -> View:
        unit = orgunits.rename(session, code, name=name, version=version, by=actor, on=on)
        return _view_of(unit, actor)

    return await _change(request, work)


@describe(
    requestBody=_body_schema({"parent": _CODE, "version": _VERSION, "on": _DATE}, ["parent"]),
    responses={"200": _json("移动后的单位与移动的单位数"), "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def move_unit(request: Request) -> Response:
    """Move a unit and its whole subtree under a new parent of the level above."""
    actor = _actor(request)
    code = request.path_params["code"]
    body = _Body(await read_json(request), ("parent", "version", "on"))
    parent = body.code("parent", body.data.get("parent"))
    version = body.version(required=False)
    on = body.day("on", required=False)
    body.done()
    assert parent is not None

    def work(session: Session) -> View:
        unit, moved = orgunits.move(session, code, parent=parent, by=actor, version=version, on=on)
        return lambda s: {"unit": unit_view(s, unit, actor), "moved": moved}

    return await _change(request, work)


@describe(
    requestBody=_body_schema(
        {"closed_on": _DATE, "successor": _CODE, "version": _VERSION}, ["closed_on"]
    ),
    responses={"200": _json("撤销后的单位"), "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def close_unit(request: Request) -> Response:
    """Close a unit from closed_on; refused while it has children still open on that day."""
    actor = _actor(request)
    code = request.path_params["code"]
    body = _Body(await read_json(request), ("closed_on", "successor", "version"))
    closed_on = body.day("closed_on", required=True)
    successor = body.code("successor", body.data.get("successor"), required=False)
    version = body.version(required=False)
    body.done()
    assert closed_on is not None

    def work(session: Session) -> View:
        unit = orgunits.close(
            session, code, closed_on=closed_on, successor=successor, version=version, by=actor
        )
        return _view_of(unit, actor)

    return await _change(request, work)


def _new_unit(body: _Body, value: Any, where: str) -> NewUnit | None:
    if not isinstance(value, dict):
        body.bad(where, f'{where} 应为对象，如 {{"code": ..., "name": ...}}')
        return None
    for key in value:
        if key not in ("code", "name", "children"):
            body.bad(f"{where}.{key}", f"未知字段 {key}，可用：code、name、children")
    code = body.code(f"{where}.code", value.get("code"))
    name = body.text(f"{where}.name", value.get("name"))
    children_value = value.get("children", [])
    children: list[str] = []
    if not isinstance(children_value, list):
        body.bad(f"{where}.children", f"{where}.children 应为组织编码的列表")
    else:
        for j, child in enumerate(children_value):
            checked = body.code(f"{where}.children[{j}]", child)
            if checked is not None:
                children.append(checked)
    if code is None or name is None:
        return None
    return NewUnit(code, name, tuple(children))


_NEW_UNIT = {
    "type": "object",
    "properties": {
        "code": _CODE,
        "name": _NAME,
        "children": {"type": "array", "items": _CODE, "description": "移到新单位之下的下级"},
    },
    "required": ["code", "name"],
}


@describe(
    requestBody=_body_schema(
        {
            "into": {"type": "array", "items": _NEW_UNIT, "minItems": 2},
            "on": _DATE,
            "version": _VERSION,
        },
        ["into", "on"],
    ),
    responses={"200": _json("被拆分的单位与新单位"), "409": ERROR_RESPONSE, "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def split_unit(request: Request) -> Response:
    """Split a unit: it closes on the date and the new units open under the same parent.

    Each child still open must be given to one of the new units (into[i].children).
    """
    actor = _actor(request)
    code = request.path_params["code"]
    body = _Body(await read_json(request), ("into", "on", "version"))
    on = body.day("on", required=True)
    version = body.version(required=False)
    into_value = body.data.get("into")
    into: list[NewUnit] = []
    if not isinstance(into_value, list) or len(into_value) < 2:
        body.bad("into", "into 应为至少两个新单位的列表")
    else:
        for i, item in enumerate(into_value):
            new = _new_unit(body, item, f"into[{i}]")
            if new is not None:
                into.append(new)
    body.done()
    assert on is not None

    def work(session: Session) -> View:
        created = orgunits.split(session, code, into=into, on=on, by=actor, version=version)
        old = orgunits.find(session, code, by=actor)
        return lambda s: {
            "closed": unit_view(s, old, actor),
            "created": [unit_view(s, u, actor) for u in created],
        }

    return await _change(request, work)


@describe(
    requestBody=_body_schema(
        {
            "units": {"type": "array", "items": _CODE, "minItems": 2},
            "into": {"oneOf": [_CODE, _NEW_UNIT], "description": "已有单位的编码，或新单位"},
            "parent": {**_CODE, "description": "新单位的上级（默认为被合并单位共同的上级）"},
            "on": _DATE,
        },
        ["units", "into", "on"],
    ),
    responses={
        "200": _json("接续单位与被合并的单位"),
        "409": ERROR_RESPONSE,
        "422": ERROR_RESPONSE,
    },
)
@requires(ORG_MANAGE)
async def merge_units(request: Request) -> Response:
    """Merge units: they close on the date, with the successor into (existing or new).

    The merged units' children move under the successor.
    """
    actor = _actor(request)
    body = _Body(await read_json(request), ("units", "into", "parent", "on"))
    on = body.day("on", required=True)
    parent = body.code("parent", body.data.get("parent"), required=False)
    units_value = body.data.get("units")
    codes: list[str] = []
    if not isinstance(units_value, list) or len(units_value) < 2:
        body.bad("units", "units 应为至少两个组织编码的列表")
    else:
        for i, value in enumerate(units_value):
            checked = body.code(f"units[{i}]", value)
            if checked is not None:
                codes.append(checked)
    into_value = body.data.get("into")
    into: str | NewUnit | None = None
    if into_value is None:
        body.bad("into", "缺少 into（已有单位的编码，或新单位 {code, name}）")
    elif isinstance(into_value, str):
        into = body.code("into", into_value)
    else:
        into = _new_unit(body, into_value, "into")
    body.done()
    assert on is not None and into is not None

    def work(session: Session) -> View:
        target = orgunits.merge(session, codes, into=into, on=on, parent=parent, by=actor)
        merged = [orgunits.find(session, c, by=actor) for c in codes]
        return lambda s: {
            "into": unit_view(s, target, actor),
            "closed": [unit_view(s, u, actor) for u in merged],
        }

    return await _change(request, work)


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
