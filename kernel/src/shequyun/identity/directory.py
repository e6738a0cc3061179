"""Creating org units, users, grants and API tokens: the rules every entry point shares.

The API, the CLI, the bulk imports, the demo and the test harness all go through these
functions, so a rule (a unit's level must sit below its parent's, a role must be grantable at
the unit's level) is enforced in one place. Functions add to the caller's session and raise
:class:`~shequyun_sdk.ValidationFailed` naming the field; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from shequyun_sdk import Conflict, ValidationFailed
from sqlalchemy import func
from sqlmodel import Session, col, select

from .auth import TOKEN_PREFIX, hash_token, new_token
from .models import LEVELS, ApiToken, Grant, OrgUnit, OrgUnitChange, User
from .passwords import check_policy, hash_password
from .permissions import PermissionRegistry

__all__ = [
    "CODE_RE",
    "USERNAME_RE",
    "create_token",
    "create_unit",
    "create_user",
    "display_names",
    "grant_role",
    "unit_by_code",
]

CODE_RE = re.compile(r"[0-9]{12}")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")


def unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def create_unit(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent: OrgUnit | None,
    opened_on: date | None = None,
    actor_user_id: int | None = None,
) -> OrgUnit:
    """Add a unit below ``parent`` (None only for the city) and record its creation."""
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise ValidationFailed("组织编码应为 12 位数字", field="code")
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed("名称不能为空且不超过 80 个字", field="name")
    if level not in LEVELS:
        raise ValidationFailed(f"层级应为 {'、'.join(LEVELS)} 之一", field="level")
    if parent is None:
        if level != "city":
            raise ValidationFailed("只有市级单位可以没有上级", field="parent")
    else:
        if LEVELS.index(level) != LEVELS.index(parent.level) + 1:
            raise ValidationFailed(
                f"{parent.name}（{parent.level}）下不能直接设立 {level} 级单位", field="level"
            )
        if parent.closed_on is not None:
            raise ValidationFailed(f"上级单位 {parent.name} 已撤销", field="parent")
    if unit_by_code(session, code) is not None:
        raise Conflict(f"组织编码 {code} 已被使用", field="code")
    unit = OrgUnit(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path="",
        opened_on=opened_on,
    )
    session.add(unit)
    session.flush()
    assert unit.id is not None
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.add(unit)
    session.add(
        OrgUnitChange(
            unit_id=unit.id,
            action="created",
            actor_user_id=actor_user_id,
            effective_on=opened_on,
            detail={"code": code, "name": name, "level": level},
        )
    )
    return unit


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    home_unit: OrgUnit,
    password: str | None = None,
    phone: str | None = None,
    must_change_password: bool = True,
    personal_data_hold: int | None = None,
) -> User:
    """Add a staff account; without a password it cannot log in until one is set.

    ``personal_data_hold``: the administrator who chose the password, when they hold no
    personal-data permission (see :attr:`User.personal_data_hold`)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "用户名应为 3-64 位小写字母、数字或 _ . -，以字母开头", field="username"
        )
    display_name = display_name.strip()
    if not display_name or len(display_name) > 80:
        raise ValidationFailed("姓名不能为空且不超过 80 个字", field="display_name")
    if phone is not None and phone != "" and not re.fullmatch(r"1\d{10}|0\d{2,3}-?\d{7,8}", phone):
        raise ValidationFailed("电话号码格式不正确", field="phone")
    existing = session.exec(select(User.id).where(func.lower(User.username) == username)).first()
    if existing is not None:
        raise Conflict(f"用户名 {username} 已存在", field="username")
    password_hash = None
    if password is not None:
        problem = check_policy(password, username)
        if problem:
            raise ValidationFailed(problem, field="password")
        password_hash = hash_password(password)
    assert home_unit.id is not None
    user = User(
        username=username,
        display_name=display_name,
        phone=phone or None,
        home_unit_id=home_unit.id,
        password_hash=password_hash,
        must_change_password=must_change_password,
        personal_data_hold=personal_data_hold,
    )
    session.add(user)
    session.flush()
    return user


def grant_role(
    session: Session,
    registry: PermissionRegistry,
    *,
    user: User,
    role: str,
    unit: OrgUnit,
    granted_by: int | None = None,
) -> Grant:
    """Give ``user`` the ``role`` on ``unit`` (and so on its subtree)."""
    if role not in registry.roles:
        raise ValidationFailed(f"未知角色 {role}", field="role")
    if not registry.role_allowed_at(role, unit.level):
        title = registry.roles[role].title
        raise ValidationFailed(f"角色“{title}”不能授予在 {unit.name} 这一层级", field="unit")
    if unit.closed_on is not None:
        raise ValidationFailed(f"{unit.name} 已撤销，不能授权", field="unit")
    assert user.id is not None and unit.id is not None
    duplicate = session.exec(
        select(Grant.id).where(
            Grant.user_id == user.id,
            Grant.role == role,
            Grant.unit_id == unit.id,
            Grant.revoked_at == None,  # noqa: E711
        )
    ).first()
    if duplicate is not None:
        raise Conflict("该用户已在此单位拥有此角色", field="role")
    grant = Grant(user_id=user.id, role=role, unit_id=unit.id, granted_by=granted_by)
    session.add(grant)
    session.flush()
    return grant


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """The display name of each of ``usernames`` that is a user's login (one query)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.exec(
        select(User.username, User.display_name).where(col(User.username).in_(wanted))
    )
    return dict(rows.all())


def create_token(
    session: Session,
    *,
    grant: Grant,
    name: str,
    expires_at: datetime | None,
    created_by: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``grant``; return it and the secret, which is never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed("令牌名称不能为空且不超过 80 个字", field="name")
    if grant.revoked_at is not None:
        raise ValidationFailed("该授权已撤销", field="grant_id")
    assert grant.id is not None
    secret = TOKEN_PREFIX + new_token()
    token = ApiToken(
        grant_id=grant.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def as_dict(unit: OrgUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "opened_on": unit.opened_on.isoformat() if unit.opened_on else None,
        "closed_on": unit.closed_on.isoformat() if unit.closed_on else None,
        "version": unit.version,
    }
