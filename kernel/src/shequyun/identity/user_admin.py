"""The admin's writes on users, grants and API tokens: one function per change.

Each function checks scope (a user, unit or grant outside the actor's subtree is "not found",
and the reach is audited), the escalation rules of :mod:`.grant_rules`, validates, writes and
adds its audit entry to the session. The caller commits: the API handlers of
:mod:`.api_users`, :mod:`.api_grants` and :mod:`.api_tokens` and the admin pages of
:mod:`.pages_users` and :mod:`.pages_tokens` only turn JSON or form fields into these calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shequyun_sdk import Conflict, Forbidden, NotFound, ValidationFailed
from sqlmodel import Session, col, update

from . import directory, revocations, user_import
from .access import (
    MAX_TOKEN_DAYS,
    PHONE_RE,
    TOKENS_MANAGE,
    USERS_MANAGE,
    Call,
    GrantRow,
    end_sessions,
    iso,
    load_grant,
    load_unit,
    load_user,
    may_take_over,
    refuse_escalation,
    refuse_token_delegation,
    utcnow,
)
from .grant_rules import new_first_password, personal_data_hold
from .models import ApiToken, Grant, OrgUnit, User, WebSession
from .passwords import check_policy, hash_password

__all__ = [
    "RevokedGrant",
    "StaleUser",
    "create_user",
    "give_grant",
    "import_users",
    "issue_token",
    "reset_password",
    "revoke_grant",
    "revoke_token",
    "unlock_user",
    "update_user",
]


def create_user(
    session: Session,
    call: Call,
    *,
    username: str,
    display_name: str,
    home_unit_code: str,
    password: str,
    phone: str | None = None,
    role: str | None = None,
    unit_code: str | None = None,
) -> tuple[User, OrgUnit]:
    """A user at a unit of the actor's subtree, with a first password to change at the first
    login and, when ``role`` is given, a first grant on ``unit_code`` (default: the home unit).

    Audited ``user.created`` (and ``grant.created``).
    """
    if unit_code and not role:
        raise ValidationFailed("填写了授权单位，但没有填写角色", field="role")
    if role is not None and role not in call.registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    home = load_unit(call, session, home_unit_code, USERS_MANAGE, "home_unit_code")
    grant_unit = home
    if unit_code:
        grant_unit = load_unit(call, session, unit_code, USERS_MANAGE, "unit_code")
    user = directory.create_user(
        session,
        username=username,
        display_name=display_name,
        home_unit=home,
        password=password,
        phone=phone,
        must_change_password=True,
        personal_data_hold=personal_data_hold(call.actor),
    )
    call.audit(session, "user.created", "user", user.id, username=user.username)
    if role is not None:
        _give(session, call, user, role, grant_unit)
    return user, home


@dataclass
class StaleUser(Exception):
    """The user was changed by someone else since ``version``: ``user`` is the current one."""

    user: User
    home: OrgUnit


def update_user(
    session: Session, call: Call, user_id: int, *, version: int, changes: dict[str, Any]
) -> tuple[User, OrgUnit]:
    """Change ``display_name``, ``phone`` or ``is_active`` if ``version`` is the current one.

    Raises :class:`StaleUser` (with the current user) for a stale version. Deactivating a user
    ends their sessions. Audited ``user.updated`` (the phone only as "changed").
    """
    if not changes:
        raise ValidationFailed("没有要修改的字段")
    cleaned: dict[str, Any] = {}
    if "display_name" in changes:
        name = str(changes["display_name"] or "").strip()
        if not name or len(name) > 80:
            raise ValidationFailed("姓名不能为空且不超过 80 个字", field="display_name")
        cleaned["display_name"] = name
    if "phone" in changes:
        phone = str(changes["phone"] or "").strip()
        if phone and not PHONE_RE.fullmatch(phone):
            raise ValidationFailed("电话号码格式不正确", field="phone")
        cleaned["phone"] = phone or None
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            raise ValidationFailed("is_active 应为 true 或 false", field="is_active")
        if changes["is_active"] is False and user_id == call.actor.user_id:
            raise ValidationFailed("不能停用自己的账户", field="is_active")
        cleaned["is_active"] = changes["is_active"]
    user, home = load_user(call, session, user_id, USERS_MANAGE)
    may_take_over(call, session, user)
    before = {k: getattr(user, k) for k in cleaned}
    updated = session.exec(
        update(User)
        .where(col(User.id) == user_id, col(User.version) == version)
        .values(**cleaned, version=version + 1)
        .execution_options(**revocations.touching(revocations.user(user_id)))
    )
    if updated.rowcount != 1:
        session.rollback()
        raise StaleUser(user, home)
    sessions_ended = 0
    if cleaned.get("is_active") is False:
        sessions_ended = end_sessions(session, user_id, col(WebSession.user_id) == user_id)
    detail = {
        k: "changed" if k == "phone" else {"from": before[k], "to": v}
        for k, v in cleaned.items()
        if before[k] != v
    }
    call.audit(
        session, "user.updated", "user", user_id, changes=detail, sessions_ended=sessions_ended
    )
    return user, home


def unlock_user(session: Session, call: Call, user_id: int) -> tuple[User, OrgUnit]:
    """Lift a lockout after failed logins (and the growing delay before the next attempt)."""
    user, home = load_user(call, session, user_id, USERS_MANAGE)
    may_take_over(call, session, user)
    was_locked = user.locked_until is not None
    user.locked_until = None
    user.next_login_at = None
    user.failed_logins = 0
    session.add(user)
    call.audit(session, "user.unlocked", "user", user.id, was_locked=was_locked)
    return user, home


def reset_password(
    session: Session, call: Call, user_id: int, password: str | None = None
) -> tuple[User, OrgUnit, str]:
    """A new first password (``password``, or a generated one), to be changed at the next login.

    The user's sessions end and a lockout is lifted. One's own password is changed on the
    password page, with the old one. Returns the user and the password, shown once.
    """
    user, home = load_user(call, session, user_id, USERS_MANAGE)
    may_take_over(call, session, user)
    if user_id == call.actor.user_id:
        raise ValidationFailed("请在“修改密码”页面修改自己的密码")
    chosen = password if password is not None else new_first_password()
    problem = check_policy(chosen, user.username)
    if problem:
        raise ValidationFailed(problem, field="password")
    user.password_hash = hash_password(chosen)
    user.must_change_password = True
    user.personal_data_hold = personal_data_hold(call.actor)
    user.locked_until = None
    user.next_login_at = None
    user.failed_logins = 0
    user.version += 1
    session.add(user)
    ended = end_sessions(session, user_id, col(WebSession.user_id) == user_id)
    call.audit(
        session,
        "user.password_reset",
        "user",
        user.id,
        generated=password is None,
        sessions_ended=ended,
    )
    return user, home, chosen


def import_users(
    call: Call, data: bytes, filename: str, *, apply: bool
) -> user_import.ImportReport:
    """Check (and with ``apply``, create all or nothing) the users of a CSV or XLSX file, in the
    actor's subtree; see :func:`.user_import.import_users`."""
    return user_import.import_users(
        call.engine, call.registry, call.actor, data, filename, apply=apply, client_ip=call.ip
    )


# -- grants ---------------------------------------------------------------------------------


def give_grant(
    session: Session, call: Call, user_id: int, role: str, unit_code: str
) -> tuple[Grant, OrgUnit]:
    """Give the user ``role`` on ``unit_code``; both must lie in the actor's subtree, the role
    must be allowed at the unit's level and carry no permission the actor lacks. Nobody gives
    themselves a grant. Audited ``grant.created``."""
    if role not in call.registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    if user_id == call.actor.user_id:
        raise Forbidden("不能给自己授权，请由其他管理员办理", field="user_id")
    user, _ = load_user(call, session, user_id, USERS_MANAGE, "user_id")
    unit = load_unit(call, session, unit_code, USERS_MANAGE, "unit_code")
    return _give(session, call, user, role, unit), unit


def _give(session: Session, call: Call, user: User, role: str, unit: OrgUnit) -> Grant:
    grant = directory.grant_role(
        session, call.registry, user=user, role=role, unit=unit, granted_by=call.actor.user_id
    )
    refuse_escalation(call, role, unit)
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
    return grant


@dataclass
class RevokedGrant:
    found: GrantRow
    sessions_ended: int
    tokens_revoked: int


def revoke_grant(
    session: Session, call: Call, grant_id: int, *, of_user: int | None = None
) -> RevokedGrant:
    """Revoke a grant (of user ``of_user``, when given): the sessions acting under it end and
    its tokens are revoked. One's own current grant stays. Audited ``grant.revoked``."""
    found = load_grant(call, session, grant_id, USERS_MANAGE)
    grant = found.grant
    if of_user is not None and grant.user_id != of_user:
        raise NotFound("找不到该授权")
    refuse_escalation(call, grant.role, found.unit)
    if grant.revoked_at is not None:
        raise Conflict("该授权已经撤销")
    if grant.id == call.actor.grant_id:
        raise Conflict("不能撤销您当前正在使用的授权")
    now = utcnow()
    grant.revoked_at = now
    session.add(grant)
    sessions = end_sessions(session, grant.user_id, col(WebSession.grant_id) == grant_id)
    tokens = session.exec(
        update(ApiToken)
        .where(col(ApiToken.grant_id) == grant_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(**revocations.touching(revocations.user(grant.user_id)))
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
    return RevokedGrant(found, sessions, tokens)


# -- tokens ---------------------------------------------------------------------------------


def issue_token(
    session: Session, call: Call, grant_id: int, name: str, expires_in_days: int
) -> tuple[ApiToken, GrantRow, str]:
    """An API token acting under a grant the actor manages, for 1-366 days; its secret is
    returned here and nowhere else (only its hash is stored). Audited ``token.created``."""
    if not name.strip():
        raise ValidationFailed("请填写令牌名称", field="name")
    if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(f"有效期应为 1 到 {MAX_TOKEN_DAYS} 天", field="expires_in_days")
    found = load_grant(call, session, grant_id, TOKENS_MANAGE, "grant_id")
    refuse_escalation(call, found.grant.role, found.unit, "grant_id")
    refuse_token_delegation(call, found.grant)
    if not found.user.is_active:
        raise ValidationFailed("该用户已停用，不能为其签发令牌", field="grant_id")
    token, secret = directory.create_token(
        session,
        grant=found.grant,
        name=name,
        expires_at=utcnow() + timedelta(days=expires_in_days),
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
        expires_at=iso(token.expires_at),
    )
    return token, found, secret


def revoke_token(session: Session, call: Call, token_id: int) -> tuple[ApiToken, GrantRow]:
    """Revoke an API token of a grant the actor manages; it stops working at once."""
    token = session.get(ApiToken, token_id) if token_id <= 2**31 - 1 else None
    if token is None:
        raise NotFound("找不到该令牌")
    try:
        found = load_grant(call, session, token.grant_id, TOKENS_MANAGE)
    except NotFound:
        raise NotFound("找不到该令牌") from None
    refuse_escalation(call, found.grant.role, found.unit)
    if token.revoked_at is not None:
        raise Conflict("该令牌已经撤销")
    token.revoked_at = utcnow()
    session.add(token)
    call.audit(session, "token.revoked", "token", token_id, grant_id=token.grant_id)
    return token, found
