"""``shequyun attachments``: see what the attachment store holds and prune it."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlmodel import Session

from ..cli_support import migrated_kernel
from .service import UNCLAIMED_DAYS

__all__ = ["attachments"]


@click.group()
def attachments() -> None:
    """The attachment store (photos and documents attached to records)."""


@attachments.command("usage")
def usage() -> None:
    """How many attachments there are and how much room they take."""
    with migrated_kernel() as kernel, Session(kernel.engine) as session:
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
    with migrated_kernel() as kernel, Session(kernel.engine) as session:
        rows, files = kernel.attachments.prune(session, older_than=timedelta(days=days))
        session.commit()
    click.echo(f"已删除 {rows} 个未使用的上传和 {files} 个无引用的文件")
