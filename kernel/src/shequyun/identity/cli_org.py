"""``shequyun org``: org-unit commands for operators."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["org"]


@click.group("org")
def org() -> None:
    """Org units: the city → district → street → committee tree."""


@org.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Write the units. Without it the command is a dry run that changes nothing.",
)
def import_units(file: Path, apply_: bool) -> None:
    """Load org units from FILE, a CSV (UTF-8 or GBK) or XLSX roster.

    Columns: code,name,level,parent_code (or 编码,名称,层级,上级编码). Every bad row is
    listed with its row number, column and reason; nothing is written unless the whole file
    is clean, and then only with --apply, all in one transaction. Exits 1 when the file has
    problems.
    """
    from shequyun_sdk import ApiError
    from sqlmodel import Session

    from ..kernel import Kernel
    from ..request_context import configure_logging
    from ..settings import SettingsError, load_settings
    from .org_import import MAX_IMPORT_BYTES, import_units

    if file.stat().st_size > MAX_IMPORT_BYTES:
        raise click.ClickException(f"文件不能超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("WARNING")
    kernel = Kernel(settings)
    try:
        pending = kernel.migrations.pending(kernel.engine)
        if pending:
            raise click.ClickException("数据库需要先升级：请运行 shequyun db upgrade")
        with Session(kernel.engine) as session:
            try:
                report = import_units(session, file.read_bytes(), file.name, apply=apply_, by=None)
            except ApiError as exc:
                raise click.ClickException(exc.message) from None
            if report.applied:
                session.commit()
    finally:
        kernel.close()
    for line in report.lines():
        click.echo(line)
    if not report.valid:
        sys.exit(1)
