"""The statements a submission runs, built once per process.

Building a SQLAlchemy statement (coercing each clause, computing its cache key) costs several
times what executing it on SQLite does; a submission runs a handful of them, so building them
anew every time was a good part of a submission's cost. These are built once, with bound
parameters, and run with values; they go through the session's connection (its transaction)
but not through the ORM's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.sql.dml import Update
from sqlmodel import Session, col, select

from ..identity.models import OrgUnit
from .models import Campaign, SubmissionKey, Task, TaskEvent

__all__ = ["TASK_FOR_SUBMIT", "add_key", "add_task_event", "bump_task"]

_TASK: Table = Task.__table__  # type: ignore[attr-defined]
_KEYS: Table = SubmissionKey.__table__  # type: ignore[attr-defined]
_EVENTS: Table = TaskEvent.__table__  # type: ignore[attr-defined]

#: The task, its unit and campaign, and the task version a client key already produced
#: (None for a new key). Parameters: ``task_id``, ``client_key``.
TASK_FOR_SUBMIT = (
    select(Task, OrgUnit, Campaign, SubmissionKey.task_version)
    .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
    .join(Campaign, col(Campaign.id) == Task.campaign_id)
    .outerjoin(
        SubmissionKey,
        (col(SubmissionKey.task_id) == Task.id)
        & (col(SubmissionKey.client_key) == bindparam("client_key")),
    )
    .where(col(Task.id) == bindparam("task_id"))
)

_ADD_KEY = insert(_KEYS)
_ADD_TASK_EVENT = insert(_EVENTS)
_bumps: dict[tuple[str, ...], Update] = {}
_bumps_lock = Lock()


def add_key(
    session: Session, task_id: int, client_key: str, task_version: int, at: datetime
) -> None:
    """Insert an idempotency key; raises ``IntegrityError`` when the key is taken (on
    PostgreSQL, after waiting for the transaction that took it)."""
    session.connection().execute(
        _ADD_KEY,
        {
            "task_id": task_id,
            "client_key": client_key,
            "task_version": task_version,
            "created_at": at,
        },
    )


def add_task_event(
    session: Session,
    task_id: int,
    action: str,
    at: datetime,
    user_id: int | None,
    username: str | None,
    comment: str | None,
) -> None:
    """Append a step to a task's history."""
    session.connection().execute(
        _ADD_TASK_EVENT,
        {
            "task_id": task_id,
            "at": at,
            "action": action,
            "actor_user_id": user_id,
            "actor_username": username,
            "comment": comment,
        },
    )


def bump_task(session: Session, task_id: int, old_version: int, values: Mapping[str, Any]) -> bool:
    """``UPDATE`` the task's columns to ``values`` if its version is still ``old_version``;
    whether it was."""
    statement = _bump_statement(tuple(sorted(values)))
    parameters = {f"v_{name}": value for name, value in values.items()}
    parameters.update(w_id=task_id, w_version=old_version)
    result = session.connection().execute(statement, parameters)
    return result.rowcount == 1


def _bump_statement(names: tuple[str, ...]) -> Update:
    found = _bumps.get(names)
    if found is None:
        with _bumps_lock:
            found = _bumps.get(names)
            if found is None:
                found = (
                    update(_TASK)
                    .where(
                        _TASK.c.id == bindparam("w_id"),
                        _TASK.c.version == bindparam("w_version"),
                    )
                    .values(
                        {name: bindparam(f"v_{name}", type_=_TASK.c[name].type) for name in names}
                    )
                )
                _bumps[names] = found
    return found
