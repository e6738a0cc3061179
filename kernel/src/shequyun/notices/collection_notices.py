"""What the collection events mean for the cadres of a committee: a notice each.

``collection.campaign.opened`` → 新任务 to every committee of the campaign;
``collection.reminder`` → 催报提醒 to the committee reminded; ``collection.submission.returned``
→ 退回, with the reviewer's reason; and every hour, tasks not submitted whose deadline is less
than :data:`SOON` away → 即将截止, once per task. The events themselves stay in the outbox for
SMS and messaging adapters, which also receive each notice as ``notice.created``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from shequyun_sdk import Event
from sqlmodel import Session, col, select

from ..collection.export_cells import BEIJING
from ..collection.models import Campaign, Task
from ..collection.tasks import aware
from .models import utcnow
from .service import NoticeService

__all__ = ["SOON", "on_campaign_opened", "on_reminder", "on_returned", "remind_due_soon"]

SOON = timedelta(hours=24)


def _deadline(campaign: Campaign) -> str:
    """``12月11日 17:00``, Beijing time, as the portal writes times."""
    moment = aware(campaign.deadline).astimezone(BEIJING)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _per_task(
    notices: NoticeService,
    session: Session,
    tasks: dict[int, list[tuple[int, Campaign]]],
    kind: str,
    title: str,
    body: Callable[[Campaign], str],
) -> int:
    """A notice of ``kind`` about each task (``tasks`` by unit) to the unit's fillers."""
    written = 0
    for recipient in notices.fillers(session, tasks):
        for task_id, campaign in tasks[recipient.unit_id]:
            written += notices.send(
                session,
                [recipient],
                kind=kind,
                title=f"{title}：{campaign.title}",
                body=body(campaign),
                link=f"/collection/tasks/{task_id}",
                key=f"{kind}:{task_id}",
            )
    return written


def on_campaign_opened(notices: NoticeService, session: Session, event: Event) -> int:
    campaign = session.get(Campaign, event.payload.get("campaign_id"))
    if campaign is None:
        return 0
    tasks = session.exec(
        select(Task.id, Task.unit_id).where(
            Task.campaign_id == campaign.id,
            Task.withdrawn == False,  # noqa: E712
        )
    ).all()
    by_unit = {unit_id: [(task_id or 0, campaign)] for task_id, unit_id in tasks}
    return _per_task(
        notices, session, by_unit, "task", "新采集任务", lambda c: f"请于 {_deadline(c)} 前填报"
    )


def on_reminder(notices: NoticeService, session: Session, event: Event) -> int:
    task = session.get(Task, event.payload.get("task_id"))
    campaign = session.get(Campaign, task.campaign_id) if task is not None else None
    if task is None or campaign is None or task.status == "submitted":
        return 0
    return notices.send(
        session,
        notices.fillers(session, [task.unit_id]),
        kind="reminder",
        title=f"催报提醒：{campaign.title}",
        body=f"尚未提交，请于 {_deadline(campaign)} 前填报",
        link=f"/collection/tasks/{task.id}",
        key=f"reminder:{event.id}",
    )


def on_returned(notices: NoticeService, session: Session, event: Event) -> int:
    task = session.get(Task, event.payload.get("task_id"))
    campaign = session.get(Campaign, task.campaign_id) if task is not None else None
    if task is None or campaign is None:
        return 0
    reason = str(event.payload.get("comment") or "")
    return notices.send(
        session,
        notices.fillers(session, [task.unit_id]),
        kind="returned",
        title=f"填报被退回：{campaign.title}",
        body=f"退回原因：{reason}" if reason else "请修改后重新提交",
        link=f"/collection/tasks/{task.id}",
        key=f"returned:{event.id}",
    )


def remind_due_soon(notices: NoticeService, session: Session, now: datetime | None = None) -> int:
    """即将截止 to the committees of open campaigns due within :data:`SOON`, once per task."""
    now = now or utcnow()
    rows = session.exec(
        select(Task, Campaign)
        .join(Campaign, col(Campaign.id) == Task.campaign_id)
        .where(Campaign.status == "open", Task.withdrawn == False)  # noqa: E712
        .where(col(Campaign.deadline) > now, col(Campaign.deadline) <= now + SOON)
        .where(Task.status != "submitted")
    ).all()
    tasks: dict[int, list[tuple[int, Campaign]]] = {}
    for task, campaign in rows:
        tasks.setdefault(task.unit_id, []).append((task.id or 0, campaign))
    return _per_task(
        notices, session, tasks, "deadline", "即将截止", lambda c: f"{_deadline(c)} 截止，尚未提交"
    )
