"""The rules every admin action on users shares: who may hand out which role where, who may
take over whose account, and what a first password looks like.
"""

from __future__ import annotations

import secrets
import string

from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select

from . import scope
from .auth import unit_ref
from .models import Grant, OrgUnit, User
from .passwords import check_policy
from .permissions import PERSONAL_DATA, PermissionRegistry

USERS_MANAGE = "identity.users.manage"
ADMIN_PERMISSION_PREFIX = "identity."

PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


# -- rules shared with the API ------------------------------------------------------------


def new_first_password() -> str:
    """A random first password that meets the policy and is easy to read aloud (no 0/O, 1/l)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
        if (
            any(c in string.ascii_lowercase for c in password)
            and any(c in string.ascii_uppercase for c in password)
            and any(c.isdigit() for c in password)
            and check_policy(password, "") is None
        ):
            return password


def may_grant(registry: PermissionRegistry, actor: Actor, role: str, unit: OrgUnit) -> bool:
    """Whether ``actor`` may hand out ``role`` on ``unit`` (already known to be in their subtree).

    Administrative permissions (the identity plugin's: users, tokens, org units, plugins, the
    audit log) can only be passed on by someone who holds them. Other permissions are work on
    data, which an admin delegates downwards: they may be granted on units strictly below the
    actor's own unit (a street admin makes committee cadres, who may see what the street admin
    may not), but never on the actor's own unit, where they would extend the actor's own reach.
    """
    missing = registry.permissions_of(role) - actor.permissions
    if not missing:
        return True
    if any(p.startswith(ADMIN_PERMISSION_PREFIX) for p in missing) or actor.unit is None:
        return False
    return unit.path != actor.unit.path and unit.path.startswith(actor.unit.path)


def personal_data_hold(actor: Actor) -> int | None:
    """What :attr:`.models.User.personal_data_hold` becomes when ``actor`` sets a password:
    their user id unless they hold every personal-data permission themselves."""
    if actor.user_id is None or all(actor.has(p) for p in PERSONAL_DATA):
        return None
    return actor.user_id


def token_delegation_refusal(
    registry: PermissionRegistry, actor: Actor, role: str, holder_id: int
) -> str | None:
    """Why ``actor`` may not mint an API token for another user's grant of ``role``, or None.

    A token acts as its grant with no password at all, so an admin who lacks a personal-data
    permission could otherwise read through the token what their own grant never shows. Only
    the grant's holder, or someone holding those permissions too, may mint it.
    """
    if actor.user_id == holder_id:
        return None
    granted = registry.permissions_of(role)
    carried = PERSONAL_DATA if "*" in granted else granted & PERSONAL_DATA
    if all(actor.has(permission) for permission in carried):
        return None
    return "该授权可查看或导出居民的完整个人信息，令牌只能由持有人本人创建"


def escalation_message(registry: PermissionRegistry, role: str, unit: OrgUnit) -> str:
    title = registry.roles[role].title if role in registry.roles else role
    return f"您不能在{unit.name}授予“{title}”：该角色含有您自己没有的权限"


def resolve_role(registry: PermissionRegistry, text: str) -> str | None:
    """The role named ``text`` by its name (``identity.cadre``) or title (``居村干部``)."""
    text = text.strip()
    if text in registry.roles:
        return text
    by_title = [name for name, role in registry.roles.items() if role.title == text]
    return by_title[0] if len(by_title) == 1 else None


def user_management_refusal(
    session: Session, registry: PermissionRegistry, actor: Actor, user: User
) -> str | None:
    """Why ``actor`` may not take over ``user``'s account (reset, edit, disable), or None.

    Resetting the password of someone holding a grant beyond the actor's reach would hand the
    actor that grant, so every active grant of the user must be one the actor could give
    (:func:`may_grant`).
    """
    rows = session.exec(
        select(Grant, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
        .where(Grant.user_id == user.id, col(Grant.revoked_at).is_(None))
    ).all()
    for grant, unit in rows:
        if not scope.can(actor, USERS_MANAGE, unit_ref(unit)) or not may_grant(
            registry, actor, grant.role, unit
        ):
            return "该用户持有超出您管理范围或权限的授权，请联系上级管理员处理"
    return None
