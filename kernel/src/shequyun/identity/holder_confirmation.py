"""Confirming the holder of an account whose password an administrator set (four eyes).

A street administrator makes the cadres of their committees, who may see full ID numbers and
phones that the administrator may not. A first password the administrator hands over must not
be their own way to that data: signing in with it and choosing "the holder's" password looks
exactly like the holder doing it (issue 14 point 7). So while an account's password was last
set by an administrator without the personal-data permissions
(:attr:`~.models.User.personal_data_hold`), the account acts without ``residents.reveal`` and
``residents.export`` (:meth:`.auth.Authenticator.actor_for`), until a *second person* confirms
the holder: someone other than that administrator and the account itself, who holds those
permissions over every unit where the account's grants carry them — a colleague cadre of the
same committee, or a platform administrator. They know the new colleague in person; the
administrator alone can no longer open personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from shequyun_sdk import NotFound, ValidationFailed
from sqlmodel import Session, col, select

from . import scope
from .access import Call
from .auth import unit_ref
from .models import Grant, OrgUnit, User
from .permissions import PERSONAL_DATA, PermissionRegistry

__all__ = ["Awaiting", "awaiting", "confirm_holder", "held", "refusal"]


@dataclass(frozen=True)
class Awaiting:
    """An account that waits for its holder to be confirmed, and where it works."""

    user: User
    units: tuple[OrgUnit, ...]
    set_by: str


def _held_grants(
    session: Session, registry: PermissionRegistry, user_id: int
) -> list[tuple[frozenset[str], OrgUnit]]:
    """The personal-data permissions each active grant of the user carries, and its unit."""
    rows = session.exec(
        select(Grant, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
        .where(Grant.user_id == user_id, col(Grant.revoked_at).is_(None))
    ).all()
    found = []
    for grant, unit in rows:
        granted = registry.permissions_of(grant.role)
        carried = PERSONAL_DATA if "*" in granted else granted & PERSONAL_DATA
        if carried:
            found.append((frozenset(carried), unit))
    return found


def _within_reach(session: Session, call: Call, user_id: int) -> bool:
    """Whether one of the user's active grants lies where the actor sees personal data."""
    units = session.exec(
        select(OrgUnit)
        .join(Grant, col(Grant.unit_id) == OrgUnit.id)
        .where(Grant.user_id == user_id, col(Grant.revoked_at).is_(None))
    ).all()
    return any(scope.can(call.actor, p, unit_ref(u)) for u in units for p in PERSONAL_DATA)


def refusal(session: Session, call: Call, user: User) -> str | None:
    """Why ``call``'s actor may not confirm ``user``'s holder now, or None."""
    if user.personal_data_hold is None:
        return "该用户无需确认"
    if not user.is_active:
        return "该用户已停用"
    if user.id == call.actor.user_id:
        return "不能确认自己的账户，请由同事确认"
    if user.personal_data_hold == call.actor.user_id:
        return "您设置了该用户的密码，须由另一位可查看完整个人信息的人员确认"
    if user.must_change_password:
        return "该用户尚未修改初始密码：请在本人修改密码后再确认"
    assert user.id is not None
    held = _held_grants(session, call.registry, user.id)
    if not held:
        return "该用户没有可查看完整个人信息的授权，无需确认"
    for carried, unit in held:
        if not all(scope.can(call.actor, p, unit_ref(unit)) for p in carried):
            return "只有在该用户授权单位可查看完整个人信息的人员才能确认"
    return None


def awaiting(session: Session, call: Call) -> list[Awaiting]:
    """The accounts the actor may confirm now, oldest first."""
    if not any(call.actor.has(p) for p in PERSONAL_DATA):
        return []
    users = session.exec(
        select(User)
        .where(
            col(User.personal_data_hold).is_not(None),
            col(User.must_change_password).is_(False),
            col(User.is_active).is_(True),
        )
        .order_by(col(User.id))
        .limit(500)
    ).all()
    found = []
    for user in users:
        if refusal(session, call, user) is not None:
            continue
        assert user.id is not None and user.personal_data_hold is not None
        setter = session.get(User, user.personal_data_hold)
        units = tuple(unit for _, unit in _held_grants(session, call.registry, user.id))
        found.append(Awaiting(user, units, setter.username if setter else "?"))
    return found


def held(session: Session, call: Call) -> bool:
    """Whether the actor's own account waits for a second person (and it matters: one of its
    grants carries personal-data permissions)."""
    user_id = call.actor.user_id
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or user.personal_data_hold is None:
        return False
    assert user.id is not None
    return bool(_held_grants(session, call.registry, user.id))


def confirm_holder(session: Session, call: Call, user_id: int) -> User:
    """Confirm that the account's holder is who it is for and chose its password: its grants
    carry their personal-data permissions again. Audited ``user.holder_confirmed``.

    Raises NotFound for an account the actor could not confirm in any case (outside their
    reach), ValidationFailed naming why otherwise.
    """
    user = session.get(User, user_id) if 0 < user_id <= 2**31 - 1 else None
    if user is None or not _within_reach(session, call, user_id):
        raise NotFound("找不到该用户")
    reason = refusal(session, call, user)
    if reason is not None:
        raise ValidationFailed(reason, field="user_id")
    set_by = user.personal_data_hold
    user.personal_data_hold = None
    user.version += 1
    session.add(user)
    call.audit(
        session,
        "user.holder_confirmed",
        "user",
        user.id,
        username=user.username,
        password_set_by=set_by,
    )
    return user
