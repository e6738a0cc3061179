"""What a collection task looks like to the API and to its events, and the checks a task must
pass before it is filled, whether it was read as records or as a submission's plain row
(:mod:`.prepared`): one definition for both, so the submission's answer and a task's page
cannot drift apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from shequyun_sdk import Conflict, ValidationFailed

from . import prepared
from .models import utcnow

__all__ = [
    "aware",
    "check_data_shape",
    "event_payload",
    "refuse_unless_open",
    "row_view",
    "view",
]

#: The largest answer a task stores, as compact JSON.
MAX_DATA_BYTES = 2_000_000


def check_data_shape(data: Any) -> None:
    """422 unless ``data`` is a JSON object a task can store (at most MAX_DATA_BYTES)."""
    if not isinstance(data, dict):
        raise ValidationFailed("填报内容应为 JSON 对象", field="data")
    try:
        size = len(orjson.dumps(data))
    except TypeError:
        raise ValidationFailed(
            "填报内容无法保存：只能包含 JSON 值，且嵌套不超过 250 层", field="data"
        ) from None
    if size > MAX_DATA_BYTES:
        raise ValidationFailed("填报内容过大", field="data")


def row_view(row: prepared.SubmissionRow) -> dict[str, Any]:
    """:meth:`TaskFlow.task_view` of a submission's row."""
    return view(
        task_id=row.task_id,
        campaign_id=row.campaign_id,
        campaign_title=row.campaign_title,
        deadline=row.deadline,
        mode=row.campaign_mode,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
        status=row.status,
        data=row.data,
        version=row.version,
        submitted_at=row.submitted_at,
        on_time=row.on_time,
    )


def view(
    *,
    task_id: int,
    campaign_id: int,
    campaign_title: str,
    deadline: datetime,
    mode: str,
    unit_code: str,
    unit_name: str,
    status: str,
    data: Any,
    version: int,
    submitted_at: datetime | None,
    on_time: bool | None,
) -> dict[str, Any]:
    """A task as the API shows it, whether read as records or as a submission's row."""
    deadline = aware(deadline)
    return {
        "id": task_id,
        "campaign_id": campaign_id,
        "campaign": campaign_title,
        "deadline": deadline.isoformat(),
        "mode": mode,
        "unit": {"code": unit_code, "name": unit_name},
        "status": status,
        "data": data,
        "version": version,
        "submitted_at": aware(submitted_at).isoformat() if submitted_at else None,
        "on_time": on_time,
        "overdue": status != "submitted" and utcnow() > deadline,
    }


def event_payload(
    campaign_id: int, task_id: int, unit_code: str, unit_id: int, status: str, version: int
) -> dict[str, Any]:
    """The payload of a task's ``collection.submission.*`` event."""
    return {
        "campaign_id": campaign_id,
        "task_id": task_id,
        "unit_code": unit_code,
        "unit_id": unit_id,
        "status": status,
        "version": version,
    }


def refuse_unless_open(status: str, withdrawn: bool, starts_at: datetime) -> None:
    """409 for a task whose campaign is closed or not yet started, or that was withdrawn."""
    if status != "open" or withdrawn:
        raise Conflict("该采集任务已结束", field="campaign")
    if utcnow() < aware(starts_at):
        raise Conflict("该采集任务尚未开始", field="campaign")


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
