"""Finding users and API tokens an admin manages: one query each for the API and the pages.

Both are restricted to the actor's subtree by :mod:`.scope` filters, newest first, a page at a
time (``before``: the id the previous page ended at); a page is ``limit`` rows and whether
there are more.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from . import scope
from .access import TOKENS_MANAGE, USERS_VIEW, Call, load_unit
from .models import ApiToken, Grant, OrgUnit, User

__all__ = ["display_names", "find_tokens", "find_users"]

#: Ids one ``display_names`` call may ask for (``Platform.user_names``).
MAX_NAMES = 1000


def find_users(
    session: Session,
    call: Call,
    *,
    within: str = "",
    q: str = "",
    active: bool | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[tuple[User, OrgUnit]], bool]:
    """Users whose home unit lies in the actor's subtree (and in ``within``'s, a unit code),
    whose username or name contains ``q``; only active or inactive ones if ``active`` says."""
    query = (
        select(User, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == User.home_unit_id)
        .where(scope.unit_scope_filter(call.actor, USERS_VIEW))
        .order_by(col(User.id).desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(col(User.id) < before)
    if within:
        unit = load_unit(call, session, within, USERS_VIEW, "within")
        query = query.where(col(OrgUnit.path).startswith(unit.path))
    if q:
        query = query.where(
            or_(
                func.lower(User.username).contains(q.lower(), autoescape=True),
                col(User.display_name).contains(q, autoescape=True),
            )
        )
    if active is not None:
        query = query.where(User.is_active == active)
    rows = list(session.exec(query).all())
    return rows[:limit], len(rows) > limit


def find_tokens(
    session: Session,
    call: Call,
    *,
    user_id: int | None = None,
    grant_id: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[tuple[ApiToken, Grant, OrgUnit, User]], bool]:
    """API tokens of the grants the actor manages (never their secrets)."""
    query = (
        select(ApiToken, Grant, OrgUnit, User)
        .join(Grant, col(Grant.id) == ApiToken.grant_id)
        .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
        .join(User, col(User.id) == Grant.user_id)
        .where(
            scope.unit_scope_filter(call.actor, TOKENS_MANAGE),
            scope.scope_filter(call.actor, TOKENS_MANAGE, User.home_unit_id),
        )
        .order_by(col(ApiToken.id).desc())
        .limit(limit + 1)
    )
    if user_id:
        query = query.where(Grant.user_id == user_id)
    if grant_id:
        query = query.where(ApiToken.grant_id == grant_id)
    if before is not None:
        query = query.where(col(ApiToken.id) < before)
    rows = list(session.exec(query).all())
    return rows[:limit], len(rows) > limit


def display_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """``{id: display_name}`` of the users among ``user_ids`` (``Platform.user_names``): the
    name only, deactivated users included; at most :data:`MAX_NAMES` ids."""
    wanted = {int(i) for i in user_ids if isinstance(i, int) and 0 < i < 2**31}
    if len(wanted) > MAX_NAMES:
        raise ValueError(f"user_names takes at most {MAX_NAMES} ids a call, not {len(wanted)}")
    if not wanted:
        return {}
    rows = session.exec(
        select(User.id, User.display_name).where(col(User.id).in_(sorted(wanted)))
    ).all()
    return {int(user_id): name for user_id, name in rows if user_id is not None}
