"""Event types as a contract: each event is declared once, with a JSON Schema and a version.

A plugin that publishes events declares them through the ``register_event_types`` hook::

    from shequyun_sdk.events import EventType, UNIT, payload

    CHECKED_IN = EventType(
        "garbage.checked_in",
        "A committee recorded its daily garbage-sorting check.",
        payload({**UNIT, "day": DATE, "households": {"type": "integer", "minimum": 0}}),
        example={"unit_code": "310104003001", "unit_id": 12, "day": "2026-05-01",
                 "households": 40},
    )

    @hookimpl
    def register_event_types():
        return [CHECKED_IN]

Others subscribe to ``garbage.checked_in`` knowing exactly what the payload holds, and
``docs/plugins/events.md`` lists every type the kernel and the first-party plugins publish.

Conventions every payload follows (the schema pieces below spell them out):

- a unit is named by its 12-digit ``unit_code`` and, beside it, its ``unit_id`` (:data:`UNIT`);
  other units in the same event get a prefix (``from_unit_code``/``from_unit_id``,
  :func:`unit_fields`);
- a resident is ``resident_id`` (:data:`RESIDENT_ID`), a platform user ``user_id``; names of
  people appear only where the event is meant to be shown to someone, never ID or phone numbers
  (except where an adapter must reach someone — an SMS to a phone — and then those fields are
  ``sealed``, below);
- moments are ISO 8601 strings with their offset (:data:`MOMENT`), days ``YYYY-MM-DD``
  (:data:`DATE`).

Secrets and personal data: a field that must travel to a subscriber but must not lie readable
in the database or leave the platform (a phone number, a one-time code's text) is named in
``sealed``. The platform keeps it encrypted under its data key in the outbox, hands it to
subscribers inside the platform in clear, and leaves it out of everything that leaves: the
change feed, webhooks and the message-broker bridge (since SDK 1.1).

Versions: a declaration's ``version`` starts at 1. Adding an optional field keeps the version;
renaming, removing or changing the meaning of a field publishes a new version and keeps the old
field through a deprecation that names the SDK release removing it (``deprecated``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

__all__ = [
    "DATE",
    "MOMENT",
    "RESIDENT_ID",
    "UNIT",
    "UNIT_CODE",
    "UNIT_ID",
    "EventContractError",
    "EventType",
    "payload",
    "unit_fields",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

#: A 12-digit org-unit code (``310115004001``), the stable name of a unit.
UNIT_CODE: dict[str, Any] = {
    "type": "string",
    "pattern": "^[0-9]{12}$",
    "description": "12-digit org-unit code",
}
#: The platform's id of an org unit (for joining with your own tables that store it).
UNIT_ID: dict[str, Any] = {"type": "integer", "minimum": 1, "description": "org-unit id"}
#: A resident's id in the unified resident base; one field's schema: ``"resident_id": RESIDENT_ID``.
RESIDENT_ID: dict[str, Any] = {"type": "integer", "minimum": 1, "description": "resident id"}
#: A moment, ISO 8601 with its UTC offset.
MOMENT: dict[str, Any] = {"type": "string", "format": "date-time"}
#: A calendar day, ``YYYY-MM-DD``.
DATE: dict[str, Any] = {"type": "string", "format": "date"}


def unit_fields(prefix: str = "") -> dict[str, Any]:
    """The two fields naming a unit: ``<prefix>unit_code`` and ``<prefix>unit_id``."""
    return {f"{prefix}unit_code": UNIT_CODE, f"{prefix}unit_id": UNIT_ID}


#: ``unit_code`` and ``unit_id``: the unit an event is about. Two fields: spread it (``**UNIT``).
UNIT: dict[str, Any] = unit_fields()


def payload(
    properties: Mapping[str, Any],
    *,
    optional: Iterable[str] = (),
    nullable: Iterable[str] = (),
) -> dict[str, Any]:
    """A payload schema: an object with exactly ``properties``, all required but ``optional``.

    ``properties`` maps each field to its JSON Schema: spread the field sets (:data:`UNIT`,
    :func:`unit_fields`) and name the single-field pieces (``"resident_id": RESIDENT_ID``,
    ``"day": DATE``); anything else than a schema is an :class:`EventContractError` naming the
    field. Fields in ``nullable`` may also be ``null``. No other fields are allowed, so a publisher
    that adds a field without declaring it is caught by the tests (see
    ``docs/plugins/events.md``).
    """
    optional = set(optional)
    nullable = set(nullable)
    for name, schema in properties.items():
        if not isinstance(schema, Mapping):
            # **RESIDENT_ID spreads a schema's own keys ("type": "integer") as if they were fields.
            raise EventContractError(
                f"payload(): field {name!r} should have a JSON Schema (a dict), not {schema!r}. "
                "Spread field sets with ** ({**UNIT, ...}) and give single-field pieces a name "
                '("resident_id": RESIDENT_ID, "day": DATE, "at": MOMENT)'
            )
    props = {
        name: ({"anyOf": [schema, {"type": "null"}]} if name in nullable else dict(schema))
        for name, schema in properties.items()
    }
    return {
        "type": "object",
        "properties": props,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


class EventContractError(ValueError):
    """An event type's declaration is malformed, or a published payload breaks it."""


@dataclass(frozen=True)
class EventType:
    """The declaration of one event type.

    ``name`` is dotted and starts with the declaring plugin's name (``garbage.checked_in``);
    ``description`` says when it is published, in a sentence; ``schema`` is the JSON Schema
    (draft 2020-12) of the payload, ``example`` a payload that satisfies it (shown in the docs,
    and checked). ``deprecated`` maps a field kept for old subscribers to what replaces it and
    the SDK release that removes it (``{"unit_id": "use unit_code; removed in 2.0"}``).
    ``sealed`` names top-level fields kept encrypted at rest and never sent outside the
    platform (see the module's notes; new in SDK 1.1).
    """

    name: str
    description: str
    schema: Mapping[str, Any]
    example: Mapping[str, Any]
    version: int = 1
    deprecated: Mapping[str, str] = field(default_factory=dict)
    sealed: tuple[str, ...] = ()
    _validator: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = self.problems_of_declaration()
        if problems:
            raise EventContractError(f"event type {self.name!r}: " + "; ".join(problems))

    def problems_of_declaration(self) -> list[str]:
        problems = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            problems.append("the name must be dotted lower-case, like 'plugin.thing_happened'")
        if not isinstance(self.version, int) or self.version < 1:
            problems.append("version must be a whole number from 1")
        if isinstance(self.sealed, str) or not all(isinstance(n, str) for n in self.sealed):
            problems.append("sealed must be a tuple of field names")
        else:
            declared = (self.schema or {}).get("properties", {})
            problems += [
                f"sealed field {name!r} is not a property of the schema"
                for name in self.sealed
                if name not in declared
            ]
        try:
            jsonschema.Draft202012Validator.check_schema(dict(self.schema))
        except jsonschema.SchemaError as exc:
            problems.append(f"schema: {exc.message}")
            return problems
        validator = jsonschema.Draft202012Validator(
            dict(self.schema), format_checker=jsonschema.FormatChecker()
        )
        object.__setattr__(self, "_validator", validator)
        problems += [f"example: {p}" for p in self.problems(self.example)]
        return problems

    def problems(self, value: Mapping[str, Any]) -> list[str]:
        """Every way ``value`` breaks this declaration, each naming the field (empty if none)."""
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(payload)'}: {error.message}"
            for error in sorted(
                self._validator.iter_errors(dict(value)), key=lambda e: list(e.path)
            )
        ]

    def check(self, value: Mapping[str, Any]) -> None:
        """Raise :class:`EventContractError` naming every problem of ``value``."""
        problems = self.problems(value)
        if problems:
            raise EventContractError(
                f"payload of {self.name} (version {self.version}) does not match its "
                "declaration: " + "; ".join(problems)
            )
