"""What the org-unit endpoints share: running work off the event loop, reading a change's body,
the JSON views of a unit, and the OpenAPI pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import case, func
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import orgunits, scope
from .auth import request_actor, unit_ref
from .models import LEVEL_NAMES, LEVELS, OrgUnit, OrgUnitChange
from .orgunits import ORG_VIEW, StaleVersion, is_code

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
STATUSES = ("open", "closed", "all")

T = TypeVar("T")


# -- plumbing ---------------------------------------------------------------------------------


def actor_of(request: Request) -> Actor:
    actor = request_actor(request)
    assert actor is not None  # requires() let the request through
    return actor


async def run_work(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a session in a worker thread; it commits what it wants kept."""
    engine = request.app.state.kernel.engine

    def run() -> T:
        with Session(engine, expire_on_commit=False) as session:
            return work(session)

    return await run_in_threadpool(run)


View = Callable[[Session], Any]


async def change_response(
    request: Request, work: Callable[[Session], View], status: int = 200
) -> Response:
    """Apply a change, commit, and answer with the view ``work`` returns (rendered after the
    commit). A stale version answers 409 with the unit's current values in
    ``error.current``, so the client can show them and ask again."""

    def committed(session: Session) -> Any:
        view = work(session)
        session.commit()
        return view(session)

    try:
        body = await run_work(request, committed)
    except StaleVersion as exc:
        error = {"code": exc.code, "message": exc.message, "field": exc.field}
        return JSONResponse({"error": {**error, "current": exc.current}}, status_code=409)
    return JSONResponse(body, status_code=status)


class Body:
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


def brief(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "level": unit.level}


def dates(unit: OrgUnit) -> dict[str, Any]:
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
    breadcrumb = [brief(above[i]) for i in ids[:-1] if i in above]
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
        **brief(unit),
        "level_name": LEVEL_NAMES[unit.level],
        **dates(unit),
        "open": unit.is_open_on(today),
        "version": unit.version,
        "parent": breadcrumb[-1] if breadcrumb and unit.parent_id in above else None,
        "breadcrumb": breadcrumb,
        "successor": brief(successor) if successor else None,
        "successors": split_successors(session, unit, actor) if successor is None else [],
        "children": {"open": still_open, "closed": total - still_open},
        "open_descendants": {level: n for level, n in sorted(below, key=level_order)},
    }


def level_order(row: tuple[str, int]) -> int:
    return LEVELS.index(row[0]) if row[0] in LEVELS else len(LEVELS)


def split_successors(session: Session, unit: OrgUnit, actor: Actor) -> list[dict[str, Any]]:
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
    return [brief(u) for u in sorted(found, key=lambda u: codes.index(u.code))]


def list_item(unit: OrgUnit, parent: OrgUnit | None, open_children: int) -> dict[str, Any]:
    return {
        **brief(unit),
        "parent": {"code": parent.code, "name": parent.name} if parent else None,
        **dates(unit),
        "version": unit.version,
        "open_children": open_children,
    }


# -- reads ------------------------------------------------------------------------------------


def json_content(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def body_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
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


CODE = {"type": "string", "pattern": r"^\d{12}$"}
DATE = {"type": "string", "format": "date"}
NAME = {"type": "string", "maxLength": 80}
VERSION = {"type": "integer", "minimum": 1, "description": "读取时得到的版本号"}


def query_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }
