"""``shequyun users``: the first platform administrator, and bulk import of staff accounts."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click
from shequyun_sdk import ApiError
from shequyun_sdk.csvfiles import csv_bytes
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..cli_support import acting_actor, migrated_kernel
from . import audit
from .directory import create_user, grant_role
from .grant_rules import USERS_MANAGE
from .models import OrgUnit, User
from .passwords import check_policy
from .user_import import COLUMNS, MAX_IMPORT_BYTES, ImportReport, import_users

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["users"]

PLATFORM_ADMIN = "identity.platform_admin"


@click.group("users")
def users() -> None:
    """Staff accounts: the first platform administrator, bulk import."""


@users.command("create-admin")
@click.option("--username", required=True, help="Login name (lower-case letters, digits, _.-).")
@click.option("--display-name", required=True, help="The person's name, e.g. 张三.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def create_admin(username: str, display_name: str, password_stdin: bool) -> None:
    """Create the first platform administrator, on the city unit.

    The org tree must exist: run `shequyun org import FILE --apply` first (or, for a trial only,
    `shequyun demo --no-serve`, which also makes demo accounts with a published password).
    """
    username = username.strip().lower()
    with migrated_kernel() as kernel:
        with Session(kernel.engine) as session:
            city = _city(session)
            taken = session.exec(
                select(User.id).where(func.lower(User.username) == username)
            ).first()
        if taken is not None:
            raise click.ClickException(f"用户名 {username} 已存在")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
        problem = check_policy(password, username)
        if problem:
            raise click.ClickException(problem)
        try:
            with Session(kernel.engine) as session:
                user = create_user(
                    session,
                    username=username,
                    display_name=display_name,
                    home_unit=city,
                    password=password,
                    must_change_password=False,  # chosen by the admin themselves just now
                )
                grant = grant_role(
                    session, kernel.permissions, user=user, role=PLATFORM_ADMIN, unit=city
                )
                audit.record(
                    session,
                    "user.created",
                    target_type="user",
                    target_id=user.id,
                    unit_id=city.id,
                    detail={"username": username, "via": "cli create-admin", "grant_id": grant.id},
                )
                session.commit()
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"已创建平台管理员 {username}（{display_name}），授权单位：{city.name}")


def _city(session: Session) -> OrgUnit:
    city = session.exec(
        select(OrgUnit)
        .where(
            OrgUnit.level == "city",
            col(OrgUnit.parent_id).is_(None),
            col(OrgUnit.closed_on).is_(None),
        )
        .order_by(col(OrgUnit.id))
    ).first()
    if city is None:
        raise click.ClickException(
            "还没有市级单位。请先用 `shequyun org import 名册文件 --apply` 导入组织架构"
            "（文件格式见 docs/api/org-units.md）。`shequyun demo --no-serve` 只用于试用："
            "它载入演示数据和公开密码的演示账号，切勿在生产数据库上运行"
        )
    return city


@users.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_username", required=True, help="The admin doing the import (scoping).")
@click.option("--grant", "grant_id", type=int, default=None, help="Which of their grants to use.")
@click.option("--apply", is_flag=True, help="Create the users; without it, only check the file.")
@click.option(
    "--passwords",
    "passwords_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the first passwords to this new CSV file instead of the screen.",
)
def import_command(
    file: Path, as_username: str, grant_id: int | None, apply: bool, passwords_file: Path | None
) -> None:
    """Create users from a CSV or XLSX FILE (dry run unless --apply).

    Columns: username, display_name, phone, home_unit_code, role, unit_code (or the Chinese
    headers 用户名, 姓名, 手机, 所属单位编码, 角色, 授权单位编码). Every bad row is listed and
    nothing is written until the whole file is good.
    """
    if file.stat().st_size > MAX_IMPORT_BYTES:
        raise click.ClickException(f"文件不能超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    if passwords_file is not None and passwords_file.exists():
        raise click.ClickException(f"{passwords_file} 已存在，不会覆盖")
    with migrated_kernel() as kernel:
        actor = _acting_admin(kernel, as_username, grant_id)
        try:
            report = import_users(
                kernel.engine,
                kernel.permissions,
                actor,
                file.read_bytes(),
                file.name,
                apply=apply,
            )
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    if not report.valid:
        _print_errors(report)
        sys.exit(1)
    grants = sum(1 for u in report.users if u.role)
    if not report.applied:
        click.echo(
            f"检查了 {report.rows} 行，全部正确：将创建 {len(report.users)} 个用户、"
            f"{grants} 项授权。加上 --apply 执行导入。"
        )
        return
    click.echo(f"已创建 {len(report.users)} 个用户、{grants} 项授权。用户首次登录须修改密码。")
    rows = [(u.username, u.display_name, u.password or "") for u in report.users]
    if passwords_file is not None:
        with _private_file(passwords_file) as out:
            out.write(csv_bytes(rows, header=["用户名", "姓名", "初始密码"]).decode("utf-8-sig"))
        click.echo(f"初始密码已写入 {passwords_file}（仅此一次，请妥善转交后删除）")
    else:
        click.echo("初始密码（仅显示这一次）：")
        for username, name, password in rows:
            click.echo(f"  {username}\t{name}\t{password}")


def _acting_admin(kernel: Kernel, username: str, grant_id: int | None) -> Actor:
    return acting_actor(kernel, username, grant_id, USERS_MANAGE, "管理用户")


def _print_errors(report: ImportReport) -> None:
    click.echo(f"文件中有 {len(report.errors)} 处错误，未写入任何数据：", err=True)
    for error in report.errors:
        title = COLUMNS.get(error.field)
        column = f"{title}（{error.field}）" if title else error.field
        click.echo(f"  第 {error.row} 行 {column}：{error.message}", err=True)


@contextmanager
def _private_file(path: Path) -> Iterator[TextIO]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8-sig", newline="") as out:
        yield out
