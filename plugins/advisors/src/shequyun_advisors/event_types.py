"""The events 社区民生顾问 publishes (declared through ``register_event_types``)."""

from __future__ import annotations

from shequyun_sdk.events import RESIDENT_ID, UNIT, EventType, payload

from .core import STATUSES
from .notices import CHUNK, NOTICE_EVENT

__all__ = ["EVENT_TYPES"]

TEXT = {"type": "string"}
POLICY = {"type": "string", "minLength": 1, "maxLength": 60}

EVENT_TYPES = (
    EventType(
        NOTICE_EVENT,
        "An advisor asked for residents who may be eligible for a policy (政策找人) to be told "
        "so; a messaging plugin (居社互动) turns it into notifications. Long lists come in "
        f"several events of at most {CHUNK} residents.",
        payload(
            {
                "policy_id": POLICY,
                "policy_name": TEXT,
                **UNIT,
                "title": TEXT,
                "text": TEXT,
                "link": TEXT,
                "resident_ids": {"type": "array", "items": RESIDENT_ID, "maxItems": CHUNK},
            }
        ),
        example={
            "policy_id": "elderly_meal_subsidy",
            "policy_name": "老年助餐补贴",
            "unit_code": "310105001001",
            "unit_id": 30,
            "title": "您可能符合「老年助餐补贴」",
            "text": "社区民生顾问提示：您可能可以享受「老年助餐补贴」。",
            "link": "/",
            "resident_ids": [1024, 1025],
        },
    ),
    EventType(
        "advisors.case.updated",
        "An outreach case (one resident, one policy) changed status.",
        payload(
            {
                "case_id": {"type": "integer", "minimum": 1},
                "policy_id": POLICY,
                **UNIT,
                "status": {"enum": sorted(STATUSES)},
            }
        ),
        example={
            "case_id": 5,
            "policy_id": "elderly_meal_subsidy",
            "unit_code": "310105001001",
            "unit_id": 30,
            "status": "receiving",
        },
    ),
)
