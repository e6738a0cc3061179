"""The indicators every active plugin declared through ``register_indicators``, checked once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shequyun_sdk.indicators import Indicator

from ..identity.permissions import PermissionRegistry
from ..plugin_host import PluginHost

__all__ = ["Declared", "IndicatorRegistry"]


@dataclass(frozen=True)
class Declared:
    """An indicator as the platform knows it: its full name (``<plugin>.<name>``) and plugin."""

    name: str
    plugin: str
    spec: Indicator

    @property
    def title(self) -> str:
        return self.spec.title


class IndicatorRegistry:
    """Collects the indicators at start-up; lists those whose plugin is still active."""

    def __init__(self, host: PluginHost, permissions: PermissionRegistry) -> None:
        self.host = host
        self.permissions = permissions
        self._declared: dict[str, Declared] | None = None
        self._lock = threading.Lock()

    def collect(self) -> None:
        """Ask every active plugin for its indicators; a bad answer marks that plugin failed."""
        declared: dict[str, Declared] = {}
        for record, indicators in self.host.collect("register_indicators"):
            found: dict[str, Declared] = {}
            try:
                for spec in indicators:
                    if not isinstance(spec, Indicator):
                        raise TypeError(f"{spec!r} is not an Indicator")
                    name = f"{record.name}.{spec.name}"
                    if name in found:
                        raise ValueError(f"two indicators are named {spec.name!r}")
                    if spec.permission not in self.permissions.permissions:
                        raise ValueError(
                            f"indicator {spec.name!r} names an unknown permission "
                            f"{spec.permission!r}"
                        )
                    found[name] = Declared(name, record.name, spec)
            except (TypeError, ValueError) as exc:
                self.host.fail(record.name, f"register_indicators returned a bad value: {exc}", exc)
                continue
            declared.update(found)
        self._declared = declared

    def _all(self) -> dict[str, Declared]:
        if self._declared is None:
            with self._lock:
                if self._declared is None:
                    self.collect()
        assert self._declared is not None
        return self._declared

    def active(self) -> list[Declared]:
        """The indicators of active plugins, in dashboard order (``order``, then title)."""
        return sorted(
            (d for d in self._all().values() if self.host.is_active(d.plugin)),
            key=lambda d: (d.spec.order, d.spec.title, d.name),
        )

    def get(self, name: str) -> Declared | None:
        """The indicator named ``name`` if its plugin is active."""
        found = self._all().get(name)
        return found if found is not None and self.host.is_active(found.plugin) else None
