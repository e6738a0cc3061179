"""``/api/v1/org-units`` changes: create, rename, move, close, split and merge units.

Each handler reads the body and calls :mod:`.orgunits`, which checks scope, validates, writes
the history and the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequyun_sdk.identity import Actor, requires
from shequyun_sdk.web import read_json
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from ..openapi import ERROR_RESPONSE, describe
from . import orgunits
from .api_org_support import (
    CODE,
    DATE,
    NAME,
    VERSION,
    Body,
    View,
    actor_of,
    body_schema,
    change_response,
    json_content,
    unit_view,
)
from .models import LEVELS, OrgUnit
from .orgunits import ORG_MANAGE, NewUnit

# -- changes ----------------------------------------------------------------------------------


def view_of(unit: OrgUnit, actor: Actor) -> Callable[[Session], dict[str, Any]]:
    return lambda session: unit_view(session, unit, actor)


@describe(
    requestBody=body_schema(
        {
            "code": CODE,
            "name": NAME,
            "parent": CODE,
            "level": {"type": "string", "enum": list(LEVELS)},
            "opened_on": DATE,
        },
        ["code", "name", "parent"],
    ),
    responses={"201": json_content("新单位"), "409": ERROR_RESPONSE, "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def create_unit(request: Request) -> Response:
    """Create a unit under parent; its level is the one below the parent's."""
    actor = actor_of(request)
    body = Body(await read_json(request), ("code", "name", "parent", "level", "opened_on"))
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
        return view_of(unit, actor)

    return await change_response(request, work, status=201)


@describe(
    requestBody=body_schema({"name": NAME, "version": VERSION}, ["name", "version"]),
    responses={"200": json_content("改名后的单位"), "409": ERROR_RESPONSE, "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def rename_unit(request: Request) -> Response:
    """Rename a unit. version must be the one read; a stale one answers 409 with the
    current values (error.current)."""
    actor = actor_of(request)
    code = request.path_params["code"]
    body = Body(await read_json(request), ("name", "version", "on"))
    name = body.text("name", body.data.get("name"))
    version = body.version(required=True)
    on = body.day("on", required=False)
    body.done()
    assert name is not None and version is not None

    def work(session: Session) -> View:
        unit = orgunits.rename(session, code, name=name, version=version, by=actor, on=on)
        return view_of(unit, actor)

    return await change_response(request, work)


@describe(
    requestBody=body_schema({"parent": CODE, "version": VERSION, "on": DATE}, ["parent"]),
    responses={"200": json_content("移动后的单位与移动的单位数"), "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def move_unit(request: Request) -> Response:
    """Move a unit and its whole subtree under a new parent of the level above."""
    actor = actor_of(request)
    code = request.path_params["code"]
    body = Body(await read_json(request), ("parent", "version", "on"))
    parent = body.code("parent", body.data.get("parent"))
    version = body.version(required=False)
    on = body.day("on", required=False)
    body.done()
    assert parent is not None

    def work(session: Session) -> View:
        unit, moved = orgunits.move(session, code, parent=parent, by=actor, version=version, on=on)
        return lambda s: {"unit": unit_view(s, unit, actor), "moved": moved}

    return await change_response(request, work)


@describe(
    requestBody=body_schema(
        {"closed_on": DATE, "successor": CODE, "version": VERSION}, ["closed_on"]
    ),
    responses={"200": json_content("撤销后的单位"), "422": ERROR_RESPONSE},
)
@requires(ORG_MANAGE)
async def close_unit(request: Request) -> Response:
    """Close a unit from closed_on; refused while it has children still open on that day."""
    actor = actor_of(request)
    code = request.path_params["code"]
    body = Body(await read_json(request), ("closed_on", "successor", "version"))
    closed_on = body.day("closed_on", required=True)
    successor = body.code("successor", body.data.get("successor"), required=False)
    version = body.version(required=False)
    body.done()
    assert closed_on is not None

    def work(session: Session) -> View:
        unit = orgunits.close(
            session, code, closed_on=closed_on, successor=successor, version=version, by=actor
        )
        return view_of(unit, actor)

    return await change_response(request, work)


def _new_unit(body: Body, value: Any, where: str) -> NewUnit | None:
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
        "code": CODE,
        "name": NAME,
        "children": {"type": "array", "items": CODE, "description": "移到新单位之下的下级"},
    },
    "required": ["code", "name"],
}


@describe(
    requestBody=body_schema(
        {
            "into": {"type": "array", "items": _NEW_UNIT, "minItems": 2},
            "on": DATE,
            "version": VERSION,
        },
        ["into", "on"],
    ),
    responses={
        "200": json_content("被拆分的单位与新单位"),
        "409": ERROR_RESPONSE,
        "422": ERROR_RESPONSE,
    },
)
@requires(ORG_MANAGE)
async def split_unit(request: Request) -> Response:
    """Split a unit: it closes on the date and the new units open under the same parent.

    Each child still open must be given to one of the new units (into[i].children).
    """
    actor = actor_of(request)
    code = request.path_params["code"]
    body = Body(await read_json(request), ("into", "on", "version"))
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

    return await change_response(request, work)


@describe(
    requestBody=body_schema(
        {
            "units": {"type": "array", "items": CODE, "minItems": 2},
            "into": {"oneOf": [CODE, _NEW_UNIT], "description": "已有单位的编码，或新单位"},
            "parent": {**CODE, "description": "新单位的上级（默认为被合并单位共同的上级）"},
            "on": DATE,
        },
        ["units", "into", "on"],
    ),
    responses={
        "200": json_content("接续单位与被合并的单位"),
        "409": ERROR_RESPONSE,
        "422": ERROR_RESPONSE,
    },
)
@requires(ORG_MANAGE)
async def merge_units(request: Request) -> Response:
    """Merge units: they close on the date, with the successor into (existing or new).

    The merged units' children move under the successor.
    """
    actor = actor_of(request)
    body = Body(await read_json(request), ("units", "into", "parent", "on"))
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

    return await change_response(request, work)
