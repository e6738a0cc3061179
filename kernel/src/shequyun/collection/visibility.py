"""Conditional fields (``visible_if``): which fields an answer hides, in an order where a
condition is decided before the fields it hides, and stripping hidden answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import fields
from .fields import tag

MISSING = object()


# -- visible_if -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    name: str
    sibling: str
    wanted: frozenset[Any]


class VisibilityPlan:
    """The ``visible_if`` conditions of a form, by the dotted path of the object they are in."""

    def __init__(self, schema: dict[str, Any], ui: dict[str, Any]) -> None:
        index = fields.field_index(schema)
        specs = ui.get("fields") or {}
        found: dict[str, dict[str, Condition]] = {}
        for path, info in index.items():
            condition = (specs.get(path) or {}).get("visible_if")
            if condition:
                values = condition.get("in", [condition.get("equals")])
                sibling = index[condition["field"]].name
                wanted = frozenset(tag(value) for value in values)
                found.setdefault(info.parent, {})[info.name] = Condition(info.name, sibling, wanted)
        self.conditions = {parent: ordered_conditions(each) for parent, each in found.items()}
        self.shapes = {
            path: "rows" if "array" in fields.types_of(info.schema) else "object"
            for path, info in index.items()
            if info.kind in ("table", "address", "group")
        }
        # By parent, the keys that hold a table, address or group: only they are walked into
        # (a 250-question form has a few of them; the other answers are kept as they are).
        self.nested: dict[str, dict[str, tuple[str, str]]] = {}
        for path, shape in self.shapes.items():
            parent, _, key = path.rpartition(".")
            self.nested.setdefault(parent, {})[key] = (path, shape)

    def strip(self, value: object, parent: str) -> object:
        if not isinstance(value, dict):
            return value
        conditions = self.conditions.get(parent)
        hidden = hidden_fields(value, conditions) if conditions else ()
        kept = {key: item for key, item in value.items() if key not in hidden}
        for key, (path, shape) in self.nested.get(parent, {}).items():
            item = kept.get(key, MISSING)
            if item is MISSING:
                continue
            if shape == "object":
                kept[key] = self.strip(item, path)
            elif isinstance(item, list):
                kept[key] = [self.strip(row, path) for row in item]
        return kept


def ordered_conditions(conditions: dict[str, Condition]) -> list[Condition]:
    """Conditions so that a field's sibling is decided before it (``check_ui`` refused loops)."""
    done: list[Condition] = []
    placed: set[str] = set()
    for condition in conditions.values():
        chain = [condition]
        while chain[-1].sibling in conditions and chain[-1].sibling not in placed:
            chain.append(conditions[chain[-1].sibling])
        for each in reversed(chain):
            if each.name not in placed:
                placed.add(each.name)
                done.append(each)
    return done


def is_shown(value: object, wanted: frozenset[Any]) -> bool:
    """A condition met: the sibling's value is wanted or, for a multiple choice, contains one."""
    if isinstance(value, list):
        return any(tag(item) in wanted for item in value)
    return tag(value) in wanted


def hidden_fields(value: dict[str, Any], conditions: Any) -> set[str]:
    hidden: set[str] = set()
    for condition in conditions:
        sibling = value.get(condition.sibling, MISSING)
        if (
            sibling is MISSING
            or condition.sibling in hidden
            or not is_shown(sibling, condition.wanted)
        ):
            hidden.add(condition.name)
    return hidden
