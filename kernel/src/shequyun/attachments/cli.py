"""``shequyun attachments``: see what the attachment store holds and prune it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import click
from sqlmodel import Session

from ..settings import SettingsError, load_settings
from .service import UNCLAIMED_DAYS

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["attachments"]


@click.group()
def attachments() -> None:
    """The attachment store (photos and documents attached to records)."""


@contextmanager
def _kernel() -> Iterator[Kernel]:
    from ..kernel import Kernel

    try:
        kernel = Kernel(load_settings())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield kernel
    finally:
        kernel.close()


@attachments.command("usage")
def usage() -> None:
    """How many attachments there are and how much room they take."""
    with _kernel() as kernel, Session(kernel.engine) as session:
        found = kernel.attachments.usage(session)
    click.echo(f"{found['attachments']} 个附件，共 {found['bytes'] / (1024 * 1024):.1f} MB")
    click.echo(f"目录：{kernel.attachments.blobs.root.resolve()}")


@attachments.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=UNCLAIMED_DAYS,
    show_default=True,
    help="Remove uploads no record claimed within this many days.",
)
def prune(days: int) -> None:
    """Remove old unclaimed uploads and files no attachment refers to (run it daily)."""
    with _kernel() as kernel, Session(kernel.engine) as session:
        rows, files = kernel.attachments.prune(session, older_than=timedelta(days=days))
        session.commit()
    click.echo(f"已删除 {rows} 个未使用的上传和 {files} 个无引用的文件")
