"""Rows a plugin adds to its own tables, kept unique when two requests race.

Check for a duplicate before inserting, so that the refusal names the field and says why
(``该居民当天的用餐已记录``). But two requests at the same moment (a double tap, two cadres) both
pass that check, and the second insert then breaks the table's unique constraint: SQLAlchemy
raises ``IntegrityError``, which reaches the platform as a 500, and on PostgreSQL the session's
transaction is aborted. :func:`add_unique` inserts in a savepoint and turns that into your own
refusal, leaving the rest of the transaction as it was::

    from shequyun_sdk import Conflict
    from shequyun_sdk.rows import add_unique

    meal = add_unique(session, Meal(enrolment_id=7, day=day), Conflict("当天已记录", field="day"))

Since SDK 1.4.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import ApiError

__all__ = ["add_unique"]

Row = TypeVar("Row")


def add_unique(session: Session, row: Row, conflict: ApiError) -> Row:
    """Add ``row`` to ``session`` and flush it in a savepoint; ``conflict`` is raised instead
    when a unique constraint (or another integrity rule) refuses it, and the session's
    transaction goes on without the row. On success the row has its id. Works on SQLite and
    PostgreSQL alike."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise conflict from None
    return row
