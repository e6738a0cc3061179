"""The workbench (工作台): where a cadre lands after logging in.

It shows the actor's open collection tasks with their deadlines, the latest changes to residents
in their scope, the age pyramid and tag counts of those residents (from the resident tallies, see
:mod:`.counts`), and the cards plugins contribute through ``workbench_cards``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk import charts
from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..collection.models import TASK_STATUSES
from ..identity import scope
from ..identity.models import User
from ..portal.common import actor_of, db, kernel_of, page, render
from ..residents.models import (
    GENDERS,
    REGISTRATIONS,
    STATUSES,
    Resident,
    ResidentChange,
)
from ..residents.service import READ
from ..residents.validation import FIELD_TITLES
from .cards import collect_cards
from .counts import age_bands, band_labels, tag_counts

__all__ = ["ROUTES", "age_bands", "band_labels", "recent_changes", "tag_counts"]

FILL = "collection.fill"
SOON = timedelta(days=3)
RECENT_ROWS = 40
RECENT_ENTRIES = 10
CHART_WIDTH = 360

#: History field names as cadres read them (the service's titles, plus the ones only history has).
CHANGE_TITLES = {
    **FIELD_TITLES,
    "(created)": "新增登记",
    "(reason)": "原因",
    "unit": "所属居委",
    "status": "状态",
}
#: Stored values of coded fields and the words cadres use for them.
VALUE_WORDS = {"gender": GENDERS, "registration": REGISTRATIONS, "status": STATUSES}


@dataclass
class ChangeEntry:
    """One saved change of one resident: several fields written together under one version."""

    resident_id: int
    name: str
    version: int
    at: datetime
    who: str
    source: str
    fields: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def recent_changes(
    session: Session, actor: Actor, vocabulary: Any = None, limit: int = RECENT_ENTRIES
) -> list[ChangeEntry]:
    """The latest changes to residents ``actor`` may read, newest first, grouped by version."""
    rows = session.exec(
        select(ResidentChange, Resident.name, User.display_name)
        .join(Resident, col(Resident.id) == ResidentChange.resident_id)
        .outerjoin(User, col(User.id) == ResidentChange.actor_user_id)
        .where(scope.scope_filter(actor, READ, Resident.unit_id))
        .order_by(col(ResidentChange.id).desc())
        .limit(RECENT_ROWS)
    )
    entries: list[ChangeEntry] = []
    for change, name, display_name in rows:
        last = entries[-1] if entries else None
        if last is None or (last.resident_id, last.version) != (change.resident_id, change.version):
            if len(entries) == limit:
                break
            last = ChangeEntry(
                resident_id=change.resident_id,
                name=name,
                version=change.version,
                at=change.at,
                who=display_name or change.actor_username or "系统",
                source=change.source,
            )
            entries.append(last)
        last.fields.insert(
            0, change_row(change.field, change.old_value, change.new_value, vocabulary)
        )
    return entries


def change_row(
    field_name: str, old: str | None, new: str | None, vocabulary: Any = None
) -> tuple[str, str | None, str | None]:
    """``(title, old, new)`` of a history row as cadres read it (男 rather than ``male``)."""
    words = VALUE_WORDS.get(field_name, {})
    return (
        change_title(field_name, vocabulary),
        words.get(old, old) if old is not None else None,
        words.get(new, new) if new is not None else None,
    )


def change_title(field_name: str, vocabulary: Any = None) -> str:
    """The Chinese title of a history field (``attributes.<plugin>.<name>`` included)."""
    if field_name.startswith("attributes.") and vocabulary is not None:
        spec = vocabulary.attributes.get(field_name.removeprefix("attributes."))
        if spec is not None:
            return str(spec.attribute.title)
    return CHANGE_TITLES.get(field_name, field_name)


@dataclass
class TaskRow:
    id: int
    title: str
    unit: str
    status: str
    status_label: str
    deadline: datetime
    overdue: bool
    soon: bool


def open_tasks(session: Session, kernel: Any, actor: Actor) -> tuple[list[TaskRow], int]:
    """The actor's tasks still to do (deadline first) and how many are already submitted."""
    now = datetime.now(UTC)
    todo: list[TaskRow] = []
    submitted = 0
    for task, campaign, unit in kernel.collection.campaigns.my_tasks(session, actor):
        if task.status == "submitted":
            submitted += 1
            continue
        deadline = campaign.deadline
        if deadline.tzinfo is None:  # SQLite gives naive datetimes back
            deadline = deadline.replace(tzinfo=UTC)
        todo.append(
            TaskRow(
                id=task.id,
                title=campaign.title,
                unit=unit.name,
                status=task.status,
                status_label=TASK_STATUSES.get(task.status, task.status),
                deadline=deadline,
                overdue=deadline < now,
                soon=now <= deadline < now + SOON,
            )
        )
    return todo, submitted


def campaign_rows(session: Session, kernel: Any, actor: Actor) -> list[dict[str, Any]]:
    """The open campaigns reaching the actor's units, each with its tasks still to do."""
    now = datetime.now(UTC)
    rows = []
    for entry in kernel.collection.campaigns.task_summary(session, actor):
        deadline = entry["deadline"]
        if deadline.tzinfo is None:  # SQLite gives naive datetimes back
            deadline = deadline.replace(tzinfo=UTC)
        counts = entry["by_status"]
        total = sum(counts.values())
        done = counts.get("submitted", 0)
        rows.append(
            {
                **entry,
                "deadline": deadline,
                "total": total,
                "done": done,
                "returned": counts.get("returned", 0),
                "overdue": deadline < now and done < total,
                "soon": now <= deadline < now + SOON and done < total,
            }
        )
    return rows


@page()
async def workbench(request: Request) -> Response:
    actor = actor_of(request)
    kernel = kernel_of(request)
    reads = actor.has(READ)
    fills = actor.has(FILL)
    # Above a committee, one line per campaign with its counts instead of a row per committee.
    summarised = actor.unit is not None and actor.unit.level != "committee"

    def work(session: Session) -> dict[str, Any]:
        context: dict[str, Any] = {"tasks": [], "submitted": 0, "changes": [], "total": None}
        if fills and summarised:
            context["campaigns"] = campaign_rows(session, kernel, actor)
        elif fills:
            context["tasks"], context["submitted"] = open_tasks(session, kernel, actor)
        if reads:
            bands = age_bands(session, actor)
            tags = tag_counts(session, actor)
            unit = actor.unit.name if actor.unit else ""
            context["changes"] = recent_changes(session, actor, kernel.residents.vocabulary)
            context["total"] = sum(m + f for _, m, f in bands)
            # Drawn narrow so that the labels stay readable when a phone scales the chart down.
            context["pyramid"] = charts.age_pyramid(f"{unit}居民年龄结构", bands, width=CHART_WIDTH)
            context["tags_chart"] = (
                charts.bar_chart(f"{unit}居民标签人数", tags, width=CHART_WIDTH) if tags else None
            )
        return context

    context = await db(request, work)
    cards = await run_in_threadpool(collect_cards, kernel, request, actor)
    return render(
        request,
        "workbench/index.html",
        {
            **context,
            "cards": cards,
            "reads": reads,
            "fills": fills,
            "summarised": summarised,
            "breadcrumbs": [("工作台", None)],
        },
    )


ROUTES: list[BaseRoute] = [Route("/workbench", workbench, methods=["GET"])]
