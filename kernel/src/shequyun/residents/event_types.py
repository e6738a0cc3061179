"""The events the unified resident base publishes (declared for ``register_event_types``)."""

from __future__ import annotations

from shequyun_sdk.events import DATE, RESIDENT_ID, UNIT, EventType, payload, unit_fields

__all__ = ["EVENT_TYPES"]

VERSION = {"type": "integer", "minimum": 1, "description": "the record's version after the change"}

CREATED = EventType(
    "resident.created",
    "A resident was registered (by a cadre, the API, an import or a plugin) in committee "
    "``unit_code``.",
    payload({"resident_id": RESIDENT_ID, **UNIT, "version": VERSION}),
    example={"resident_id": 1024, "unit_code": "310115004001", "unit_id": 4, "version": 1},
)

UPDATED = EventType(
    "resident.updated",
    "A resident's record changed; ``fields`` names what changed (never the values: read the "
    "record with ``Platform.get_resident`` in your actor's scope).",
    payload(
        {
            "resident_id": RESIDENT_ID,
            **UNIT,
            "version": VERSION,
            "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        }
    ),
    example={
        "resident_id": 1024,
        "unit_code": "310115004001",
        "unit_id": 4,
        "version": 3,
        "fields": ["phone", "tags"],
    },
)

MOVED = EventType(
    "resident.moved",
    "A resident was transferred from one committee to another (迁移); their address and "
    "household are cleared at the destination.",
    payload(
        {
            "resident_id": RESIDENT_ID,
            **unit_fields("from_"),
            **unit_fields("to_"),
            "effective_on": DATE,
            "version": VERSION,
        }
    ),
    example={
        "resident_id": 1024,
        "from_unit_code": "310115004001",
        "from_unit_id": 4,
        "to_unit_code": "310104003001",
        "to_unit_id": 10,
        "effective_on": "2026-05-01",
        "version": 4,
    },
)

REMOVED = EventType(
    "resident.removed",
    "A resident's record was closed (moved away, deceased); it stays in the history.",
    payload({"resident_id": RESIDENT_ID, **UNIT, "version": VERSION}),
    example={"resident_id": 1024, "unit_code": "310115004001", "unit_id": 4, "version": 5},
)

EVENT_TYPES = (CREATED, UPDATED, MOVED, REMOVED)
