"""Two records of one person merged (data quality): field-log entries and cases follow.

Every 民情日志 entry and every 末端处置 case about the merged record (its ``resident_id`` and its
``resident:<id>`` subject key) now names the kept record; the label written with the row stays,
as it says what the row was about when it was written. The ids moved are returned to the
kernel, kept with the merge and handed back to :func:`undone`, which points exactly those rows
at the merged record again. A household or building named as the subject is not a resident
reference and does not move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, or_, select

from .models import Case, LogEntry

__all__ = ["merged", "undone"]

TABLES: dict[str, type[LogEntry] | type[Case]] = {"logs": LogEntry, "cases": Case}


def merged(session: Session, kept_id: int, merged_id: int) -> dict[str, list[int]]:
    """Point the rows about ``merged_id`` at ``kept_id``; the ids of the rows moved, per table."""
    return {key: _point(session, model, merged_id, kept_id, None) for key, model in TABLES.items()}


def undone(session: Session, kept_id: int, merged_id: int, moved: Mapping[str, Any]) -> None:
    """Point the rows :func:`merged` moved (and still about ``kept_id``) back at ``merged_id``."""
    for key, model in TABLES.items():
        ids = [int(i) for i in moved.get(key, [])]
        if ids:
            _point(session, model, kept_id, merged_id, ids)


def _point(
    session: Session,
    model: type[LogEntry] | type[Case],
    source: int,
    target: int,
    only: list[int] | None,
) -> list[int]:
    query = select(model).where(
        or_(col(model.resident_id) == source, col(model.subject_key) == f"resident:{source}")
    )
    if only is not None:
        query = query.where(col(model.id).in_(only))
    moved = []
    for row in session.exec(query):
        if row.resident_id == source:
            row.resident_id = target
        if row.subject_key == f"resident:{source}":
            row.subject_key = f"resident:{target}"
        session.add(row)
        assert row.id is not None
        moved.append(row.id)
    return sorted(moved)
