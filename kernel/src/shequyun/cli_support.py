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

__all__ = [
    "acting_actor",
    "database_named",
    "kernel_for",
    "migrated_kernel",
    "pending_line",
    "refuse_pending",
    "unreachable_message",
]


@contextmanager
def migrated_kernel(*, start: bool = False) -> Iterator[Kernel]:
    """A kernel on the configured database, refusing (with the pending revisions) when it is
    not migrated; ``start`` also starts it, so plugins' event subscribers and jobs are there.
    Closed when the block ends."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("WARNING")
    kernel = kernel_for(settings)
    try:
        with database_named(settings):
            pending = kernel.migrations.pending(kernel.engine)
        if pending:
            raise click.ClickException(
                "数据库尚未迁移到最新版本，请先运行 `shequyun db upgrade`"
                f"（待执行：{pending_line(pending)}）"
            )
        if start:
            kernel.start(check_migrations=False)
        yield kernel
    finally:
        kernel.close()


def kernel_for(settings: Settings) -> Kernel:
    """A kernel on ``settings``' database, connecting to nothing yet; a URL SQLAlchemy cannot
    use is refused in one line that names the setting and says what to write instead."""
    from sqlalchemy.exc import ArgumentError

    from .db import engine_for
    from .kernel import Kernel

    try:
        engine = engine_for(settings)
    except (ArgumentError, ImportError, OSError) as exc:  # postgres://, no driver, no directory
        raise click.ClickException(
            f"database_url (SHEQUYUN_DATABASE_URL) {settings.redacted_database_url()} "
            f"cannot be used: {exc}; {_unusable_hint(settings, exc)}"
        ) from None
    return Kernel(settings, engine=engine)


def _unusable_hint(settings: Settings, exc: Exception) -> str:
    from sqlalchemy.engine import make_url

    scheme = make_url(settings.effective_database_url).drivername
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return "write postgresql+psycopg://user:password@host:5432/database"
    if isinstance(exc, ImportError) and scheme == "postgresql+psycopg":
        return "install the driver into this environment: pip install 'psycopg[binary]'"
    if isinstance(exc, ImportError):
        return "use postgresql+psycopg://user:password@host:5432/database or sqlite:///path"
    if isinstance(exc, OSError):
        return "create the file's directory, writable by the service user"
    return "see database_url in the operations guide"


def refuse_pending(pending: list[str]) -> click.ClickException:
    """The one-line refusal of ``serve``, ``worker`` and ``bridge`` on an unmigrated database."""
    return click.ClickException(
        "the database needs migrations, run `shequyun db upgrade` "
        f"(pending: {pending_line(pending)})"
    )


def pending_line(pending: list[str]) -> str:
    """``pending`` revisions (``branch:revision (message)``) on one line, branch by branch:
    ``kernel:k0026_x, k0027_y`` for a few, ``kernel:k0001_events … k0027_y (27)`` for many
    (``shequyun db status`` lists each with its description)."""
    branches: dict[str, list[str]] = {}
    for entry in pending:
        branch, _, revision = entry.split(" (", 1)[0].rpartition(":")
        branches.setdefault(branch, []).append(revision)
    parts = []
    for branch, revisions in branches.items():
        if len(revisions) <= 2:
            parts.append(f"{branch}:{', '.join(revisions)}")
        else:
            parts.append(f"{branch}:{revisions[0]} … {revisions[-1]} ({len(revisions)})")
    return "; ".join(parts)


@contextmanager
def database_named(settings: Settings) -> Iterator[None]:
    """Turn a database that does not answer into an error naming the setting (password
    masked) and what to check, instead of a traceback."""
    try:
        yield
    except OperationalError as exc:
        raise click.ClickException(unreachable_message(settings, exc)) from None


def unreachable_message(settings: Settings, exc: OperationalError) -> str:
    """``database_url (SHEQUYUN_DATABASE_URL): cannot connect to <url>: <error>; <what to do>``,
    the password masked."""
    from .outages import describe

    return (
        f"database_url (SHEQUYUN_DATABASE_URL): cannot connect to "
        f"{settings.redacted_database_url()}: {describe(exc)}; " + _unreachable_hint(settings, exc)
    )


def _unreachable_hint(settings: Settings, exc: OperationalError) -> str:
    from sqlalchemy.engine import make_url

    said = str(exc.orig or exc).lower()
    if "does not exist" in said and "database" in said:
        url = make_url(settings.effective_database_url)
        create = f"createdb --owner={url.username or 'shequyun'} {url.database}"
        return f"create it ({create}, as postgres) or correct the name in the URL"
    if "role" in said and "does not exist" in said:
        return "create the role or correct the user in the URL"
    if "password" in said or "authentication" in said:
        return "check the user and password in the URL (and PgBouncer's userlist.txt)"
    if "unable to open database file" in said:
        return "create the file's directory, writable by the service user"
    return "check that the database server runs and that the URL's host and port reach it"


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
