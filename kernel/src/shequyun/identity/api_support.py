"""What the users, grants and tokens endpoints share: the call, its loaders, the JSON shapes.

Every list is restricted with :mod:`.scope` filters and every single object is checked with
:func:`.scope.can`; an object outside the admin's subtree answers 404, as if it did not exist,
and the attempt is audited. A role may only be handed out (or a token made for it) by an admin
whose own role holds every permission of that role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.web import read_json
from sqlalchemy import func, true
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select
from starlette.requests import Request

from . import audit, scope
from .auth import client_ip, request_actor, unit_ref
from .directory import unit_by_code
from .grant_rules import (
    escalation_message,
    may_grant,
    token_delegation_refusal,
    user_management_refusal,
)
from .models import ApiToken, Grant, OrgUnit, User, WebSession
from .permissions import PermissionRegistry

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
class Call:
    """What a handler's database work needs from the request."""

    engine: Engine
    registry: PermissionRegistry
    actor: Actor
    ip: str | None

    @classmethod
    def of(cls, request: Request) -> Call:
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
    return value


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed(f"{name} 应为 {low} 到 {high} 之间的整数", field=name)
    return int(raw)


def query_flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ValidationFailed(f"{name} 应为 true 或 false", field=name)


def page_bounds(request: Request, id_column: Any) -> tuple[int, Any]:
    """The page size and the condition on ``id_column`` for ``limit`` and ``cursor`` (newest
    first). A limit above the maximum is an error rather than a silently shorter page."""
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    before = query_int(request, "cursor", 0, 1, 2**31 - 1)
    return limit, (id_column < before) if before else true()


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


# -- loading what the actor may reach --------------------------------------------------------


def load_unit(call: Call, session: Session, code: str, permission: str, field: str) -> OrgUnit:
    unit = unit_by_code(session, code.strip())
    message = f"找不到编码为 {code} 的单位"
    if unit is None:
        raise NotFound(message, field=field)
    if not scope.can(call.actor, permission, unit_ref(unit)):
        raise call.hidden("org_unit", code, permission, message, field)
    return unit


def load_user(
    call: Call, session: Session, user_id: int, permission: str, field: str | None = None
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
class GrantRow:
    grant: Grant
    unit: OrgUnit
    user: User
    home: OrgUnit


def load_grant(
    call: Call, session: Session, grant_id: int, permission: str, field: str | None = None
) -> GrantRow:
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
    return GrantRow(grant, unit, user, home)


def refuse_escalation(call: Call, role: str, unit: OrgUnit, field: str = "role") -> None:
    if not may_grant(call.registry, call.actor, role, unit):
        raise Forbidden(escalation_message(call.registry, role, unit), field=field)


def refuse_token_delegation(call: Call, grant: Grant) -> None:
    refusal = token_delegation_refusal(call.registry, call.actor, grant.role, grant.user_id)
    if refusal is not None:
        raise Forbidden(refusal, field="grant_id")


def may_take_over(call: Call, session: Session, user: User) -> None:
    refusal = user_management_refusal(session, call.registry, call.actor, user)
    if refusal is not None:
        raise Forbidden(refusal)


def active_grants(
    session: Session, call: Call, user_ids: list[int], include_revoked: bool = False
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


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    keep = 4 if len(phone) >= 8 else 2
    head = 3 if len(phone) >= 8 else 0
    return phone[:head] + "*" * (len(phone) - head - keep) + phone[-keep:]


def unit_json(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "level": unit.level}


def grant_json(call: Call, grant: Grant, unit: OrgUnit) -> dict[str, Any]:
    role = call.registry.roles.get(grant.role)
    return {
        "id": grant.id,
        "user_id": grant.user_id,
        "role": grant.role,
        "role_title": role.title if role else grant.role,
        "unit": unit_json(unit),
        "granted_by": grant.granted_by,
        "granted_at": iso(grant.granted_at),
        "revoked_at": iso(grant.revoked_at),
    }


def user_json(
    call: Call, user: User, home: OrgUnit, grants: list[tuple[Grant, OrgUnit]]
) -> dict[str, Any]:
    locked_until = aware(user.locked_until)
    full_phone = scope.can(call.actor, USERS_MANAGE, unit_ref(home))
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone if full_phone else mask_phone(user.phone),
        "home_unit": unit_json(home),
        "is_active": user.is_active,
        "locked": locked_until is not None and locked_until > utcnow(),
        "locked_until": iso(locked_until),
        "must_change_password": user.must_change_password,
        "last_login_at": iso(user.last_login_at),
        "created_at": iso(user.created_at),
        "version": user.version,
        "grants": [grant_json(call, g, u) for g, u in grants],
    }


def user_detail(call: Call, session: Session, user: User, home: OrgUnit) -> dict[str, Any]:
    assert user.id is not None
    return user_json(call, user, home, active_grants(session, call, [user.id])[user.id])


def token_json(
    call: Call, token: ApiToken, grant: Grant, unit: OrgUnit, user: User
) -> dict[str, Any]:
    expires_at = aware(token.expires_at)
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
        "grant": grant_json(call, grant, unit),
        "user": {"id": user.id, "username": user.username, "display_name": user.display_name},
        "created_by": token.created_by,
        "created_at": iso(token.created_at),
        "expires_at": iso(expires_at),
        "revoked_at": iso(token.revoked_at),
        "last_used_at": iso(token.last_used_at),
    }


def end_sessions(session: Session, *conditions: Any) -> int:
    ended = session.exec(select(func.count()).select_from(WebSession).where(*conditions)).one()
    session.exec(delete(WebSession).where(*conditions))
    return int(ended)
