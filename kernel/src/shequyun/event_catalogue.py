"""The catalogue of declared event types, collected from every active plugin.

Plugins declare what they publish through ``register_event_types``; the kernel's own types are
declared by its default plugins the same way (``residents``, ``collection``) and the SDK's
cross-plugin contracts (``case.*``) by ``core``. The event bus asks the catalogue about every
event it publishes: with ``strict_events`` (the test harness) an undeclared type or a payload
that breaks its declaration is refused; otherwise an undeclared type is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk.deprecation import deprecated
from shequyun_sdk.events import EventContractError, EventType

from .plugin_host import PluginHost

__all__ = ["EventCatalogue"]

log = logging.getLogger("shequyun.events")


@dataclass
class EventCatalogue:
    types: dict[str, EventType] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    #: Plugins that declare no event types (written for SDK 0.1): see :meth:`check`.
    undeclaring: set[str] = field(default_factory=set)
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def collect(cls, host: PluginHost, *, strict: bool = False) -> EventCatalogue:
        """Every active plugin's declarations; a plugin with a bad one is marked failed."""
        catalogue = cls(strict=strict)
        for record in host.active_records():
            try:
                declared = list(host.call(record, "register_event_types") or [])
                catalogue._add(record.name, declared, builtin=record.builtin)
                if not declared and not record.builtin:
                    catalogue.undeclaring.add(record.name)
            except (EventContractError, TypeError, ValueError) as exc:
                catalogue._drop(record.name)
                host.fail(record.name, f"register_event_types: {exc}", exc)
        return catalogue

    def _add(self, plugin: str, declared: list[Any], *, builtin: bool) -> None:
        for item in declared:
            if not isinstance(item, EventType):
                raise TypeError(f"{item!r} is not an EventType")
            # The kernel's features publish under their own nouns (resident.*, case.*).
            if not builtin and not item.name.startswith(f"{plugin}."):
                raise ValueError(f"event type {item.name!r} must start with {plugin + '.'!r}")
            owner = self.owners.get(item.name)
            if owner is not None and owner != plugin:
                raise ValueError(f"event type {item.name!r} is already declared by {owner!r}")
            self.types[item.name] = item
            self.owners[item.name] = plugin

    def _drop(self, plugin: str) -> None:
        for name in [n for n, owner in self.owners.items() if owner == plugin]:
            del self.types[name]
            del self.owners[name]

    def check(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """Refuse (strict) or log (otherwise) an event that its declaration does not allow."""
        declared = self.types.get(event_type)
        if declared is None:
            if self.strict and event_type.split(".")[0] in self.undeclaring:
                # A plugin written for SDK 0.1 knew no declarations: it keeps working.
                deprecated(
                    f"publishing the undeclared event type {event_type!r}",
                    removed_in="2.0",
                    instead="declare it in register_event_types (docs/plugins/events.md)",
                    stacklevel=5,
                )
                return
            if self.strict:
                raise EventContractError(
                    f"event type {event_type!r} is not declared: declare it in the publishing "
                    "plugin's register_event_types hook (docs/plugins/events.md)"
                )
            if event_type not in self._warned:
                self._warned.add(event_type)
                log.warning("event type %s is published but not declared", event_type)
            return
        if self.strict:
            declared.check(payload)
