"""Forms used by the collection tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ELDERLY_VISIT = {
    "schema": {
        "type": "object",
        "properties": {
            "visited": {"type": "boolean"},
            "living": {"enum": ["独居", "与配偶同住", "与子女同住"]},
            "needs": {
                "type": "array",
                "items": {"enum": ["助餐", "助浴", "助医", "助洁"]},
                "uniqueItems": True,
            },
            "phone": {"type": "string", "format": "phone"},
        },
        "required": ["visited", "living"],
        "additionalProperties": False,
    },
    "ui": {
        "order": ["visited", "living", "needs", "phone"],
        "fields": {
            "visited": {"label": "是否已上门走访", "widget": "switch"},
            "living": {"label": "居住情况", "widget": "radio"},
            "needs": {"label": "服务需求", "widget": "checkbox"},
            "phone": {"label": "联系电话", "widget": "phone"},
        },
    },
}

COMMITTEE_COUNT = {
    "schema": {
        "type": "object",
        "properties": {
            "households": {"type": "integer", "minimum": 0},
            "elevators_wanted": {"type": "integer", "minimum": 0},
            "remark": {"type": "string", "maxLength": 200},
        },
        "required": ["households"],
        "additionalProperties": False,
    },
    "ui": {
        "fields": {
            "households": {"label": "户数"},
            "elevators_wanted": {"label": "有意加装电梯的楼栋数"},
            "remark": {"label": "备注", "widget": "textarea"},
        },
    },
}


def deadline(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()
