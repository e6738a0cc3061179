"""A signed-in user's own account: changing their password, choosing the grant they act under,
and signing out.

Each is one function that checks, writes and audits in the caller's session (the caller
commits); the portal's account pages (:mod:`.pages`) only read the form and show the result.
The audit entries take the client's address from the request being handled.

The current password is a password check like a login's: whoever finds a signed-in browser (a
shared office computer) could otherwise try passwords there without end and then set their
own. :func:`change_password` counts each check against :data:`CURRENT_PASSWORD_LIMIT` before
it is made (:mod:`shequyun.throttles`, one atomic statement whatever the worker).
"""

from __future__ import annotations

from datetime import timedelta

from shequyun_sdk import AttemptLimit, NotFound, TooManyAttempts
from shequyun_sdk.identity import Actor
from sqlmodel import Session, select

from .. import throttles
from ..i18n import Message
from . import audit
from .auth import hash_token
from .models import Grant, OrgUnit, User, WebSession
from .passwords import check_policy, hash_password, verify_password

__all__ = [
    "CURRENT_PASSWORD_LIMIT",
    "change_password",
    "own_grants",
    "record_logout",
    "switch_grant",
]

#: Wrong current passwords one user may type on the password page per window.
CURRENT_PASSWORD_LIMIT = AttemptLimit("password.current", 5, timedelta(minutes=15))


def change_password(
    session: Session, actor: Actor, *, current: str, new: str, repeat: str, keep_cookie: str
) -> dict[str, str]:
    """Change ``actor``'s password from ``current`` to ``new`` (typed twice: ``repeat``).

    Returns the problems by field (``current``, ``new``, ``repeat``), in Chinese, and changes
    nothing when there is one; otherwise sets the password, lifts a forced change, ends every
    other web session of the user (the one whose cookie is ``keep_cookie`` stays) and audits
    ``password.changed``, and returns ``{}``.

    Raises :class:`~shequyun_sdk.TooManyAttempts` (429, naming ``current``) without checking
    the current password once :data:`CURRENT_PASSWORD_LIMIT` wrong ones were tried; call it
    before the session has read or written anything (the count commits on its own).
    """
    engine = session.get_bind()
    key = str(actor.user_id)
    verdict = throttles.hit(engine, CURRENT_PASSWORD_LIMIT, key)  # type: ignore[arg-type]
    if not verdict.allowed:
        minutes = (verdict.retry_after + 59) // 60
        raise TooManyAttempts(
            Message("当前密码错误次数过多，请 {n} 分钟后再试", n=minutes),
            retry_after=verdict.retry_after,
            field="current",
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("找不到该用户")
    if not verify_password(user.password_hash, current):
        return {"current": "当前密码不正确"}
    throttles.forgive(engine, CURRENT_PASSWORD_LIMIT, key)  # type: ignore[arg-type]
    problem = check_policy(new, user.username)
    if problem:
        return {"new": problem}
    if new != repeat:
        return {"repeat": "两次输入的新密码不一致"}
    if verify_password(user.password_hash, new):
        return {"new": "新密码不能与当前密码相同"}
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.version += 1
    session.add(user)
    # A changed password locks out every older login.
    kept = hash_token(keep_cookie)
    for other in session.exec(select(WebSession).where(WebSession.user_id == user.id)):
        if other.token_hash != kept:
            session.delete(other)
    audit.record(session, "password.changed", actor=actor, target_type="user", target_id=user.id)
    return {}


def own_grants(session: Session, actor: Actor) -> list[tuple[Grant, OrgUnit]]:
    """The grants ``actor``'s user holds now, each with its unit, oldest first."""
    return list(
        session.exec(
            select(Grant, OrgUnit)
            .join(OrgUnit, OrgUnit.id == Grant.unit_id)  # type: ignore[arg-type]
            .where(Grant.user_id == actor.user_id, Grant.revoked_at == None)  # noqa: E711
            .order_by(Grant.id)  # type: ignore[arg-type]
        )
    )


def switch_grant(session: Session, actor: Actor, grant_id: int, cookie: str) -> None:
    """Make the web session whose cookie is ``cookie`` act under ``actor``'s grant ``grant_id``
    and audit ``grant.switched``; NotFound (naming ``grant_id``) when the grant is not the
    user's own and current, or the session is gone."""
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != actor.user_id or grant.revoked_at is not None:
        raise NotFound("找不到该授权", field="grant_id")
    web = session.exec(
        select(WebSession).where(WebSession.token_hash == hash_token(cookie))
    ).first()
    if web is None:
        raise NotFound("找不到该授权", field="grant_id")
    web.grant_id = grant.id
    session.add(web)
    audit.record(session, "grant.switched", actor=actor, target_type="grant", target_id=grant.id)


def record_logout(session: Session, actor: Actor) -> None:
    """Audit ``logout`` for ``actor`` (the web session itself is ended by the authenticator)."""
    audit.record(session, "logout", actor=actor)
