"""The event the in-portal notices publish (declared for ``register_event_types``)."""

from __future__ import annotations

from shequyun_sdk.events import EventType, payload

from .service import KINDS, NOTICE_EVENT

__all__ = ["EVENT_TYPES"]

TEXT = {"type": "string"}

EVENT_TYPES = (
    EventType(
        NOTICE_EVENT,
        "A cadre got an in-portal notice (a new task, a reminder, a returned submission, a "
        "deadline within a day); an SMS adapter sends ``text`` to ``phone`` when there is one.",
        payload(
            {
                "notice_id": {"type": "integer", "minimum": 1},
                "user_id": {"type": "integer", "minimum": 1},
                "phone": TEXT,
                "kind": {"enum": sorted(KINDS)},
                "title": TEXT,
                "text": TEXT,
                "link": TEXT,
            },
            nullable=("phone",),
        ),
        example={
            "notice_id": 12,
            "user_id": 7,
            "phone": "13800000000",
            "kind": "reminder",
            "title": "请尽快填报：老旧小区加装电梯意愿摸底",
            "text": "【社区云】请尽快填报：老旧小区加装电梯意愿摸底。",
            "link": "/tasks/32",
        },
        sealed=("phone",),  # personal data: encrypted while it waits, never in the change feed
    ),
)
