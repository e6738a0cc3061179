"""Helpers shared by the feature CLIs: a kernel on the migrated database, acting as a user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from .identity.models import Grant, OrgUnit, User
from .request_context import configure_logging
from .settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["acting_actor", "database_named", "migrated_kernel"]


@contextmanager
def migrated_kernel(*, start: bool = False) -> Iterator[Kernel]:
    """A kernel on the configured database, refusing (with the pending revisions) when it is
    not migrated; ``start`` also starts it, so plugins' event subscribers and jobs are there.
    Closed when the block ends."""
    from .kernel import Kernel

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("WARNING")
    kernel = Kernel(settings)
    try:
        with database_named(settings):
            pending = kernel.migrations.pending(kernel.engine)
        if pending:
            raise click.ClickException(
                "数据库尚未迁移到最新版本，请先运行 `shequyun db upgrade`。待执行：\n  "
                + "\n  ".join(pending)
            )
        if start:
            kernel.start(check_migrations=False)
        yield kernel
    finally:
        kernel.close()


@contextmanager
def database_named(settings: Settings) -> Iterator[None]:
    """Turn a database that does not answer into an error naming the setting (password
    masked) instead of a traceback."""
    from .outages import describe

    try:
        yield
    except OperationalError as exc:
        raise click.ClickException(
            f"database_url (SHEQUYUN_DATABASE_URL): cannot connect to "
            f"{settings.redacted_database_url()}: {describe(exc)}"
        ) from None


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
