"""The JSON Schema every policy file (YAML) must satisfy, shipped or added in the portal."""

from __future__ import annotations

from typing import Any

__all__ = ["LEAF_KINDS", "POLICY_SCHEMA", "REGISTRATIONS"]

REGISTRATIONS = {"huji": "本市户籍", "changzhu": "常住（外省市户籍）", "liudong": "流动人口"}

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{1,59}$"}
_LEAF_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,39}$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 400}
_REASONS = {
    "type": "object",
    "properties": {k: _TEXT for k in ("pass", "fail", "unknown", "confirm")},
    "additionalProperties": False,
}
_AGE = {"type": "integer", "minimum": 0, "maximum": 150}


def _leaf(kind: str, value: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"id": _LEAF_ID, kind: value, "label": _TEXT, "reason": _REASONS},
        "required": ["id", kind],
        "additionalProperties": False,
    }


LEAF_KINDS: dict[str, Any] = {
    "age_min": _AGE,
    "age_below": _AGE,
    "registration": {
        "type": "array",
        "items": {"enum": list(REGISTRATIONS)},
        "minItems": 1,
        "uniqueItems": True,
    },
    "gender": {"enum": ["male", "female"]},
    "tag": _TEXT,
    "tags_any": {"type": "array", "items": _TEXT, "minItems": 1, "uniqueItems": True},
    "attribute": {
        "type": "object",
        "properties": {
            "key": {"type": "string", "pattern": r"^[a-z0-9_]+\.[a-z0-9_]+$"},
            "type": {"enum": ["string", "integer"]},
            "in": {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
            "min": {"type": "integer"},
            "max": {"type": "integer"},
        },
        "required": ["key"],
        "additionalProperties": False,
    },
    "household_size": {
        "type": "object",
        "properties": {"min": {"type": "integer", "minimum": 1}, "max": {"type": "integer"}},
        "additionalProperties": False,
        "minProperties": 1,
    },
    "household_all_aged": _AGE,
    "household_child_under": _AGE,
    "place": {
        "type": "array",
        "items": {"type": "string", "pattern": r"^\d{12}$"},
        "minItems": 1,
    },
    "confirm": _TEXT,
}

_NODE_REF = {"$ref": "#/$defs/node"}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "id",
        "name",
        "issuer",
        "level",
        "category",
        "documents",
        "document",
        "effective",
        "conditions",
        "benefit",
        "receiving",
    ],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "version": {"type": "integer", "minimum": 1},
        "name": _TEXT,
        "name_en": _TEXT,
        "issuer": _TEXT,
        "level": {"enum": ["national", "city", "district", "street"]},
        "category": {"enum": ["elderly", "assistance", "disability", "children", "care"]},
        "summary": {"type": "string", "maxLength": 2000},
        "documents": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "title", "issuer"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "title": _TEXT,
                    "issuer": _TEXT,
                    "number": {"type": "string", "maxLength": 80},
                    "effective": _DATE,
                    "url": {"type": "string", "maxLength": 400},
                    "note": {"type": "string", "maxLength": 1000},
                },
            },
        },
        "document": _ID,
        "effective": {
            "type": "object",
            "required": ["from"],
            "additionalProperties": False,
            "properties": {"from": _DATE, "until": _DATE},
        },
        "conditions": _NODE_REF,
        "clue": _NODE_REF,
        "parameters": {
            "type": "object",
            "propertyNames": {"pattern": r"^[a-z][a-z0-9_]{0,39}$"},
            "additionalProperties": {
                "type": "object",
                "required": ["title", "unit", "values"],
                "additionalProperties": False,
                "properties": {
                    "title": _TEXT,
                    "unit": {"type": "string", "maxLength": 20},
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["from", "document"],
                            "additionalProperties": False,
                            "properties": {
                                "from": _DATE,
                                "document": _ID,
                                "value": {"type": "integer", "minimum": 0},
                                "bands": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["min_age", "value"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "min_age": _AGE,
                                            "max_age": _AGE,
                                            "value": {"type": "integer", "minimum": 0},
                                        },
                                    },
                                },
                            },
                            "oneOf": [{"required": ["value"]}, {"required": ["bands"]}],
                        },
                    },
                },
            },
        },
        "benefit": {
            "type": "object",
            "required": ["kind", "text"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["amount", "service"]},
                "text": _TEXT,
                "parameter": {"type": "string"},
                "per": {"enum": ["month", "year", "once"]},
            },
        },
        "receiving": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "tags": {"type": "array", "items": _TEXT},
                "attributes": {
                    "type": "array",
                    "items": {"type": "string", "pattern": r"^[a-z0-9_]+\.[a-z0-9_]+$"},
                },
                "recorded": {"type": "boolean"},
            },
        },
        "cases": {"type": "array", "items": {"type": "object"}},
    },
    "$defs": {
        "node": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["all"],
                    "additionalProperties": False,
                    "properties": {"all": {"type": "array", "items": _NODE_REF, "minItems": 1}},
                },
                {
                    "type": "object",
                    "required": ["any"],
                    "additionalProperties": False,
                    "properties": {"any": {"type": "array", "items": _NODE_REF, "minItems": 1}},
                },
                {
                    "type": "object",
                    "required": ["not"],
                    "additionalProperties": False,
                    "properties": {"not": _NODE_REF},
                },
                *(_leaf(kind, value) for kind, value in LEAF_KINDS.items()),
            ]
        }
    },
}
