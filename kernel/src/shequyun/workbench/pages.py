"""The workbench (工作台): where a cadre lands after logging in.

It shows the actor's open collection tasks with their deadlines (a publisher who fills none: the
open campaigns they sent or that reach them, with progress), the latest changes to residents
in their scope, the age pyramid and tag counts of those residents (from the resident tallies, see
:mod:`.counts`), and the cards plugins contribute through ``workbench_cards``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk import charts
from shequyun_sdk.identity import Actor
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..collection.models import TASK_STATUSES
from ..i18n import gettext
from ..portal.common import actor_of, db, kernel_of, page, render
from ..residents.changes import recent_changes
from ..residents.reading import READ
from ..templating import language_of
from .cards import collect_cards
from .counts import age_bands, band_labels, tag_counts

__all__ = ["ROUTES", "age_bands", "band_labels", "recent_changes", "tag_counts"]

FILL = "collection.fill"
PUBLISH = "collection.publish"
SOON = timedelta(days=3)
#: Open campaigns a publisher's card lists, newest first.
FOLLOWED_SHOWN = 5
CHART_WIDTH = 360


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


def campaign_line(deadline: datetime, done: int, total: int) -> dict[str, Any]:
    """A campaign's deadline (aware) and whether it is past or close with tasks still to do:
    how every campaign line of the workbench is marked."""
    if deadline.tzinfo is None:  # SQLite gives naive datetimes back
        deadline = deadline.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    return {
        "deadline": deadline,
        "done": done,
        "total": total,
        "overdue": deadline < now and done < total,
        "soon": now <= deadline < now + SOON and done < total,
    }


def campaign_rows(session: Session, kernel: Any, actor: Actor) -> list[dict[str, Any]]:
    """The open campaigns reaching the actor's units, each with its tasks still to do."""
    rows = []
    for entry in kernel.collection.campaigns.task_summary(session, actor):
        counts = entry["by_status"]
        line = campaign_line(entry["deadline"], counts.get("submitted", 0), sum(counts.values()))
        rows.append({**entry, **line, "returned": counts.get("returned", 0)})
    return rows


def followed_rows(session: Session, kernel: Any, actor: Actor) -> list[dict[str, Any]]:
    """The open campaigns a publisher follows, newest first: those their unit sent and those
    reaching their subtree, each with the progress of the part in their scope (a street admin
    reads their street's part of the city's campaign). What a bureau clerk or an admin, who
    fills nothing, starts the day from."""
    rows = []
    for item in kernel.collection.campaigns.listing(session, actor, limit=50):
        campaign = item["campaign"]
        if campaign.status != "open":
            continue
        line = campaign_line(campaign.deadline, item["submitted"], item["expected"])
        rows.append(
            {
                "id": campaign.id,
                "title": campaign.title,
                "published_here": item["published_here"],
                **line,
            }
        )
        if len(rows) == FOLLOWED_SHOWN:
            break
    return rows


@page()
async def workbench(request: Request) -> Response:
    actor = actor_of(request)
    kernel = kernel_of(request)
    reads = actor.has(READ)
    fills = actor.has(FILL)
    publishes = actor.has(PUBLISH) and not fills
    # Above a committee, one line per campaign with its counts instead of a row per committee.
    summarised = actor.unit is not None and actor.unit.level != "committee"
    language = language_of(request)

    def work(session: Session) -> dict[str, Any]:
        context: dict[str, Any] = {"tasks": [], "submitted": 0, "changes": [], "total": None}
        if fills and summarised:
            context["campaigns"] = campaign_rows(session, kernel, actor)
        elif fills:
            context["tasks"], context["submitted"] = open_tasks(session, kernel, actor)
        if publishes:
            context["followed"] = followed_rows(session, kernel, actor)
        if reads:
            bands = age_bands(session, actor)
            tags = tag_counts(session, actor)
            unit = actor.unit.name if actor.unit else ""
            context["changes"] = recent_changes(
                session, actor, kernel.residents.vocabulary, plugins=kernel.host.titles()
            )
            context["total"] = sum(m + f for _, m, f in bands)
            # Drawn narrow so that the labels stay readable when a phone scales the chart down.
            title = gettext("{unit}居民年龄结构", language, unit=unit)
            context["pyramid"] = charts.age_pyramid(title, bands, width=CHART_WIDTH)
            # The kernel's tags have English names in the catalog; other tags show as written.
            shown = [(gettext(tag, language), n) for tag, n in tags]
            context["tags_chart"] = (
                charts.bar_chart(
                    gettext("{unit}居民标签人数", language, unit=unit), shown, width=CHART_WIDTH
                )
                if tags
                else None
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
            "publishes": publishes,
            "summarised": summarised,
            "breadcrumbs": [(gettext("工作台", language), None)],
        },
    )


ROUTES: list[BaseRoute] = [Route("/workbench", workbench, methods=["GET"])]
