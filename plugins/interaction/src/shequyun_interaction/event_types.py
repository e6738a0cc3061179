"""The events 居社互动 publishes (declared through ``register_event_types``).

Residents are ``resident_id``; units ``unit_code`` with ``unit_id`` (the SDK's convention). The
SMS event is the only one carrying a phone number: it exists to send one message to it.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.events import DATE, MOMENT, RESIDENT_ID, UNIT, EventType, payload

__all__ = ["EVENT_TYPES"]

ID = {"type": "integer", "minimum": 1}
TEXT = {"type": "string"}
LEVEL = {"enum": ["city", "district", "street", "committee"]}
NULLABLE_INT: dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
RESULT = {
    "type": "object",
    "properties": {
        "counts": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "abstained": {"type": "integer", "minimum": 0},
        "ballots": {"type": "integer", "minimum": 0},
        "electorate": {"type": "integer", "minimum": 0},
        "turnout": {"type": "number", "minimum": 0},
        "winner": NULLABLE_INT,
        "threshold": {"anyOf": [TEXT, {"type": "null"}]},
        "passed": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        "closed_at": MOMENT,
    },
    "required": [
        "counts",
        "abstained",
        "ballots",
        "electorate",
        "turnout",
        "winner",
        "passed",
        "closed_at",
    ],
    "additionalProperties": False,
}
ITEM = {
    "type": "object",
    "properties": {"kind": TEXT, "title": TEXT, "link": TEXT},
    "required": ["kind", "title", "link"],
    "additionalProperties": False,
}
COMMITTEE = {"unit_code": "310115004001", "unit_id": 4}

EVENT_TYPES = (
    EventType(
        "interaction.announcement.published",
        "A cadre published an announcement (社区公告) for their unit and everyone below it.",
        payload({"announcement_id": ID, **UNIT, "unit_level": LEVEL}),
        example={"announcement_id": 3, **COMMITTEE, "unit_level": "committee"},
    ),
    EventType(
        "interaction.topic.opened",
        "A committee opened a topic for residents to vote and comment on (议事厅).",
        payload({"topic_id": ID, **UNIT}),
        example={"topic_id": 5, **COMMITTEE},
    ),
    EventType(
        "interaction.topic.closed",
        "A topic closed (a cadre closed it, or its deadline passed) with its tally.",
        payload({"topic_id": ID, **UNIT, "result": RESULT}),
        example={
            "topic_id": 5,
            **COMMITTEE,
            "result": {
                "counts": [120, 31],
                "abstained": 4,
                "ballots": 155,
                "electorate": 200,
                "turnout": 0.775,
                "winner": 0,
                "threshold": "2/3",
                "passed": False,
                "closed_at": "2026-05-01T20:00:00+08:00",
            },
        },
    ),
    EventType(
        "interaction.request.submitted",
        "A resident (or a cadre for them) asked their committee for a service (在线服务).",
        payload(
            {"request_id": ID, **UNIT, "category": {"enum": ["certificate", "repair", "help"]}}
        ),
        example={"request_id": 12, **COMMITTEE, "category": "repair"},
    ),
    EventType(
        "interaction.content.hidden",
        "A post or comment was hidden after enough residents reported it; it waits for a "
        "moderator.",
        payload(
            {
                "target_type": {"enum": ["post", "comment", "topic_comment"]},
                "target_id": ID,
                **UNIT,
            }
        ),
        example={"target_type": "post", "target_id": 40, **COMMITTEE},
    ),
    EventType(
        "interaction.notification",
        "A resident was sent a notification (shown in their inbox at once).",
        payload(
            {
                "notification_id": ID,
                "resident_id": RESIDENT_ID,
                "kind": TEXT,
                "title": TEXT,
                "link": TEXT,
            }
        ),
        example={
            "notification_id": 77,
            "resident_id": 1024,
            "kind": "announcement",
            "title": "一村停水通知",
            "link": "/announcements/3",
        },
    ),
    EventType(
        "interaction.digest",
        "A resident's daily digest of notifications (at most 20 items listed of ``count``).",
        payload(
            {
                "resident_id": RESIDENT_ID,
                "day": DATE,
                "count": {"type": "integer", "minimum": 1},
                "items": {"type": "array", "items": ITEM, "maxItems": 20},
            }
        ),
        example={
            "resident_id": 1024,
            "day": "2026-05-01",
            "count": 1,
            "items": [
                {"kind": "announcement", "title": "一村停水通知", "link": "/announcements/3"}
            ],
        },
    ),
    EventType(
        "interaction.sms",
        "A text message to send to ``phone`` (a sign-up code): a plugin that talks to the SMS "
        "gateway subscribes; ``params`` are the template parameters.",
        payload(
            {
                "phone": {"type": "string", "minLength": 3},
                "purpose": TEXT,
                "text": TEXT,
                "params": {"type": "object"},
            }
        ),
        example={
            "phone": "13800000000",
            "purpose": "signup",
            "text": "【社区云】验证码 123456，用于注册居社互动，10 分钟内有效。",
            "params": {"code": "123456", "minutes": 10},
        },
        # The phone and the code: encrypted while the event waits, never in the change feed.
        sealed=("phone", "text", "params"),
    ),
)
