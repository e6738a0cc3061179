"""``shequyun residents``: bulk import of residents from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from shequyun_sdk import ApiError
from shequyun_sdk.identity import Actor

from ..cli_support import acting_actor, migrated_kernel
from .importing import (
    IMPORT,
    MAX_IMPORT_BYTES,
    ImportReport,
    ImportTable,
    apply_import,
    plan_import,
)

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["residents"]


@click.group("residents")
def residents() -> None:
    """The resident information base: bulk import, checks."""


@residents.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_username", required=True, help="Whose grant scopes the import.")
@click.option("--grant", "grant_id", type=int, default=None, help="Which of their grants to use.")
@click.option("--apply", is_flag=True, help="Import; without it, only check the file.")
def import_command(file: Path, as_username: str, grant_id: int | None, apply: bool) -> None:
    """Import residents from a CSV or XLSX FILE (a dry run unless --apply).

    Chinese headers (姓名, 身份证号, 户籍类型, 所属居委编码, 联系电话, 小区, 楼栋, 单元, 室,
    户号, 标签, ...) or field names. Every bad row is listed and nothing is written until the
    whole file is good; then the file is imported in one transaction.
    """
    if file.stat().st_size > MAX_IMPORT_BYTES:
        raise click.ClickException(f"文件不能超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    data = file.read_bytes()
    with migrated_kernel(start=True) as kernel:
        actor = _acting_user(kernel, as_username, grant_id)
        try:
            total = ImportTable(data, file.name).count()
            with click.progressbar(length=total, label="检查", file=sys.stderr) as bar:
                report = plan_import(kernel, actor, data, file.name, progress=bar.update)
            if report.error_count:
                _print_errors(report)
                sys.exit(1)
            if not apply:
                click.echo(
                    f"检查了 {report.rows} 行，全部正确：将新增 {report.created} 人，"
                    f"更新 {report.updated} 人。加上 --apply 执行导入。"
                )
                return
            with click.progressbar(length=total, label="写入", file=sys.stderr) as bar:
                report = apply_import(kernel, actor, data, file.name, progress=bar.update)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    if not report.applied:
        _print_errors(report)
        sys.exit(1)
    changed = report.updated - report.unchanged
    click.echo(
        f"已导入 {report.rows} 行：新增 {report.created} 人，更新 {changed} 人，"
        f"{report.unchanged} 人没有变化。"
    )


def _acting_user(kernel: Kernel, username: str, grant_id: int | None) -> Actor:
    return acting_actor(kernel, username, grant_id, IMPORT, "导入居民信息")


def _print_errors(report: ImportReport) -> None:
    click.echo(
        f"检查了 {report.rows} 行，发现 {report.error_count} 处错误，未写入任何数据：", err=True
    )
    for error in report.errors:
        column = f"“{error.column}”" if error.column else ""
        click.echo(f"  第 {error.row} 行 {column}：{error.message}", err=True)
    if report.error_count > len(report.errors):
        click.echo(f"  ……另有 {report.error_count - len(report.errors)} 处错误未列出", err=True)


@residents.command("check-numbers")
@click.option("--fix", is_flag=True, help="Rewrite the rows that can be fixed alone.")
def check_numbers_command(fix: bool) -> None:
    """Report residents whose ID number or phone is not stored in the canonical form.

    Run it once after upgrading: rows written before the canonical form (full-width or other
    scripts' digits) are invisible to exact search and to the duplicate check. Exit 1 while
    any such row is left.
    """
    from .canonical_check import find_non_canonical, fix_non_canonical

    with migrated_kernel() as kernel:
        cipher = kernel.residents.cipher
        findings = find_non_canonical(kernel.engine, cipher)
        if fix and findings:
            fixed = fix_non_canonical(kernel.engine, cipher, findings)
            click.echo(f"已规范 {fixed} 处")
            findings = find_non_canonical(kernel.engine, cipher)
    if not findings:
        click.echo("所有居民的身份证号和电话均为规范形式")
        return
    click.echo(f"发现 {len(findings)} 处未规范的身份证号或电话：", err=True)
    for finding in findings:
        click.echo("  " + finding.line(), err=True)
    sys.exit(1)


@residents.command("tally")
def tally_command() -> None:
    """Count the resident tallies of every unit again (工作台 and 居民信息 read them).

    They are kept current as residents change; run this after writing residents outside
    shequyun, or to have them at once after an upgrade or a unit move instead of waiting for
    the residents.tally job (every 10 minutes).
    """
    from sqlmodel import Session

    from . import tally

    with migrated_kernel() as kernel, Session(kernel.engine) as session:
        rows = tally.rebuild(session)
        session.commit()
    click.echo(f"已重新计算居民统计：{rows} 行")
