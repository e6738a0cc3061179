"""The statements a submission runs, built once per process.

Building a SQLAlchemy statement (coercing each clause, computing its cache key) costs several
times what executing it on SQLite does; a submission runs a handful of them, so building them
anew every time was a good part of a submission's cost. These are built once, with bound
parameters, and run with values; they go through the session's connection (its transaction)
but not through the ORM's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, insert, null, update
from sqlalchemy import select as core_select
from sqlalchemy.sql.dml import Update
from sqlmodel import Session

from ..attachments.statements import CLAIM_ARRAY
from ..direct import DirectStatement
from ..events import OUTBOX_INSERT
from ..identity.models import OrgUnit
from .models import Campaign, SubmissionKey, Task, TaskEvent

__all__ = [
    "SUBMISSION",
    "SubmissionRow",
    "Written",
    "add_task_event",
    "bump_task",
    "submission_row",
    "write_submission",
]

_TASK: Table = Task.__table__  # type: ignore[attr-defined]
_KEYS: Table = SubmissionKey.__table__  # type: ignore[attr-defined]
_EVENTS: Table = TaskEvent.__table__  # type: ignore[attr-defined]
_UNITS: Table = OrgUnit.__table__  # type: ignore[attr-defined]
_CAMPAIGNS: Table = Campaign.__table__  # type: ignore[attr-defined]

_ADD_TASK_EVENT = insert(_EVENTS)
_bumps: dict[tuple[str, ...], Update] = {}
_bumps_lock = Lock()


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


# -- a submission, in plain rows -------------------------------------------------------------
#
# A submission reads one row and writes four (its key, the task, a history row, the outbox's
# event): as plain columns on the session's DBAPI connection (see :mod:`..direct`), not as ORM
# objects, which were a third of a submission's CPU in the worker. On PostgreSQL the key, the
# task and its history row are one statement: one round trip instead of three.


class SubmissionRow(NamedTuple):
    """What a submission needs of its task, the task's unit and campaign, and its key."""

    task_id: int
    unit_id: int
    campaign_id: int
    status: str
    withdrawn: bool
    version: int
    data: dict[str, Any]
    submitted_at: datetime | None
    on_time: bool | None
    unit_code: str
    unit_name: str
    unit_level: str
    unit_path: str
    unit_closed_on: Any
    unit_parent_id: int | None
    campaign_title: str
    campaign_mode: str
    campaign_status: str
    form_version_id: int
    starts_at: datetime
    deadline: datetime
    #: The task version this client key already produced; None for a new key.
    replayed_version: int | None


_SUBMISSION_ROW = DirectStatement(
    core_select(
        _TASK.c.id,
        _TASK.c.unit_id,
        _TASK.c.campaign_id,
        _TASK.c.status,
        _TASK.c.withdrawn,
        _TASK.c.version,
        _TASK.c.data,
        _TASK.c.submitted_at,
        _TASK.c.on_time,
        _UNITS.c.code,
        _UNITS.c.name,
        _UNITS.c.level,
        _UNITS.c.path,
        _UNITS.c.closed_on,
        _UNITS.c.parent_id,
        _CAMPAIGNS.c.title,
        _CAMPAIGNS.c.mode,
        _CAMPAIGNS.c.status,
        _CAMPAIGNS.c.form_version_id,
        _CAMPAIGNS.c.starts_at,
        _CAMPAIGNS.c.deadline,
        _KEYS.c.task_version,
    )
    .select_from(
        _TASK.join(_UNITS, _UNITS.c.id == _TASK.c.unit_id)
        .join(_CAMPAIGNS, _CAMPAIGNS.c.id == _TASK.c.campaign_id)
        .outerjoin(
            _KEYS,
            (_KEYS.c.task_id == _TASK.c.id) & (_KEYS.c.client_key == bindparam("client_key")),
        )
    )
    .where(_TASK.c.id == bindparam("task_id"))
)


def submission_row(session: Session, task_id: int, client_key: str) -> SubmissionRow | None:
    """The task ``task_id`` with its unit and campaign, and whether ``client_key`` was used."""
    rows = _SUBMISSION_ROW.rows(session, {"task_id": task_id, "client_key": client_key})
    return SubmissionRow(*rows[0]) if rows else None


_SUBMITTED = {
    "data": _TASK.c.data,
    "form_version_id": _TASK.c.form_version_id,
    "status": _TASK.c.status,
    "submitted_at": _TASK.c.submitted_at,
    "on_time": _TASK.c.on_time,
    "version": _TASK.c.version,
    "updated_at": _TASK.c.updated_at,
}
_SUBMIT_TASK = (
    update(_TASK)
    .where(_TASK.c.id == bindparam("task_id"), _TASK.c.version == bindparam("old_version"))
    .values(
        {name: bindparam(f"v_{name}", type_=column.type) for name, column in _SUBMITTED.items()}
    )
)
_SUBMIT_KEY = insert(_KEYS).values(
    task_id=bindparam("task_id"),
    client_key=bindparam("client_key"),
    task_version=bindparam("v_version"),
    created_at=bindparam("v_updated_at", type_=_KEYS.c.created_at.type),
)
_HISTORY_COLUMNS = ("task_id", "at", "action", "actor_user_id", "actor_username", "comment")
_HISTORY = {
    "at": bindparam("v_updated_at", type_=_EVENTS.c.at.type),
    "action": bindparam("action", type_=_EVENTS.c.action.type),
    "actor_user_id": bindparam("actor_user_id", type_=_EVENTS.c.actor_user_id.type),
    "actor_username": bindparam("actor_username", type_=_EVENTS.c.actor_username.type),
    "comment": bindparam("comment", type_=_EVENTS.c.comment.type),
}


def _one_statement() -> DirectStatement:
    """PostgreSQL: the key, the task, its history row, the files its answers refer to and its
    event in one statement (one round trip instead of three). The key's unique violation
    still fails the statement (a concurrent duplicate waits for the first to commit,
    whichever of its parts meets the first's locks first); a task whose version moved updates
    no row, so no history row is written. It returns a row ``(task id, None, None)`` for the
    history row written and ``(None, file id, content type)`` for each file claimed: the
    caller rolls back when the task was not written or a file was refused, and the claim and
    the event go with it.

    The history's rows are what the main query reads first, so the task is updated (and
    locked) before the files are claimed, as a draft's save does; the key and the event,
    which nothing reads, are written when the rest is done."""
    task = _SUBMIT_TASK.returning(_TASK.c.id).cte("submitted_task")
    key = _SUBMIT_KEY.cte("submission_key")
    history = (
        insert(_EVENTS)
        .from_select(list(_HISTORY_COLUMNS), core_select(task.c.id, *_HISTORY.values()))
        .returning(_EVENTS.c.task_id)
        .cte("history")
    )
    claimed = CLAIM_ARRAY.cte("claimed")
    outbox = OUTBOX_INSERT.cte("outbox")
    written = core_select(
        history.c.task_id, null().label("file_id"), null().label("content_type")
    ).union_all(core_select(null(), claimed.c.id, claimed.c.content_type))
    return DirectStatement(written.add_cte(key, outbox))


_WRITE_ALL = _one_statement()
_WRITE_KEY = DirectStatement(_SUBMIT_KEY)
_WRITE_TASK = DirectStatement(_SUBMIT_TASK)
_WRITE_HISTORY = DirectStatement(insert(_EVENTS).values(task_id=bindparam("task_id"), **_HISTORY))

#: The columns a submission writes to its task (``write_submission``'s ``values``).
SUBMISSION = tuple(_SUBMITTED)


@dataclass(frozen=True)
class Written:
    """What :func:`write_submission` did: whether the task was still at its version, and on
    PostgreSQL the files claimed (their content type by id; None where the caller claims)
    and whether the event was written."""

    task: bool
    files: dict[str, str] | None = None
    event: bool = False


def write_submission(
    session: Session,
    task_id: int,
    old_version: int,
    client_key: str,
    values: Mapping[str, Any],
    action: str,
    user_id: int | None,
    username: str | None,
    *,
    files: Mapping[str, Any] | None = None,
    event: Mapping[str, Any] | None = None,
) -> Written:
    """Insert the idempotency key, write ``values`` (every name of :data:`SUBMISSION`) to the
    task if its version is still ``old_version``, and add the step to its history. Raises
    ``IntegrityError`` when the key is taken (on PostgreSQL, after waiting for the transaction
    that took it): the key goes in first.

    On PostgreSQL, in the same statement, the files of ``files`` (``files.claim_values``) are
    claimed and the event of ``event`` (``EventBus.outbox_values``) is written; elsewhere the
    caller claims and publishes (:class:`Written` says which was done)."""
    params = {f"v_{name}": values[name] for name in SUBMISSION}
    params.update(
        task_id=task_id,
        old_version=old_version,
        client_key=client_key,
        action=action,
        actor_user_id=user_id,
        actor_username=username,
        comment=None,
    )
    if session.connection().dialect.name == "postgresql" and event is not None:
        params.update(files if files is not None else _NO_FILES)
        params.update(event)
        rows = _WRITE_ALL.rows(session, params)
        claimed = {file_id: kind for task, file_id, kind in rows if task is None}
        return Written(any(task is not None for task, _f, _k in rows), claimed, True)
    _WRITE_KEY.run(session, params)
    if _WRITE_TASK.run(session, params) != 1:
        return Written(False)
    _WRITE_HISTORY.run(session, params)
    return Written(True)


#: The claim's parameters when there is nothing to claim (no row matches no id).
_NO_FILES: dict[str, Any] = {
    "user_id": None,
    "w_owner": "",
    "w_owner_ref": "",
    "new_owner": "",
    "new_owner_ref": "",
    "new_unit_id": None,
    "new_public": False,
    "new_read_permissions": [],
    "now": None,
    "ids_array": [],
}
