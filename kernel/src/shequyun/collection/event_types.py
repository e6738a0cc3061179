"""The events one-click collection publishes (declared for ``register_event_types``).

A subscriber reads what an event points at through the Platform, in its actor's scope:
``Platform.get_campaign``, ``get_task`` and ``get_submission`` (the answers).
"""

from __future__ import annotations

from shequyun_sdk.events import MOMENT, UNIT, EventType, payload

__all__ = ["EVENT_TYPES"]

ID = {"type": "integer", "minimum": 1}
TASK_STATUS = {"enum": ["submitted", "returned"], "description": "the task's status after the step"}

CAMPAIGN_OPENED = EventType(
    "collection.campaign.opened",
    "A bureau published a campaign: one task per target committee, ``tasks`` of them, due at "
    "``deadline``.",
    payload({"campaign_id": ID, "tasks": {"type": "integer", "minimum": 0}, "deadline": MOMENT}),
    example={"campaign_id": 7, "tasks": 12, "deadline": "2026-05-20T17:00:00+08:00"},
)

_SUBMISSION = {
    "campaign_id": ID,
    "task_id": ID,
    **UNIT,
    "status": TASK_STATUS,
    "version": {"type": "integer", "minimum": 1, "description": "the task's version"},
}
_SUBMISSION_EXAMPLE = {
    "campaign_id": 7,
    "task_id": 31,
    "unit_code": "310115004001",
    "unit_id": 4,
    "status": "submitted",
    "version": 2,
}

SUBMISSION_CREATED = EventType(
    "collection.submission.created",
    "A committee submitted its task for the first time. Read the answers with "
    "``Platform.get_submission(session, actor, task_id)``.",
    payload(_SUBMISSION),
    example=_SUBMISSION_EXAMPLE,
)

SUBMISSION_CHANGED = EventType(
    "collection.submission.changed",
    "A committee submitted again after its submission was returned (the answers replace the "
    "earlier ones).",
    payload(_SUBMISSION),
    example={**_SUBMISSION_EXAMPLE, "version": 4},
)

SUBMISSION_RETURNED = EventType(
    "collection.submission.returned",
    "The publisher returned a submission for correction, saying why in ``comment``.",
    payload({**_SUBMISSION, "comment": {"type": "string", "minLength": 2, "maxLength": 1000}}),
    example={**_SUBMISSION_EXAMPLE, "status": "returned", "version": 3, "comment": "人数有误"},
)

REMINDER = EventType(
    "collection.reminder",
    "The publisher reminded a committee that has not submitted; one event per committee. A "
    "plugin that sends messages (SMS, 政务微信) turns it into a notice.",
    payload(
        {
            "campaign_id": ID,
            "title": {"type": "string"},
            "task_id": ID,
            **UNIT,
            "deadline": MOMENT,
        }
    ),
    example={
        "campaign_id": 7,
        "title": "老旧小区加装电梯意愿摸底",
        "task_id": 32,
        "unit_code": "310115004002",
        "unit_id": 5,
        "deadline": "2026-05-20T17:00:00+08:00",
    },
)

EVENT_TYPES = (
    CAMPAIGN_OPENED,
    SUBMISSION_CREATED,
    SUBMISSION_CHANGED,
    SUBMISSION_RETURNED,
    REMINDER,
)
