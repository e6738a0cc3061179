"""The events of data quality (declared for ``register_event_types``): rule changes, and the
merges and unmerges of duplicate resident records."""

from __future__ import annotations

from shequyun_sdk.events import RESIDENT_ID, UNIT, EventType, payload

__all__ = ["EVENT_TYPES"]

_MERGE = payload(
    {
        "merge_id": {"type": "integer", "minimum": 1},
        "kept_id": RESIDENT_ID,
        "merged_id": RESIDENT_ID,
        **UNIT,
    }
)
_MERGE_EXAMPLE = {
    "merge_id": 3,
    "kept_id": 1024,
    "merged_id": 2048,
    "unit_code": "310115004001",
    "unit_id": 4,
}

EVENT_TYPES = (
    EventType(
        "resident.merged",
        "Two records of one person were merged: ``merged_id`` is closed into ``kept_id`` (in "
        "committee ``unit_code``); each also gets a ``resident.updated``.",
        _MERGE,
        example=_MERGE_EXAMPLE,
    ),
    EventType(
        "resident.unmerged",
        "A merge was undone: ``merged_id`` is active again beside ``kept_id``.",
        _MERGE,
        example=_MERGE_EXAMPLE,
    ),
    EventType(
        "quality.rule_saved",
        "A data-quality rule was added or changed (its findings are recomputed).",
        payload(
            {
                "code": {"type": "string", "minLength": 1},
                "version": {"type": "integer", "minimum": 1},
            }
        ),
        example={"code": "age_over_110", "version": 2},
    ),
)
