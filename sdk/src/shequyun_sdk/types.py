"""Value types that hooks return and receive.

Every type here is a frozen dataclass: plugins build them, the kernel reads them. Titles come in
Chinese first (``title``) with an English twin (``title_en``), because the portal speaks zh-CN
and English follows through the translation layer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .identity import UnitRef

__all__ = [
    "Event",
    "NavEntry",
    "Permission",
    "PluginContext",
    "ResidentAttribute",
    "ResidentPanel",
    "Role",
    "ScheduledJob",
    "Subscriber",
    "TagDefinition",
    "Visitor",
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


#: ``handler(event)``; a handler may also accept ``actor`` (the plugin's own actor) by name.
EventHandler = Callable[..., None]


@dataclass(frozen=True)
class Subscriber:
    """A handler for events whose type matches ``event``.

    ``handler(event)`` is called with the :class:`Event`; if it also names an ``actor``
    parameter (``def handle(event, actor)``) it receives its plugin's own actor, for the Platform
    calls it makes. If it names a ``session`` parameter (``def handle(event, session)``) it
    receives the delivery's own database session: what it writes there commits together with
    the delivery being marked done, and is rolled back if it raises, so its effect happens
    exactly once even when a worker dies mid-delivery (do not commit the session yourself).
    Without it, deliveries are at least once: make the handler idempotent (use ``event.id``).

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


#: ``handler()``, or with any of the keyword arguments ``scheduled_for`` and ``actor``.
JobHandler = Callable[..., object]

_JOB_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")
_DAILY_AT = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class ScheduledJob:
    """Work the platform runs on a schedule: every ``every``, or daily at ``daily_at``.

    Give exactly one of ``every`` (a :class:`~datetime.timedelta` of whole minutes, at least
    one: ``timedelta(hours=1)``) and ``daily_at`` (``"HH:MM"``, Beijing time, Asia/Shanghai).
    ``name`` (lower case letters, digits, ``_ . -``) is prefixed with the plugin's name by the
    kernel: job ``digest`` of plugin ``interaction`` is ``interaction.digest`` in
    ``shequyun jobs``. Keep it stable across releases: the schedule table is keyed by it.

    ``handler`` closes over ``platform``, as event handlers do, and may name the parameters
    ``scheduled_for`` (the aware datetime in Beijing time that this run was due, or the moment of
    a run started by hand: the day a daily job covers is ``scheduled_for.date()``, and it
    follows the test clock of the ``scheduled_jobs`` fixture) and ``actor`` (the plugin's own
    actor). What it returns, when not None, is recorded as the run's one-line summary
    (``"发出 12 份汇总"``);
    an exception is recorded as the run's error, and the job runs again at its next due time.
    """

    name: str
    handler: JobHandler
    every: timedelta | None = None
    daily_at: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _JOB_NAME.fullmatch(self.name):
            raise ValueError(
                f"job name {self.name!r} must be lower case letters, digits, '_', '.' or '-'"
            )
        if not callable(self.handler):
            raise ValueError(f"the handler of job {self.name!r} is not callable")
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"job {self.name!r} needs exactly one of every= and daily_at=")
        if self.every is not None and (
            not isinstance(self.every, timedelta)
            or self.every < timedelta(minutes=1)
            or self.every % timedelta(minutes=1)
        ):
            raise ValueError(f"job {self.name!r}: every= must be whole minutes, at least one")
        if self.daily_at is not None and (
            not isinstance(self.daily_at, str) or not _DAILY_AT.fullmatch(self.daily_at)
        ):
            raise ValueError(f"job {self.name!r}: daily_at= must be 'HH:MM', such as '03:30'")

    @property
    def schedule(self) -> str:
        """The schedule in words: ``every 15m``, ``every 2h``, ``daily 03:30``."""
        if self.daily_at is not None:
            return f"daily {self.daily_at}"
        assert self.every is not None
        minutes = int(self.every / timedelta(minutes=1))
        return f"every {minutes // 60}h" if minutes % 60 == 0 else f"every {minutes}m"


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


@dataclass(frozen=True)
class Visitor:
    """Who is looking at the portal when no staff user is logged in, as a plugin knows them.

    Returned by ``visitor_from_request``. ``name`` is shown in the portal's header (``王秀英``);
    ``href`` links it to the plugin's account page; ``logout_href`` is where the header's
    退出 button posts (with the page's ``csrf_token``) to sign them out of the plugin.
    ``account_key`` (since 1.1) names the signed-in account stably (``"account:42"``, unique
    within your plugin): the portal then keeps the visitor's display settings such as 大字模式
    with that account, across browsers; without it they stay in the browser.

    ``resident_id`` and ``committee`` (since 1.4) say which resident of the register the
    visitor proved to be, and the committee holding that record, when the plugin that signed
    them in verified them (居社互动 does, by ID number or a committee's 核验码); None for an
    account not verified. Other plugins read them with ``platform.visitor(request)`` to serve
    a resident their own things (their meals, their bookings).
    """

    name: str
    href: str | None = None
    logout_href: str | None = None
    account_key: str | None = None
    resident_id: int | None = None
    committee: UnitRef | None = None


# -- resident panels (advisors, issue 16) -----------------------------------------------------


@dataclass(frozen=True)
class ResidentPanel:
    """A panel a plugin adds to a resident's detail page (``resident_panels``).

    Either ``lines`` (plain text, escaped when shown) or a ``template`` of the plugin
    (``"<plugin>/<file>"``, see ``register_templates``) rendered with ``context`` as the
    variable ``panel`` — the template sees the page's ``_``, ``request`` and ``csrf_token`` too.
    ``href`` links the panel's title to the plugin's page; panels are sorted by ``order``,
    then title.
    """

    title: str
    lines: tuple[str, ...] = ()
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    href: str | None = None
    order: int = 100
