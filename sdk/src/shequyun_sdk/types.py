"""Value types that hooks return and receive.

Every type here is a frozen dataclass: plugins build them, the kernel reads them. Titles come in
Chinese first (``title``) with an English twin (``title_en``), because the portal speaks zh-CN
and English follows through the translation layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Event",
    "NavEntry",
    "Permission",
    "PluginContext",
    "ResidentAttribute",
    "Role",
    "Subscriber",
    "TagDefinition",
    "WorkbenchCard",
]


@dataclass(frozen=True)
class Permission:
    """A named capability, checked against a user's grant and an org unit.

    ``name`` is dotted and starts with the plugin's name (``hello.greet``), so that two plugins
    can never define the same permission by accident. ``roles`` names existing roles (the
    kernel's built-in ones, such as ``identity.cadre``) that include this permission by default.
    """

    name: str
    title: str
    title_en: str = ""
    description: str = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    """A bundle of permissions that can be granted to a user on an org unit.

    ``levels`` lists the org-unit levels (``city``, ``district``, ``street``, ``committee``) at
    which the role may be granted; empty means any level.
    """

    name: str
    title: str
    permissions: tuple[str, ...]
    title_en: str = ""
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavEntry:
    """One entry in the portal's navigation.

    ``href`` is an absolute path; build it with :meth:`PluginContext.url`. ``permission`` hides the
    entry from users who lack it. Entries are sorted by ``order`` (smaller first), then label.
    """

    label: str
    href: str
    label_en: str = ""
    permission: str | None = None
    order: int = 100
    section: str = "main"


@dataclass(frozen=True)
class Event:
    """Something that happened in the platform, delivered to subscribers after its commit."""

    id: int
    type: str
    payload: Mapping[str, Any]
    occurred_at: datetime


EventHandler = Callable[[Event], None]


@dataclass(frozen=True)
class Subscriber:
    """A handler for events whose type matches ``event``.

    ``event`` is an exact type (``resident.updated``) or a prefix pattern ending in ``*``
    (``resident.*``, or ``*`` for everything). ``name`` identifies the subscriber in the
    delivery table; it must be stable across releases, because deliveries are recorded per
    name. It defaults to the handler's qualified name.
    """

    event: str
    handler: EventHandler
    name: str = ""

    def matches(self, event_type: str) -> bool:
        """Return whether this subscriber wants events of ``event_type``."""
        if self.event.endswith("*"):
            return event_type.startswith(self.event[:-1])
        return event_type == self.event


@dataclass(frozen=True)
class PluginContext:
    """What a plugin knows about itself; passed to every hook as ``plugin``.

    ``settings`` are the values configured for the plugin, already validated against the
    ``settings_schema`` of its manifest. ``mount`` is the path prefix of its pages and
    ``api_mount`` that of its API routes.
    """

    name: str
    version: str
    manifest: Mapping[str, Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    mount: str = ""
    api_mount: str = ""

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the plugin (``shequyun.plugin.<name>``)."""
        return logging.getLogger(f"shequyun.plugin.{self.name}")

    def url(self, path: str = "/") -> str:
        """The absolute URL path of one of this plugin's pages (``plugin.url("/list")``)."""
        return _join(self.mount, path)

    def api_url(self, path: str = "/") -> str:
        """The absolute URL path of one of this plugin's API routes."""
        return _join(self.api_mount, path)

    def static_url(self, path: str) -> str:
        """The URL of a file in the directory the plugin returned from ``register_static``."""
        return _join(f"/static/plugins/{self.name}", path)


def _join(prefix: str, path: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    return (prefix.rstrip("/") + path) or "/"


@dataclass(frozen=True)
class ResidentAttribute:
    """An extra attribute a plugin adds to every resident record.

    Stored under the plugin's namespace and addressed as ``<plugin>.<name>`` in the API, the
    portal and exports. ``schema`` is a JSON Schema (draft 2020-12) every written value must
    satisfy; ``None`` (absent) is always allowed. ``sensitive`` attributes are masked in
    listings like the ID number.
    """

    name: str
    title: str
    schema: Mapping[str, Any]
    title_en: str = ""
    sensitive: bool = False


@dataclass(frozen=True)
class TagDefinition:
    """A tag of the managed resident vocabulary (``独居老人``, ``低保``, ``退役军人``...).

    ``name`` is what cadres see and search by; it must be unique across plugins.
    """

    name: str
    description: str = ""


@dataclass(frozen=True)
class WorkbenchCard:
    """A card on a cadre's workbench (工作台): a title, a few lines, a link to the full page.

    ``lines`` are plain text (escaped when shown); ``value`` is an optional headline figure
    ("12", "85%"). Cards are sorted by ``order``, then title.
    """

    title: str
    lines: tuple[str, ...] = ()
    href: str | None = None
    value: str | None = None
    order: int = 100
