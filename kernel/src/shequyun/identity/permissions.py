"""The registry of permissions and roles, collected from every active plugin.

Plugins declare permissions and roles in their manifest and may add more through the
``register_permissions`` and ``register_roles`` hooks; the kernel's own come from its default
plugins the same way. A role may list ``"*"`` to mean every registered permission (the platform
administrator). A plugin whose role names an unknown permission, or whose permission names an
unknown role to hold it by default, is marked failed with the names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk.types import Permission, Role

from ..plugin_host import PluginHost, PluginRecord

__all__ = ["ALL_PERMISSIONS", "PERSONAL_DATA", "PermissionRegistry"]

ALL_PERMISSIONS = "*"

#: Permissions that show or hand out residents' personal data in full. Delegation must not reach
#: them: an admin may make the cadres who hold them, but may not hold them through a cadre.
PERSONAL_DATA = frozenset({"residents.reveal", "residents.export"})


@dataclass
class PermissionRegistry:
    permissions: dict[str, Permission] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    _expanded: dict[str, frozenset[str]] = field(default_factory=dict)
    _host: PluginHost | None = None
    _generation: int = 0

    @property
    def version(self) -> int:
        """Moves on when a plugin fails and its roles' permissions are withdrawn: actors made
        before then may hold permissions no role gives any more."""
        return self._host.generation if self._host is not None else 0

    @classmethod
    def collect(cls, host: PluginHost) -> PermissionRegistry:
        registry = cls()
        for record in host.active_records():
            try:
                registry._add_from(host, record)
            except ValueError as exc:
                host.fail(record.name, str(exc))
        # Failing one plugin withdraws its permissions, which may break another's roles.
        changed = True
        while changed:
            changed = False
            registry._drop_inactive(host)
            for record in host.active_records():
                unknown = registry._unknown_permissions(record.name)
                if unknown:
                    host.fail(record.name, f"roles name unknown permissions: {', '.join(unknown)}")
                    changed = True
                    continue
                unknown = registry._unknown_roles(record.name)
                if unknown:
                    # A misspelt role would silently give the permission to nobody.
                    host.fail(
                        record.name,
                        "permissions name unknown roles: " + ", ".join(unknown) + " (the roles "
                        "are listed in docs/plugins/roles.md)",
                    )
                    changed = True
                    continue
                unknown = sorted(
                    set(record.manifest.get("actor_permissions", [])) - registry.permissions.keys()
                )
                if unknown:
                    host.fail(record.name, f"actor_permissions names unknown: {', '.join(unknown)}")
                    changed = True
        registry._host = host
        registry._generation = host.generation
        return registry

    def _add_from(self, host: PluginHost, record: PluginRecord) -> None:
        manifest = record.manifest
        permissions = [
            Permission(
                p["name"],
                p["title"]["zh"],
                p["title"].get("en", ""),
                roles=tuple(p.get("roles", ())),
            )
            for p in manifest.get("permissions", [])
        ]
        roles = [
            Role(
                r["name"],
                r["title"]["zh"],
                tuple(r["permissions"]),
                r["title"].get("en", ""),
                tuple(r.get("levels", ())),
            )
            for r in manifest.get("roles", [])
        ]
        permissions += list(host.call(record, "register_permissions") or [])
        roles += list(host.call(record, "register_roles") or [])
        prefix = f"{record.name}."
        for permission in permissions:
            if not isinstance(permission, Permission) or not permission.name.startswith(prefix):
                raise ValueError(f"permission {permission!r} must be a Permission named {prefix}*")
            self.permissions[permission.name] = permission
            self.owners[permission.name] = record.name
        for role in roles:
            if not isinstance(role, Role) or not role.name.startswith(prefix):
                raise ValueError(f"role {role!r} must be a Role named {prefix}*")
            self.roles[role.name] = role
            self.owners[role.name] = record.name

    def _unknown_permissions(self, plugin: str) -> list[str]:
        unknown = []
        for name, role in self.roles.items():
            if self.owners[name] != plugin:
                continue
            unknown += [
                p for p in role.permissions if p != ALL_PERMISSIONS and p not in self.permissions
            ]
        return sorted(set(unknown))

    def _unknown_roles(self, plugin: str) -> list[str]:
        """``permission → role`` for each role a permission of ``plugin`` names that no active
        plugin defines."""
        return sorted(
            f"{name} → {role!r}"
            for name, permission in self.permissions.items()
            if self.owners[name] == plugin
            for role in permission.roles
            if role not in self.roles
        )

    def _drop_inactive(self, host: PluginHost) -> None:
        tables: tuple[dict[str, Any], ...] = (self.permissions, self.roles)
        for table in tables:
            for name in [n for n in table if not host.is_active(self.owners[n])]:
                del table[name]

    def permissions_of(self, role: str) -> frozenset[str]:
        """Every permission the role includes (empty for an unknown role).

        A plugin that fails after start-up takes its roles and permissions with it.
        """
        self._refresh()
        if role not in self._expanded:
            definition = self.roles.get(role)
            if definition is None:
                return frozenset()
            granted: Iterable[str] = definition.permissions
            if ALL_PERMISSIONS in definition.permissions:
                granted = self.permissions.keys()
            by_default = {n for n, p in self.permissions.items() if role in p.roles}
            self._expanded[role] = frozenset(
                p for p in {*granted, *by_default} if p in self.permissions
            )
        return self._expanded[role]

    def plugin_actor_permissions(self, plugin: str) -> frozenset[str]:
        """What plugin ``plugin``'s own actor holds: its own permissions and those its
        manifest lists in ``actor_permissions`` (of active plugins only)."""
        self._refresh()
        own = {name for name, owner in self.owners.items() if owner == plugin}
        declared: Iterable[str] = ()
        if self._host is not None and plugin in self._host.records:
            declared = self._host.records[plugin].manifest.get("actor_permissions", ())
        return frozenset(p for p in {*own, *declared} if p in self.permissions)

    def _refresh(self) -> None:
        """Drop the roles and permissions of plugins that failed since the last look."""
        if self._host is not None and self._generation != self._host.generation:
            self._drop_inactive(self._host)
            self._expanded.clear()
            self._generation = self._host.generation

    def role_allowed_at(self, role: str, level: str) -> bool:
        self.permissions_of(role)  # drops the roles of plugins that failed since
        definition = self.roles.get(role)
        return definition is not None and (not definition.levels or level in definition.levels)
