"""Where each plugin is switched on: the whole city, or some districts and streets.

A rule says "plugin P is on (or off) at unit U and below". For an actor, the most specific rule
on the path from the city down to the actor's unit decides; with no rule, the plugin's manifest
decides (``"enabled_by_default"``, true unless the plugin says otherwise). A visitor whose unit
is not known (anonymous, a resident signed in to a plugin) follows the city's rule, if any. A
plugin switched on somewhere below the actor's unit is also available to them, so the district
that oversees a street's app can open it. Where a plugin is not available its navigation is
hidden and its pages and API answer 404.

Rules are few and change rarely, so each process keeps them in memory and re-reads them every
few seconds (and at once after a change it made itself).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from shequyun_sdk import NotFound
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from .identity import audit, orgunits
from .identity.models import OrgUnit
from .plugin_host import PluginHost

__all__ = ["Enablement", "PluginEnablement"]

REFRESH_SECONDS = 5.0
MANAGE = "identity.plugins.manage"


class PluginEnablement(SQLModel, table=True):
    __tablename__ = "kernel_plugin_enablement"

    plugin: str = Field(max_length=40, primary_key=True)
    unit_id: int = Field(foreign_key="kernel_org_unit.id", primary_key=True)
    unit_path: str = Field(max_length=400)
    enabled: bool = True
    changed_by: int | None = None
    changed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Rule:
    unit_id: int
    unit_path: str
    enabled: bool


class Enablement:
    """Answers "may this actor use this plugin here?" from the rules, cached briefly."""

    def __init__(self, engine: Engine, host: PluginHost) -> None:
        self.engine = engine
        self.host = host
        self._rules: dict[str, list[Rule]] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    def rules(self, plugin: str) -> list[Rule]:
        if time.monotonic() - self._loaded_at > REFRESH_SECONDS:
            self._reload()
        return self._rules.get(plugin, [])

    def _reload(self) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at <= REFRESH_SECONDS:
                return
            rules: dict[str, list[Rule]] = {}
            try:
                with Session(self.engine) as session:
                    for row in session.exec(select(PluginEnablement)):
                        rules.setdefault(row.plugin, []).append(
                            Rule(row.unit_id, row.unit_path, row.enabled)
                        )
            except Exception:  # before migrations (plugins list): no rules yet
                rules = {}
            self._rules = rules
            self._loaded_at = time.monotonic()

    def default(self, plugin: str) -> bool:
        record = self.host.records.get(plugin)
        if record is None:
            return False
        return bool(record.manifest.get("enabled_by_default", True))

    def allows(self, plugin: str, actor: Actor | None) -> bool:
        """Whether ``actor`` (None: anonymous) may use ``plugin``."""
        record = self.host.records.get(plugin)
        if record is None or not record.active:
            return False
        if record.builtin:
            return True
        rules = self.rules(plugin)
        if not rules:
            return self.default(plugin)
        if actor is None or actor.unit is None:
            return self._for_anyone(plugin, rules)
        path = actor.unit.path
        above = [r for r in rules if path.startswith(r.unit_path)]
        if above:
            decided = max(above, key=lambda r: len(r.unit_path)).enabled
            if decided:
                return True
        elif self.default(plugin):
            return True
        # Enabled somewhere inside the actor's own subtree: they oversee it.
        return any(r.enabled and r.unit_path.startswith(path) for r in rules)

    def _for_anyone(self, plugin: str, rules: list[Rule]) -> bool:
        """For a visitor whose place is not known (anonymous, or a resident signed in to a
        plugin): the rule for the whole city, which holds everyone, else the manifest's
        default. Rules for a district or below say nothing about them."""
        city = {r.enabled for r in rules if r.unit_path.strip("/").count("/") == 0}
        if len(city) == 1:
            return city.pop()
        return self.default(plugin)

    def enabled_at(self, plugin: str, unit: UnitRef) -> bool:
        """Whether ``plugin`` is switched on at ``unit``: the most specific rule on the unit's
        path, else the manifest's default. For people the kernel does not know (residents of a
        plugin), whose place is a unit rather than a grant."""
        record = self.host.records.get(plugin)
        if record is None or not record.active:
            return False
        if record.builtin:
            return True
        above = [r for r in self.rules(plugin) if unit.path.startswith(r.unit_path)]
        if not above:
            return self.default(plugin)
        return max(above, key=lambda r: len(r.unit_path)).enabled

    def set_rule(
        self,
        session: Session,
        plugin: str,
        unit_id: int,
        unit_path: str,
        enabled: bool | None,
        user_id: int | None,
    ) -> None:
        """Add, change or (``enabled=None``) remove the rule of ``plugin`` at a unit."""
        existing = session.get(PluginEnablement, (plugin, unit_id))
        if enabled is None:
            if existing is not None:
                session.delete(existing)
        elif existing is None:
            session.add(
                PluginEnablement(
                    plugin=plugin,
                    unit_id=unit_id,
                    unit_path=unit_path,
                    enabled=enabled,
                    changed_by=user_id,
                )
            )
        else:
            existing.enabled = enabled
            existing.changed_by = user_id
            existing.changed_at = datetime.now(UTC)
            session.add(existing)
        self.invalidate()

    def change(
        self,
        session: Session,
        actor: Actor | None,
        plugin: str,
        unit_code: str,
        enabled: bool | None,
    ) -> OrgUnit:
        """Switch ``plugin`` on or off at ``unit_code`` and below, or (``enabled=None``) remove
        the rule there, for an actor managing plugins on that unit. Audited
        ``plugin.enablement_changed``.

        A unit outside the actor's subtree is reported as not found (and the reach audited).
        The caller commits, then calls :meth:`invalidate` so that this process sees the change.
        """
        record = self.host.records.get(plugin)
        if record is None or record.builtin:
            raise NotFound("找不到该插件", field="name")
        unit = orgunits.find(session, unit_code, by=actor, permission=MANAGE, field="unit_code")
        assert unit.id is not None
        self.set_rule(
            session, plugin, unit.id, unit.path, enabled, actor.user_id if actor else None
        )
        audit.record(
            session,
            "plugin.enablement_changed",
            actor=actor,
            target_type="plugin",
            target_id=plugin,
            unit_id=unit.id,
            detail={"unit": unit.code, "enabled": enabled},
        )
        return unit

    def listing(self, session: Session, plugin: str) -> list[PluginEnablement]:
        return list(
            session.exec(
                select(PluginEnablement)
                .where(PluginEnablement.plugin == plugin)
                .order_by(col(PluginEnablement.unit_path))
            )
        )
