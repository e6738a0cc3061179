"""What the identity services share: the call, the loaders that respect scope, the JSON shapes.

Every list is restricted with :mod:`.scope` filters and every single object is checked with
:func:`.scope.can`; an object outside the admin's subtree answers 404, as if it did not exist,
and the attempt is audited. A role may only be handed out (or a token made for it) by an admin
whose own role holds every permission of that role. Nothing here knows about HTTP: the API
handlers and the admin pages both build a :class:`Call` and pass it in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import Forbidden, NotFound
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from . import audit, revocations, scope
from .auth import unit_ref
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


@dataclass(frozen=True)
class Call:
    """Who is calling, and what the identity services need to act for them.

    The portal and the API make one with :func:`~.api_support.call_of`; a command-line tool
    or a test can make one directly.
    """

    engine: Engine
    registry: PermissionRegistry
    actor: Actor
    ip: str | None

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


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        "awaiting_confirmation": user.personal_data_hold is not None,
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


def end_sessions(session: Session, user_id: int | None, *conditions: Any) -> int:
    """End the web sessions of user ``user_id`` that meet ``conditions``; how many there were."""
    ended = session.exec(select(func.count()).select_from(WebSession).where(*conditions)).one()
    session.exec(
        delete(WebSession)
        .where(*conditions)
        .execution_options(**revocations.touching(revocations.user(user_id)))
    )
    return int(ended)
