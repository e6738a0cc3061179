"""Importing residents in bulk from a CSV or XLSX file (批量导入).

One engine serves the API and the CLI. :func:`plan_import` (the dry run) checks every row and
writes nothing; :func:`apply_import` checks every row again while writing, in one transaction
that commits only when the whole file is good. Rows go through :func:`clean_resident`, the
check every input path shares; a row whose ID number is already registered becomes an update of
that record when the actor may import into its committee, and an error otherwise, so nobody is
ever registered twice. Creates are written in batches with bulk inserts (a million rows through
the per-row ORM path would take hours); updates go through :meth:`ResidentService.update`, so
their history and events are exactly those of an edit in the portal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shequyun_sdk import Conflict, Forbidden
from shequyun_sdk.identity import Actor
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..identity import audit
from .import_rows import Importer, Progress
from .import_table import (
    HEADERS,
    IMPORT,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportTable,
    RowError,
)
from .import_writer import among

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = [
    "HEADERS",
    "IMPORT",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "ImportReport",
    "ImportTable",
    "RowError",
    "among",
    "apply_import",
    "plan_import",
]

# -- the entry points -----------------------------------------------------------------------


def plan_import(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str = "",
    *,
    progress: Progress | None = None,
    max_rows: int = MAX_IMPORT_ROWS,
) -> ImportReport:
    """Check every row of the file (the dry run) and write nothing.

    Raises :class:`~shequyun_sdk.ValidationFailed` (field ``file``) when the file cannot be
    read at all; problems in rows are in the report.
    """
    return _run(kernel, actor, data, filename, write=False, progress=progress, max_rows=max_rows)


def apply_import(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str = "",
    *,
    progress: Progress | None = None,
    max_rows: int = MAX_IMPORT_ROWS,
    client_ip: str | None = None,
) -> ImportReport:
    """Check every row again and import the file all or nothing, in one transaction.

    When any row is bad, nothing is written and the report lists every problem
    (``applied`` false). Otherwise residents are created or updated, each with its history
    (source ``import``) and its ``resident.created`` / ``resident.updated`` event, and one
    ``resident.imported`` audit entry records the file.
    """
    return _run(
        kernel,
        actor,
        data,
        filename,
        write=True,
        progress=progress,
        max_rows=max_rows,
        client_ip=client_ip,
    )


def _run(
    kernel: Kernel,
    actor: Actor,
    data: bytes,
    filename: str,
    *,
    write: bool,
    progress: Progress | None,
    max_rows: int,
    client_ip: str | None = None,
) -> ImportReport:
    if not actor.has(IMPORT):
        raise Forbidden("您没有批量导入居民信息的权限")
    table = ImportTable(data, filename, max_rows=max_rows)
    report = ImportReport(dry_run=not write)
    with Session(kernel.engine, expire_on_commit=False) as session:
        try:
            importer = Importer(kernel, session, actor, report, write)
            importer.run(table, progress)
            if not write or report.error_count:
                session.rollback()
                return report
            audit.record(
                session,
                "resident.imported",
                actor=actor,
                target_type="resident",
                detail={
                    "filename": filename[:200],
                    "format": table.kind,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated - report.unchanged,
                    "unchanged": report.unchanged,
                },
                client_ip=client_ip,
            )
            session.commit()
        except BaseException as exc:
            session.rollback()
            if violates_a_constraint(exc):  # someone wrote the same address meanwhile
                raise Conflict(
                    "导入期间有其他人修改了相同的数据，未写入任何数据，请重新导入"
                ) from None
            raise
    report.applied = True
    return report


def violates_a_constraint(exc: BaseException) -> bool:
    """An integrity error, whether SQLAlchemy wrapped it or psycopg raised it from a COPY."""
    if isinstance(exc, IntegrityError):
        return True
    return str(getattr(exc, "sqlstate", "") or "").startswith("23")
