"""``/api/v1`` users, grants and API tokens: what admins manage, inside their own subtree.

Every list is restricted with :mod:`.scope` filters and every single object is checked with
:func:`.scope.can`; an object outside the admin's subtree answers 404, as if it did not exist,
and the attempt is audited. A role may only be handed out (or a token made for it) by an admin
whose own role holds every permission of that role. Every change is audited in its own
transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk import Conflict, Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, requires
from shequyun_sdk.web import read_json
from sqlalchemy import func, or_, true
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select, update
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import describe
from . import audit, directory, scope, user_import
from .auth import client_ip, request_actor, unit_ref
from .directory import grant_role, unit_by_code
from .models import ApiToken, Grant, OrgUnit, User, WebSession
from .passwords import check_policy, hash_password
from .permissions import PermissionRegistry
from .user_import import (
    MAX_IMPORT_BYTES,
    escalation_message,
    may_grant,
    new_first_password,
    user_management_refusal,
)

__all__ = ["ROUTES"]

USERS_VIEW = "identity.users.view"
USERS_MANAGE = "identity.users.manage"
TOKENS_MANAGE = "identity.tokens.manage"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_TOKEN_DAYS = 366

# The pattern directory.create_user checks phone numbers against.
PHONE_RE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}")


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- request plumbing ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    """What a handler's database work needs from the request."""

    engine: Engine
    registry: PermissionRegistry
    actor: Actor
    ip: str | None

    @classmethod
    def of(cls, request: Request) -> _Call:
        kernel = request.app.state.kernel
        actor = request_actor(request)
        assert actor is not None  # the route is guarded by requires()
        return cls(kernel.engine, kernel.permissions, actor, client_ip(request))

    def audit(
        self, session: Session, action: str, target_type: str, target_id: Any, **detail: Any
    ) -> None:
        audit.record(
            session,
            action,
            actor=self.actor,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
            client_ip=self.ip,
        )

    def hidden(
        self,
        target_type: str,
        target_id: Any,
        permission: str,
        message: str,
        field: str | None = None,
    ) -> NotFound:
        """Audit a reach outside the actor's subtree; answer it like a missing object."""
        audit.record_now(
            self.engine,
            "access.denied",
            actor=self.actor,
            outcome="denied",
            target_type=target_type,
            target_id=str(target_id)[:80],
            detail={"permission": permission, "reason": "outside scope"},
            client_ip=self.ip,
        )
        return NotFound(message, field=field)


async def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    data = await read_json(request) if (await request.body()).strip() else {}
    if not isinstance(data, dict):
        raise ValidationFailed("请求内容应为 JSON 对象")
    for key in data:
        if key not in allowed:
            raise ValidationFailed(f"未知字段 {key}", field=str(key))
    return data


def _text(data: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
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


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None:
        raise ValidationFailed(f"缺少字段 {name}", field=name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{name} 应为整数", field=name)
    return value


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed(f"{name} 应为 {low} 到 {high} 之间的整数", field=name)
    return int(raw)


def _query_flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ValidationFailed(f"{name} 应为 true 或 false", field=name)


def _page(request: Request, id_column: Any) -> tuple[int, Any]:
    """The page size and the condition on ``id_column`` for ``limit`` and ``cursor`` (newest
    first). A limit above the maximum is an error rather than a silently shorter page."""
    limit = _query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    before = _query_int(request, "cursor", 0, 1, 2**31 - 1)
    return limit, (id_column < before) if before else true()


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the OpenAPI description of what a route cannot tell ------------------------------------


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _body_doc(required: list[str], properties: dict[str, Any], optional: bool = False) -> Any:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {
        "required": not optional,
        "content": {"application/json": {"schema": schema}},
    }


_STR = {"type": "string"}
_INT = {"type": "integer"}
_PAGE = [
    _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "每页条数，默认 100"),
    _param("cursor", _STR, "上一页返回的 next_cursor"),
]
_CREATED = {"201": {"description": "已创建"}}


# -- loading what the actor may reach --------------------------------------------------------


def _unit(call: _Call, session: Session, code: str, permission: str, field: str) -> OrgUnit:
    unit = unit_by_code(session, code.strip())
    message = f"找不到编码为 {code} 的单位"
    if unit is None:
        raise NotFound(message, field=field)
    if not scope.can(call.actor, permission, unit_ref(unit)):
        raise call.hidden("org_unit", code, permission, message, field)
    return unit


def _user(
    call: _Call, session: Session, user_id: int, permission: str, field: str | None = None
) -> tuple[User, OrgUnit]:
    row = session.exec(
        select(User, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == User.home_unit_id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("找不到该用户", field=field)
    if not scope.can(call.actor, permission, unit_ref(row[1])):
        raise call.hidden("user", user_id, permission, "找不到该用户", field)
    return row


@dataclass
class _GrantRow:
    grant: Grant
    unit: OrgUnit
    user: User
    home: OrgUnit


def _grant(
    call: _Call, session: Session, grant_id: int, permission: str, field: str | None = None
) -> _GrantRow:
    """A grant whose unit and whose user's home unit both lie in the actor's subtree."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("找不到该授权", field=field)
    unit = session.get(OrgUnit, grant.unit_id)
    user = session.get(User, grant.user_id)
    assert unit is not None and user is not None
    home = session.get(OrgUnit, user.home_unit_id)
    assert home is not None
    if not (
        scope.can(call.actor, permission, unit_ref(unit))
        and scope.can(call.actor, permission, unit_ref(home))
    ):
        raise call.hidden("grant", grant_id, permission, "找不到该授权", field)
    return _GrantRow(grant, unit, user, home)


def _refuse_escalation(call: _Call, role: str, unit: OrgUnit, field: str = "role") -> None:
    if not may_grant(call.registry, call.actor, role, unit):
        raise Forbidden(escalation_message(call.registry, role, unit), field=field)


def _may_take_over(call: _Call, session: Session, user: User) -> None:
    refusal = user_management_refusal(session, call.registry, call.actor, user)
    if refusal is not None:
        raise Forbidden(refusal)


def _active_grants(
    session: Session, call: _Call, user_ids: list[int], include_revoked: bool = False
) -> dict[int, list[tuple[Grant, OrgUnit]]]:
    """The users' grants on units inside the actor's subtree, by user id."""
    query = (
        select(Grant, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
        .where(col(Grant.user_id).in_(user_ids), scope.unit_scope_filter(call.actor, USERS_VIEW))
        .order_by(col(Grant.id))
    )
    if not include_revoked:
        query = query.where(col(Grant.revoked_at).is_(None))
    found: dict[int, list[tuple[Grant, OrgUnit]]] = {i: [] for i in user_ids}
    for grant, unit in session.exec(query):
        found[grant.user_id].append((grant, unit))
    return found


# -- JSON ------------------------------------------------------------------------------------


def _mask(phone: str | None) -> str | None:
    if not phone:
        return phone
    keep = 4 if len(phone) >= 8 else 2
    head = 3 if len(phone) >= 8 else 0
    return phone[:head] + "*" * (len(phone) - head - keep) + phone[-keep:]


def _unit_json(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "level": unit.level}


def _grant_json(call: _Call, grant: Grant, unit: OrgUnit) -> dict[str, Any]:
    role = call.registry.roles.get(grant.role)
    return {
        "id": grant.id,
        "user_id": grant.user_id,
        "role": grant.role,
        "role_title": role.title if role else grant.role,
        "unit": _unit_json(unit),
        "granted_by": grant.granted_by,
        "granted_at": _iso(grant.granted_at),
        "revoked_at": _iso(grant.revoked_at),
    }


def _user_json(
    call: _Call, user: User, home: OrgUnit, grants: list[tuple[Grant, OrgUnit]]
) -> dict[str, Any]:
    locked_until = _aware(user.locked_until)
    full_phone = scope.can(call.actor, USERS_MANAGE, unit_ref(home))
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone if full_phone else _mask(user.phone),
        "home_unit": _unit_json(home),
        "is_active": user.is_active,
        "locked": locked_until is not None and locked_until > utcnow(),
        "locked_until": _iso(locked_until),
        "must_change_password": user.must_change_password,
        "last_login_at": _iso(user.last_login_at),
        "created_at": _iso(user.created_at),
        "version": user.version,
        "grants": [_grant_json(call, g, u) for g, u in grants],
    }


def _user_detail(call: _Call, session: Session, user: User, home: OrgUnit) -> dict[str, Any]:
    assert user.id is not None
    return _user_json(call, user, home, _active_grants(session, call, [user.id])[user.id])


def _token_json(
    call: _Call, token: ApiToken, grant: Grant, unit: OrgUnit, user: User
) -> dict[str, Any]:
    expires_at = _aware(token.expires_at)
    if token.revoked_at is not None or grant.revoked_at is not None:
        status = "revoked"
    elif expires_at is not None and expires_at <= utcnow():
        status = "expired"
    else:
        status = "active"
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "status": status,
        "grant": _grant_json(call, grant, unit),
        "user": {"id": user.id, "username": user.username, "display_name": user.display_name},
        "created_by": token.created_by,
        "created_at": _iso(token.created_at),
        "expires_at": _iso(expires_at),
        "revoked_at": _iso(token.revoked_at),
        "last_used_at": _iso(token.last_used_at),
    }


def _end_sessions(session: Session, *conditions: Any) -> int:
    ended = session.exec(select(func.count()).select_from(WebSession).where(*conditions)).one()
    session.exec(delete(WebSession).where(*conditions))
    return int(ended)


# -- users -----------------------------------------------------------------------------------


@describe(
    parameters=[
        _param("within", _STR, "单位编码：只列出其下属范围内的用户"),
        _param("q", _STR, "用户名或姓名的一部分"),
        _param("active", {"type": "boolean"}, "只列出启用（true）或停用（false）的用户"),
        *_PAGE,
    ]
)
@requires(USERS_VIEW)
async def list_users(request: Request) -> Response:
    """Users whose home unit lies in the actor's subtree, newest first.

    Query: ``within`` (a unit code, to narrow to its subtree), ``q`` (part of the username or
    name), ``active`` (true/false), ``limit`` (1-500, default 100), ``cursor`` (``next_cursor``
    of the previous page).
    """
    call = _Call.of(request)
    limit, before = _page(request, col(User.id))
    within = request.query_params.get("within", "").strip()
    q = request.query_params.get("q", "").strip()
    if len(q) > 64:
        raise ValidationFailed("搜索词不能超过 64 个字", field="q")
    active = request.query_params.get("active")
    only_active = None if active is None else _query_flag(request, "active", True)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            query = (
                select(User, OrgUnit)
                .join(OrgUnit, col(OrgUnit.id) == User.home_unit_id)
                .where(scope.unit_scope_filter(call.actor, USERS_VIEW), before)
                .order_by(col(User.id).desc())
                .limit(limit + 1)
            )
            if within:
                unit = _unit(call, session, within, USERS_VIEW, "within")
                query = query.where(col(OrgUnit.path).startswith(unit.path))
            if q:
                query = query.where(
                    or_(
                        func.lower(User.username).contains(q.lower(), autoescape=True),
                        col(User.display_name).contains(q, autoescape=True),
                    )
                )
            if only_active is not None:
                query = query.where(User.is_active == only_active)
            rows = session.exec(query).all()
            page = rows[:limit]
            grants = _active_grants(session, call, [u.id for u, _ in page if u.id is not None])
            return {
                "items": [_user_json(call, u, h, grants[u.id or 0]) for u, h in page],
                "next_cursor": str(page[-1][0].id) if len(rows) > limit else None,
            }

    return JSONResponse(await run_in_threadpool(work))


@requires(USERS_VIEW)
async def get_user(request: Request) -> Response:
    """One user, with their grants inside the actor's subtree."""
    call = _Call.of(request)
    user_id: int = request.path_params["user_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = _user(call, session, user_id, USERS_VIEW)
            return _user_detail(call, session, user, home)

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=_body_doc(
        ["username", "display_name", "home_unit_code"],
        {
            "username": _STR,
            "display_name": _STR,
            "home_unit_code": _STR,
            "phone": _STR,
            "password": _STR,
            "role": _STR,
            "unit_code": _STR,
        },
    ),
    responses=_CREATED,
)
@requires(USERS_MANAGE)
async def create_user(request: Request) -> Response:
    """Create a user in the actor's subtree, optionally with a first grant.

    Body: ``username``, ``display_name``, ``home_unit_code``, optional ``phone``, ``password``
    (generated and returned once as ``password`` when left out), ``role`` and ``unit_code``
    (default: the home unit). The user must change the password at their first login.
    """
    call = _Call.of(request)
    body = await _body(
        request,
        {"username", "display_name", "phone", "home_unit_code", "password", "role", "unit_code"},
    )
    username = _text(body, "username", required=True) or ""
    display_name = _text(body, "display_name", required=True) or ""
    home_code = _text(body, "home_unit_code", required=True) or ""
    phone = _text(body, "phone")
    chosen = _text(body, "password")
    role = _text(body, "role")
    unit_code = _text(body, "unit_code")
    if unit_code and not role:
        raise ValidationFailed("填写了授权单位，但没有填写角色", field="role")
    if role is not None and role not in call.registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    password = chosen if chosen is not None else new_first_password()

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            home = _unit(call, session, home_code, USERS_MANAGE, "home_unit_code")
            grant_unit = home
            if unit_code:
                grant_unit = _unit(call, session, unit_code, USERS_MANAGE, "unit_code")
            user = directory.create_user(
                session,
                username=username,
                display_name=display_name,
                home_unit=home,
                password=password,
                phone=phone,
                must_change_password=True,
            )
            call.audit(session, "user.created", "user", user.id, username=user.username)
            if role is not None:
                grant = grant_role(
                    session,
                    call.registry,
                    user=user,
                    role=role,
                    unit=grant_unit,
                    granted_by=call.actor.user_id,
                )
                _refuse_escalation(call, role, grant_unit)
                call.audit(
                    session,
                    "grant.created",
                    "grant",
                    grant.id,
                    user_id=user.id,
                    role=role,
                    unit_code=grant_unit.code,
                )
            session.commit()
            result = _user_detail(call, session, user, home)
            if chosen is None:
                result["password"] = password
            return result

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(
    requestBody=_body_doc(
        ["version"],
        {
            "version": _INT,
            "display_name": _STR,
            "phone": {"type": ["string", "null"]},
            "is_active": {"type": "boolean"},
        },
    ),
    responses={"409": {"description": "version 已过期：error.current 为当前内容"}},
)
@requires(USERS_MANAGE)
async def update_user(request: Request) -> Response:
    """Change a user's name, phone or active state; ``version`` must be the current one.

    Body: ``version`` and any of ``display_name``, ``phone``, ``is_active``. A stale ``version``
    answers 409 with the user's current values in ``error.current``. Deactivating a user ends their
    sessions; their tokens stop working.
    """
    call = _Call.of(request)
    user_id: int = request.path_params["user_id"]
    body = await _body(request, {"version", "display_name", "phone", "is_active"})
    version = _int(body, "version")
    changes: dict[str, Any] = {}
    if "display_name" in body:
        name = (_text(body, "display_name", required=True) or "").strip()
        if len(name) > 80:
            raise ValidationFailed("姓名不能为空且不超过 80 个字", field="display_name")
        changes["display_name"] = name
    if "phone" in body:
        phone = (_text(body, "phone") or "").strip()
        if phone and not PHONE_RE.fullmatch(phone):
            raise ValidationFailed("电话号码格式不正确", field="phone")
        changes["phone"] = phone or None
    if "is_active" in body:
        if not isinstance(body["is_active"], bool):
            raise ValidationFailed("is_active 应为 true 或 false", field="is_active")
        if body["is_active"] is False and user_id == call.actor.user_id:
            raise ValidationFailed("不能停用自己的账户", field="is_active")
        changes["is_active"] = body["is_active"]
    if not changes:
        raise ValidationFailed("没有要修改的字段")

    def work() -> tuple[int, dict[str, Any]]:
        with Session(call.engine) as session:
            user, home = _user(call, session, user_id, USERS_MANAGE)
            _may_take_over(call, session, user)
            before = {k: getattr(user, k) for k in changes}
            updated = session.exec(
                update(User)
                .where(col(User.id) == user_id, col(User.version) == version)
                .values(**changes, version=version + 1)
            )
            if updated.rowcount != 1:
                session.rollback()
                current = _user_detail(call, session, user, home)
                return 409, {
                    "error": {
                        "code": "version_conflict",
                        "message": "该用户已被他人修改，请查看当前内容后重试",
                        "field": "version",
                        "current": current,
                    }
                }
            sessions_ended = 0
            if changes.get("is_active") is False:
                sessions_ended = _end_sessions(session, col(WebSession.user_id) == user_id)
            detail = {
                k: "changed" if k == "phone" else {"from": before[k], "to": v}
                for k, v in changes.items()
                if before[k] != v
            }
            call.audit(
                session,
                "user.updated",
                "user",
                user_id,
                changes=detail,
                sessions_ended=sessions_ended,
            )
            session.commit()
            session.refresh(user)
            return 200, _user_detail(call, session, user, home)

    status, result = await run_in_threadpool(work)
    return JSONResponse(result, status_code=status)


@requires(USERS_MANAGE)
async def unlock_user(request: Request) -> Response:
    """Lift a lockout after failed logins (and the growing delay before the next attempt)."""
    call = _Call.of(request)
    user_id: int = request.path_params["user_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = _user(call, session, user_id, USERS_MANAGE)
            _may_take_over(call, session, user)
            was_locked = user.locked_until is not None
            user.locked_until = None
            user.next_login_at = None
            user.failed_logins = 0
            session.add(user)
            call.audit(session, "user.unlocked", "user", user.id, was_locked=was_locked)
            session.commit()
            return _user_detail(call, session, user, home)

    return JSONResponse(await run_in_threadpool(work))


@describe(requestBody=_body_doc([], {"password": _STR}, optional=True))
@requires(USERS_MANAGE)
async def reset_password(request: Request) -> Response:
    """Give the user a new first password and end their sessions.

    The password must be changed at the next login. Body (optional): ``password``; when left out one
    is generated and returned once as ``password``. A lockout is lifted too.
    """
    call = _Call.of(request)
    user_id: int = request.path_params["user_id"]
    body = await _body(request, {"password"})
    chosen = _text(body, "password")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = _user(call, session, user_id, USERS_MANAGE)
            _may_take_over(call, session, user)
            password = chosen if chosen is not None else new_first_password()
            problem = check_policy(password, user.username)
            if problem:
                raise ValidationFailed(problem, field="password")
            user.password_hash = hash_password(password)
            user.must_change_password = True
            user.locked_until = None
            user.next_login_at = None
            user.failed_logins = 0
            user.version += 1
            session.add(user)
            ended = _end_sessions(session, col(WebSession.user_id) == user_id)
            call.audit(
                session,
                "user.password_reset",
                "user",
                user.id,
                generated=chosen is None,
                sessions_ended=ended,
            )
            session.commit()
            result = _user_detail(call, session, user, home)
            if chosen is None:
                result["password"] = password
            return result

    return JSONResponse(await run_in_threadpool(work))


@describe(
    parameters=[_param("dry_run", {"type": "boolean", "default": True}, "只检查，不写入")],
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
    responses={
        "200": {"description": "检查报告（dry_run=true）"},
        "201": {"description": "已导入；users[].password 为初始密码，仅此一次"},
        "422": {"description": "文件有错误行（error.details），未写入任何数据"},
    },
)
@requires(USERS_MANAGE)
async def import_users(request: Request) -> Response:
    """Create users in bulk from a CSV or XLSX file (a dry run by default).

    Upload the file as the multipart field ``file``. ``dry_run`` (default true) checks every row and
    writes nothing; the report lists every bad row. With ``dry_run=false`` the file is applied all
    or nothing: 201 with each user's first password (shown once), or 422 listing the bad rows.
    """
    call = _Call.of(request)
    dry_run = _query_flag(request, "dry_run", True)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("请以表单字段 file 上传 CSV 或 XLSX 文件", field="file")
        data = await upload.read(MAX_IMPORT_BYTES + 1)
        filename = upload.filename or ""
    report = await run_in_threadpool(
        lambda: user_import.import_users(
            call.engine,
            call.registry,
            call.actor,
            data,
            filename,
            apply=not dry_run,
            client_ip=call.ip,
        )
    )
    if dry_run:
        return JSONResponse({"dry_run": True, **report.to_dict()})
    if not report.applied:
        return JSONResponse(
            {
                "error": {
                    "code": "validation_failed",
                    "message": f"文件中有 {len(report.errors)} 处错误，未导入任何用户",
                    "field": "file",
                    "details": [e.to_dict() for e in report.errors],
                }
            },
            status_code=422,
        )
    return JSONResponse({"dry_run": False, **report.to_dict()}, status_code=201)


# -- grants ----------------------------------------------------------------------------------


@describe(parameters=[_param("include_revoked", {"type": "boolean"}, "包括已撤销的授权")])
@requires(USERS_VIEW)
async def list_user_grants(request: Request) -> Response:
    """The user's grants on units inside the actor's subtree.

    ``include_revoked=true`` adds the revoked ones.
    """
    call = _Call.of(request)
    user_id: int = request.path_params["user_id"]
    include_revoked = _query_flag(request, "include_revoked", False)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            _user(call, session, user_id, USERS_VIEW)
            grants = _active_grants(session, call, [user_id], include_revoked)[user_id]
            return {"items": [_grant_json(call, g, u) for g, u in grants]}

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=_body_doc(
        ["user_id", "role", "unit_code"], {"user_id": _INT, "role": _STR, "unit_code": _STR}
    ),
    responses=_CREATED,
)
@requires(USERS_MANAGE)
async def create_grant(request: Request) -> Response:
    """Give a user a role on a unit.

    Body: ``user_id``, ``role``, ``unit_code``. Both the user's home unit and the unit must lie in
    the actor's subtree, the role must be allowed at the unit's level, and it may not carry a
    permission the actor lacks.
    """
    call = _Call.of(request)
    body = await _body(request, {"user_id", "role", "unit_code"})
    user_id = _int(body, "user_id")
    role = _text(body, "role", required=True) or ""
    unit_code = _text(body, "unit_code", required=True) or ""
    if role not in call.registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    if user_id == call.actor.user_id:
        raise Forbidden("不能给自己授权，请由其他管理员办理", field="user_id")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, _ = _user(call, session, user_id, USERS_MANAGE, "user_id")
            unit = _unit(call, session, unit_code, USERS_MANAGE, "unit_code")
            grant = grant_role(
                session,
                call.registry,
                user=user,
                role=role,
                unit=unit,
                granted_by=call.actor.user_id,
            )
            _refuse_escalation(call, role, unit)
            call.audit(
                session,
                "grant.created",
                "grant",
                grant.id,
                user_id=user.id,
                username=user.username,
                role=role,
                unit_code=unit.code,
            )
            session.commit()
            return _grant_json(call, grant, unit)

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@requires(USERS_MANAGE)
async def revoke_grant(request: Request) -> Response:
    """Revoke a grant: sessions acting under it end and its tokens are revoked."""
    call = _Call.of(request)
    grant_id: int = request.path_params["grant_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            found = _grant(call, session, grant_id, USERS_MANAGE)
            grant = found.grant
            _refuse_escalation(call, grant.role, found.unit)
            if grant.revoked_at is not None:
                raise Conflict("该授权已经撤销")
            if grant.id == call.actor.grant_id:
                raise Conflict("不能撤销您当前正在使用的授权")
            now = utcnow()
            grant.revoked_at = now
            session.add(grant)
            sessions = _end_sessions(session, col(WebSession.grant_id) == grant_id)
            tokens = session.exec(
                update(ApiToken)
                .where(col(ApiToken.grant_id) == grant_id, col(ApiToken.revoked_at).is_(None))
                .values(revoked_at=now)
            ).rowcount
            call.audit(
                session,
                "grant.revoked",
                "grant",
                grant_id,
                user_id=grant.user_id,
                role=grant.role,
                unit_code=found.unit.code,
                sessions_ended=sessions,
                tokens_revoked=tokens,
            )
            session.commit()
            return {
                **_grant_json(call, grant, found.unit),
                "sessions_ended": sessions,
                "tokens_revoked": tokens,
            }

    return JSONResponse(await run_in_threadpool(work))


# -- tokens ----------------------------------------------------------------------------------


@describe(
    parameters=[
        _param("user_id", _INT, "只列出该用户的令牌"),
        _param("grant_id", _INT, "只列出该授权的令牌"),
        *_PAGE,
    ]
)
@requires(TOKENS_MANAGE)
async def list_tokens(request: Request) -> Response:
    """API tokens of the grants the actor manages, newest first (never their secrets).

    Query: ``user_id``, ``grant_id``, ``limit`` (1-500), ``cursor``.
    """
    call = _Call.of(request)
    limit, before = _page(request, col(ApiToken.id))
    user_id = _query_int(request, "user_id", 0, 1, 2**31 - 1)
    grant_id = _query_int(request, "grant_id", 0, 1, 2**31 - 1)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            query = (
                select(ApiToken, Grant, OrgUnit, User)
                .join(Grant, col(Grant.id) == ApiToken.grant_id)
                .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
                .join(User, col(User.id) == Grant.user_id)
                .where(
                    scope.unit_scope_filter(call.actor, TOKENS_MANAGE),
                    scope.scope_filter(call.actor, TOKENS_MANAGE, User.home_unit_id),
                    before,
                )
                .order_by(col(ApiToken.id).desc())
                .limit(limit + 1)
            )
            if user_id:
                query = query.where(Grant.user_id == user_id)
            if grant_id:
                query = query.where(ApiToken.grant_id == grant_id)
            rows = session.exec(query).all()
            page = rows[:limit]
            return {
                "items": [_token_json(call, *row) for row in page],
                "next_cursor": str(page[-1][0].id) if len(rows) > limit else None,
            }

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=_body_doc(
        ["grant_id", "name", "expires_in_days"],
        {
            "grant_id": _INT,
            "name": _STR,
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS},
        },
    ),
    responses={"201": {"description": "已创建；secret 仅在此返回一次"}},
)
@requires(TOKENS_MANAGE)
async def create_token(request: Request) -> Response:
    """Create an API token acting under a grant; its secret is shown once.

    Body: ``grant_id``, ``name``, ``expires_in_days`` (1-366: every token expires). The secret is in
    the answer (``secret``) and nowhere else: only its hash is stored.
    """
    call = _Call.of(request)
    body = await _body(request, {"grant_id", "name", "expires_in_days"})
    grant_id = _int(body, "grant_id")
    name = _text(body, "name", required=True) or ""
    days = _int(body, "expires_in_days")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(f"有效期应为 1 到 {MAX_TOKEN_DAYS} 天", field="expires_in_days")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            found = _grant(call, session, grant_id, TOKENS_MANAGE, "grant_id")
            _refuse_escalation(call, found.grant.role, found.unit, "grant_id")
            if not found.user.is_active:
                raise ValidationFailed("该用户已停用，不能为其签发令牌", field="grant_id")
            token, secret = directory.create_token(
                session,
                grant=found.grant,
                name=name,
                expires_at=utcnow() + timedelta(days=days),
                created_by=call.actor.user_id,
            )
            call.audit(
                session,
                "token.created",
                "token",
                token.id,
                grant_id=grant_id,
                name=token.name,
                prefix=token.prefix,
                expires_at=_iso(token.expires_at),
            )
            session.commit()
            return {
                **_token_json(call, token, found.grant, found.unit, found.user),
                "secret": secret,
            }

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@requires(TOKENS_MANAGE)
async def revoke_token(request: Request) -> Response:
    """Revoke an API token; it stops working at once."""
    call = _Call.of(request)
    token_id: int = request.path_params["token_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFound("找不到该令牌")
            try:
                found = _grant(call, session, token.grant_id, TOKENS_MANAGE)
            except NotFound:
                raise NotFound("找不到该令牌") from None
            _refuse_escalation(call, found.grant.role, found.unit)
            if token.revoked_at is not None:
                raise Conflict("该令牌已经撤销")
            token.revoked_at = utcnow()
            session.add(token)
            call.audit(session, "token.revoked", "token", token_id, grant_id=token.grant_id)
            session.commit()
            return _token_json(call, token, found.grant, found.unit, found.user)

    return JSONResponse(await run_in_threadpool(work))


ROUTES: list[BaseRoute] = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/import", import_users, methods=["POST"]),
    Route("/users/{user_id:int}", get_user, methods=["GET"]),
    Route("/users/{user_id:int}", update_user, methods=["PATCH"]),
    Route("/users/{user_id:int}/unlock", unlock_user, methods=["POST"]),
    Route("/users/{user_id:int}/reset-password", reset_password, methods=["POST"]),
    Route("/users/{user_id:int}/grants", list_user_grants, methods=["GET"]),
    Route("/grants", create_grant, methods=["POST"]),
    Route("/grants/{grant_id:int}", revoke_grant, methods=["DELETE"]),
    Route("/tokens", list_tokens, methods=["GET"]),
    Route("/tokens", create_token, methods=["POST"]),
    Route("/tokens/{token_id:int}", revoke_token, methods=["DELETE"]),
]
