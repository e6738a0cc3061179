"""Roster answers of collection campaigns follow a merged record (and come back on undo).

A roster-mode task's answers are rows naming residents by id; when two records of one person
are merged, the rows naming the merged record name the kept one. Only the tasks of the
committees the merged record has been in can hold such rows, since a roster lists its
committee's residents.

A task that lists both records has two rows for one person: the kept record's row stays (the
kept record's answers survive, as its fields do), and the merged record's row is taken out of
the task and kept on the merge, so the task, its results and its exports count the person once;
the undo puts the row back where it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from ..collection.models import Campaign, Task

__all__ = ["drop_twin_rows", "move_roster_rows", "name_in_rosters", "restore_twin_rows"]


def move_roster_rows(
    session: Session,
    source: int,
    target: int,
    *,
    only: Mapping[str, Any] | None = None,
    units: set[int] | None = None,
) -> dict[str, list[int]]:
    """Roster answers naming ``source`` name ``target`` now; which rows of which tasks moved.

    A task that has a row for ``target`` already is left to :func:`drop_twin_rows`: two rows
    for one record would be refused as 重复 when the task is submitted.
    """
    query = (
        sm_select(Task)
        .join(Campaign, col(Campaign.id) == col(Task.campaign_id))
        .where(Campaign.mode == "roster")
    )
    if units is not None:
        query = query.where(col(Task.unit_id).in_(sorted(units)))
    if only is not None:
        if not only:
            return {}
        query = query.where(col(Task.id).in_([int(k) for k in only]))
    moved: dict[str, list[int]] = {}
    for task in session.exec(query):
        rows = task.data.get("rows") if isinstance(task.data, dict) else None
        if not isinstance(rows, list):
            continue
        wanted = None if only is None else set(only.get(str(task.id), []))
        if wanted is None and any(
            isinstance(r, dict) and r.get("resident_id") == target for r in rows
        ):
            continue
        changed = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict) or row.get("resident_id") != source:
                continue
            if wanted is not None and index not in wanted:
                continue
            row["resident_id"] = target
            changed.append(index)
        if changed:
            # The rows were changed in place: tell the ORM the JSON column changed.
            flag_modified(task, "data")
            session.add(task)
            moved[str(task.id)] = changed
    return moved


def _roster_tasks(session: Session, units: set[int] | None, only: list[int] | None) -> Any:
    query = (
        sm_select(Task)
        .join(Campaign, col(Campaign.id) == col(Task.campaign_id))
        .where(Campaign.mode == "roster")
    )
    if units is not None:
        query = query.where(col(Task.unit_id).in_(sorted(units)))
    if only is not None:
        query = query.where(col(Task.id).in_(only))
    return session.exec(query)


def drop_twin_rows(
    session: Session, source: int, target: int, *, units: set[int] | None = None
) -> dict[str, list[list[Any]]]:
    """Take ``source``'s rows out of the tasks that have a row for ``target`` too.

    Returns ``{task id: [[index, row], ...]}`` for :func:`restore_twin_rows`.
    """
    dropped: dict[str, list[list[Any]]] = {}
    for task in _roster_tasks(session, units, None):
        rows = task.data.get("rows") if isinstance(task.data, dict) else None
        if not isinstance(rows, list):
            continue
        named = [r.get("resident_id") if isinstance(r, dict) else None for r in rows]
        if target not in named or source not in named:
            continue
        taken = [[i, row] for i, row in enumerate(rows) if named[i] == source]
        task.data = {**task.data, "rows": [r for i, r in enumerate(rows) if named[i] != source]}
        session.add(task)
        dropped[str(task.id)] = taken
    return dropped


def restore_twin_rows(session: Session, dropped: Mapping[str, Any]) -> None:
    """Put the rows :func:`drop_twin_rows` took out back at their places."""
    if not dropped:
        return
    for task in _roster_tasks(session, None, [int(k) for k in dropped]):
        rows = list(task.data.get("rows") or []) if isinstance(task.data, dict) else []
        for index, row in sorted(dropped[str(task.id)], key=lambda taken: taken[0]):
            rows.insert(min(int(index), len(rows)), row)
        task.data = {**task.data, "rows": rows}
        session.add(task)


def name_in_rosters(
    session: Session, named: int, also: int, *, only: list[int] | None = None
) -> list[int]:
    """Open roster campaigns that list ``named`` by id (a verification round) list ``also`` too.

    Without it the person would drop out of the round when their record is merged: the merged
    record is no longer active, and the kept one was not on the list. Returns the campaigns
    changed; ``only`` (on undo) takes ``named`` out of exactly those again.
    """
    query = sm_select(Campaign).where(Campaign.mode == "roster", Campaign.status == "open")
    if only is not None:
        if not only:
            return []
        query = query.where(col(Campaign.id).in_(only))
    changed = []
    for campaign in session.exec(query):
        ids = campaign.roster_filter.get("resident_ids")
        if not isinstance(ids, list):
            continue
        if only is not None:
            listed = [i for i in ids if i != named]
        elif named in ids and also not in ids:
            listed = sorted([*ids, also])
        else:
            continue
        campaign.roster_filter = {**campaign.roster_filter, "resident_ids": listed}
        session.add(campaign)
        assert campaign.id is not None
        changed.append(campaign.id)
    return changed
