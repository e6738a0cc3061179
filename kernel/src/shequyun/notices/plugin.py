"""Default plugin ``notices``: cadres' in-portal notices, fed by the collection events through
the same hooks any plugin uses (event subscribers, a scheduled job, pages, a header count)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shequyun_sdk import Event, EventType, PluginContext, ScheduledJob, Subscriber, hookimpl
from sqlmodel import Session
from starlette.requests import Request
from starlette.routing import BaseRoute

from ..release import VERSION
from . import collection_notices, event_types, pages
from .models import Notice

MANIFEST = {
    "name": "notices",
    "version": VERSION,
    "title": {"zh": "站内通知", "en": "Notices"},
    "description": {
        "zh": "新任务、催报提醒、退回和即将截止的站内通知，并以事件交给短信等适配器",
        "en": "New tasks, reminders, returns and deadlines as notices, and as events for SMS",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity", "collection"],
}


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [Notice]


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return pages.ROUTES


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Any) -> Sequence[Subscriber]:
    kernel = platform.kernel

    def handler(write: Callable[..., int]) -> Callable[..., None]:
        # The delivery's own session: the notices (and their notice.created events) commit
        # together with the delivery, so a worker dying mid-way leaves them exactly once.
        def handle(event: Event, session: Session) -> None:
            write(kernel.notices, session, event)

        return handle

    return [
        Subscriber(
            "collection.campaign.opened",
            handler(collection_notices.on_campaign_opened),
            name="task",
        ),
        Subscriber("collection.reminder", handler(collection_notices.on_reminder), name="reminder"),
        Subscriber(
            "collection.submission.returned",
            handler(collection_notices.on_returned),
            name="returned",
        ),
    ]


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: Any) -> Sequence[ScheduledJob]:
    kernel = platform.kernel

    def due_soon(scheduled_for: datetime) -> str:
        with Session(kernel.engine) as session:
            written = collection_notices.remind_due_soon(kernel.notices, session, scheduled_for)
            session.commit()
        return f"发出 {written} 条即将截止通知"

    return [ScheduledJob("due_soon", due_soon, every=timedelta(hours=1))]


@hookimpl
def extra_template_vars(request: Request, template: str) -> Mapping[str, Any] | None:
    """The unread count beside the user's name in the header (one indexed count)."""
    actor = request.scope.get("shequyun.actor")
    user_id = getattr(actor, "user_id", None)
    if user_id is None:
        return None
    kernel = request.app.state.kernel
    with Session(kernel.engine) as session:
        return {"unread_notices": kernel.notices.unread(session, user_id)}
