"""Helpers shared by the CLI commands that act on someone's behalf (imports)."""

from __future__ import annotations

from typing import Any

import click
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select

from .identity.models import Grant, OrgUnit, User

__all__ = ["acting_actor"]


def acting_actor(
    kernel: Any, username: str, grant_id: int | None, permission: str, doing: str
) -> Actor:
    """``username`` acting under their one grant holding ``permission`` (or ``grant_id``).

    ``doing`` completes the Chinese messages: "没有可以{doing}的授权".
    """
    with Session(kernel.engine) as session:
        user = session.exec(
            select(User).where(func.lower(User.username) == username.strip().lower())
        ).first()
        if user is None or not user.is_active:
            raise click.ClickException(f"找不到启用中的用户 {username}")
        rows = session.exec(
            select(Grant, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
            .where(Grant.user_id == user.id, col(Grant.revoked_at).is_(None))
            .order_by(col(Grant.id))
        ).all()
    usable = [(g, u) for g, u in rows if permission in kernel.permissions.permissions_of(g.role)]
    if grant_id is not None:
        usable = [(g, u) for g, u in usable if g.id == grant_id]
    if not usable:
        raise click.ClickException(f"{username} 没有可以{doing}的授权")
    if len(usable) > 1:
        choices = "；".join(f"{g.id}：{u.name} {g.role}" for g, u in usable)
        raise click.ClickException(
            f"{username} 有多项可以{doing}的授权，请用 --grant 指定：{choices}"
        )
    grant, unit = usable[0]
    actor: Actor = kernel.authenticator.actor_for(user, grant, unit, "cli")
    return actor
