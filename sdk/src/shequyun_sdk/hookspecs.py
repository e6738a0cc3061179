"""Every hook a shequyun plugin can implement: the whole plugin contract in one module.

Implement a hook by writing a function of the same name decorated with
:data:`shequyun_sdk.hookimpl` in your plugin module. You may accept any subset of the arguments a
hook offers, so hooks can gain arguments later without breaking you.

Arguments mean the same thing in every hook:

``plugin``
    The :class:`~shequyun_sdk.types.PluginContext` of the plugin being called (its name, settings
    and mount points). The kernel calls each plugin's implementation separately, so ``plugin`` is
    always *your* context.
``platform``
    The :class:`~shequyun_sdk.platform.Platform`: database sessions, events.
``request``
    The Starlette request being handled.

Hooks named ``register_*`` return lists (or a single path) that the kernel collects once at
start-up; ``extra_*`` hooks run for each request; ``on_*`` hooks are notifications.

Ordering: the kernel's own default plugins are called first, then installed plugins in an order
where every plugin comes after the plugins it ``requires``, ties broken by name. Within that, the
kernel sorts what needs sorting (navigation by ``order``), so do not rely on call order.

A hook that raises at start-up marks its plugin failed (with the reason shown in
``shequyun plugins list``); one that raises while a request is handled is logged and only that
plugin's contribution is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
from starlette.requests import Request
from starlette.routing import BaseRoute

from .events import EventType
from .identity import Actor
from .indicators import Indicator
from .platform import Platform
from .types import (
    NavEntry,
    Permission,
    PluginContext,
    ResidentAttribute,
    ResidentPanel,
    Role,
    ScheduledJob,
    Subscriber,
    TagDefinition,
    Visitor,
    WorkbenchCard,
)

PROJECT_NAME = "shequyun"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    """Return the plugin's page routes (Starlette ``Route`` or ``Mount`` objects).

    Called once at start-up. The routes are mounted under ``plugin.mount``
    (``/plugins/<name>``), so a route with path ``/`` answers at ``/plugins/<name>/``. Errors in
    these routes are shown as the portal's error page.
    """


@hookspec
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    """Return the plugin's API routes, mounted under ``plugin.api_mount``
    (``/api/v1/plugins/<name>``).

    Called once at start-up. Errors raised in these routes, including
    :class:`~shequyun_sdk.errors.ApiError`, leave as the platform's JSON error shape.
    """


@hookspec
def register_permissions(plugin: PluginContext) -> Sequence[Permission]:
    """Return permissions the plugin defines beyond those declared in its manifest.

    Called once at start-up. Use it when the set of permissions depends on settings; static
    permissions belong in ``MANIFEST["permissions"]``. Names must start with ``<plugin>.``.
    """


@hookspec
def register_roles(plugin: PluginContext) -> Sequence[Role]:
    """Return roles the plugin defines beyond those declared in its manifest.

    Called once at start-up. Names must start with ``<plugin>.``; a role may include the
    kernel's permissions and those of any active plugin.
    """


@hookspec
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    """Return the plugin's entries for the portal's navigation.

    Called once at start-up. Each entry is shown only to users holding its ``permission`` (when
    set) and only where the plugin is enabled.
    """


@hookspec
def register_models(plugin: PluginContext) -> Sequence[type]:
    """Return the plugin's SQLModel table classes.

    Called once at start-up; the tables themselves are created by the plugin's migrations (see
    ``register_migrations``), never at start-up. Name tables ``<plugin>_<thing>`` and do not
    add foreign keys into kernel tables: refer to kernel objects by their stable ids or codes.
    """


@hookspec
def register_migrations(plugin: PluginContext) -> str | Path | None:
    """Return the directory holding the plugin's Alembic revision files, or None.

    Called when migrations are applied (``shequyun db upgrade``) and when the kernel checks
    that the database is current. The plugin's first revision carries
    ``branch_labels = ("<plugin name>",)``; each plugin is its own Alembic branch.
    """


@hookspec
def register_templates(plugin: PluginContext) -> str | Path | None:
    """Return a directory of Jinja2 templates, or None.

    Called once at start-up. Templates are addressed with the plugin's name as prefix:
    ``hello/index.html`` is ``index.html`` in the directory returned by the ``hello`` plugin.
    """


@hookspec
def register_static(plugin: PluginContext) -> str | Path | None:
    """Return a directory of static files (scripts, styles, images), or None.

    Called once at start-up. Files are served at ``/static/plugins/<name>/``; build their URLs
    with ``plugin.static_url("app.css")``. Never link to an external CDN: the portal runs on
    closed government networks.
    """


@hookspec
def extra_template_vars(
    plugin: PluginContext, request: Request, template: str
) -> Mapping[str, Any] | None:
    """Return extra variables for rendering ``template`` while handling ``request``.

    Called for every page the portal renders. Return a dict (merged into the template's
    context) or None. Keep it cheap: it runs on every page.
    """


@hookspec
def register_translations(plugin: PluginContext) -> str | Path | None:
    """Return a directory of gettext catalogs for the plugin's own messages, or None.

    Called once at start-up. The directory holds ``<language>/LC_MESSAGES/*.po`` for the
    portal's languages (``en``, ``zh_CN``); the files are read as they are (no ``.mo``
    compile step), in name order. A message is looked up in the plugin's catalog first, then
    in the kernel's, and is shown as written when neither translates it, so write the Chinese
    text as the message id: ``{{ _("社区公告") }}`` in templates, ``_("已提交")`` with the
    translator of :meth:`~shequyun_sdk.platform.Platform.translator` in Python code. The
    catalog applies to the plugin's own templates and translator only: it never changes the
    kernel's pages or another plugin's. A directory that does not exist or a malformed ``.po``
    file marks the plugin failed.
    """


@hookspec
def visitor_from_request(plugin: PluginContext, request: Request) -> Visitor | None:
    """Return who the visitor of ``request`` is to this plugin, or None.

    Called while a portal page is rendered, only when no staff user is logged in, for each
    active plugin in order until one returns a :class:`~shequyun_sdk.types.Visitor`: the
    portal's header then shows their name with links to the plugin's account page and logout
    (the staff login stays beside them). For people who sign in to a plugin rather than to the
    platform, such as residents. Keep it cheap (read a cookie, one small query): it runs on
    every page such a visitor sees. A hook that raises is logged and skipped.
    """


@hookspec
def register_resident_attributes(plugin: PluginContext) -> Sequence[ResidentAttribute]:
    """Return extra attributes this plugin adds to resident records.

    Called once at start-up. Values live under the plugin's namespace, are validated against
    each attribute's JSON Schema on every write (from the API, the portal, imports and other
    plugins), and appear as ``<plugin>.<name>`` in the API, the portal and exports.
    """


@hookspec
def register_resident_tags(plugin: PluginContext) -> Sequence[TagDefinition]:
    """Return tags the plugin adds to the managed resident vocabulary.

    Called once at start-up. A tag name already defined by another plugin marks this plugin
    failed. Tags can only be set on residents when they are in the vocabulary.
    """


@hookspec
def workbench_cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard] | None:
    """Return cards for the workbench of ``actor`` (the logged-in cadre or admin).

    Called each time a workbench is shown, only where the plugin is enabled for the actor. Keep
    it quick (one small query): it runs while the page is rendered. A hook that raises is
    logged and its cards are left out.
    """


@hookspec
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    """Return the plugin's event subscribers.

    Called once at start-up; handlers that need the database close over ``platform``.
    A handler takes the :class:`~shequyun_sdk.types.Event`, and may also name an ``actor``
    parameter to receive the plugin's own actor for the work it does (see
    :meth:`~shequyun_sdk.platform.Platform.plugin_actor`), and a ``session`` parameter to
    write in the delivery's own transaction: then its writes commit exactly when the delivery
    is marked done, and a worker killed mid-delivery leaves neither. Events are delivered after
    the transaction that published them commits, from the durable outbox. A subscriber that
    raises is retried later with backoff and never delays or loses the events of other
    subscribers; a handler without ``session`` may see an event twice (a worker that died after
    its work but before marking the delivery), so make it idempotent (use ``event.id``).
    """


@hookspec
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    """Return the declarations of the event types this plugin publishes.

    Called once at start-up. Each :class:`~shequyun_sdk.events.EventType` is named
    ``<plugin>.<what_happened>`` and carries the JSON Schema of its payload, a version and an
    example; a name outside the plugin's namespace, a name another plugin declared or a bad
    value marks the plugin failed. The kernel's and the first-party plugins' types are listed in
    ``docs/plugins/events.md``. Under the test harness (setting ``strict_events``) every
    published payload is checked against its declaration and an undeclared type is refused,
    so a mistake fails the test that publishes it.
    """


@hookspec
def register_scheduled_jobs(plugin: PluginContext, platform: Platform) -> Sequence[ScheduledJob]:
    """Return work the platform runs on a schedule, so that no operator needs a cron for it.

    Called once at start-up; handlers close over ``platform`` and may name the parameters
    ``scheduled_for`` (the aware Beijing-time moment this run was due: use it, not the clock,
    to decide which day or period the run covers) and ``actor`` (the plugin's own actor). A job is
    named ``<plugin>.<name>`` and first falls due at its first scheduled moment after it is
    registered. Every web process (in the embedded default) and every ``shequyun worker``
    looks for due jobs, and the one that claims a due run first runs it, under a one-hour
    lease, so each due run happens once however many processes there are. A handler that
    raises is logged, its error recorded (``shequyun jobs list``) and it runs again at its
    next due time; it never stops or delays the other jobs' runs. Runs missed while nothing
    was running are made up by one run. Jobs of a plugin that failed are not run. A run cut
    off by a crash is run again when its lease expires, so make handlers idempotent.
    """


@hookspec
def validate_settings(plugin: PluginContext, settings: Mapping[str, Any]) -> Sequence[str] | None:
    """Return problems with the plugin's configured settings that JSON Schema cannot express.

    Called at start-up after ``settings`` passed the manifest's ``settings_schema``. Return a
    list of messages (empty or None when all is well); any message marks the plugin failed,
    with the messages as the reason.
    """


@hookspec
def load_demo_data(plugin: PluginContext, platform: Platform, actor: Actor) -> str | None:
    """Fill the database with the plugin's demonstration data; return a one-line summary.

    Called by ``shequyun demo`` after the migrations, in plugin order (so the kernel's org
    units and residents exist when yours run). It must be idempotent: running the demo twice
    must not double anything. ``actor`` is the plugin's own actor
    (:meth:`~shequyun_sdk.platform.Platform.plugin_actor`): pass it to Platform calls that
    need one, and what it does is audited as ``plugin:<name>``.
    """


@hookspec
def on_startup(plugin: PluginContext, platform: Platform) -> None:
    """Called once when the platform starts serving, after all plugins are loaded.

    Raising marks the plugin failed: its routes, navigation and subscribers are withdrawn and
    the rest of the platform starts normally.
    """


@hookspec
def on_shutdown(plugin: PluginContext, platform: Platform) -> None:
    """Called once when the platform stops. Exceptions are logged and ignored."""


# -- indicators (issue 18) ---------------------------------------------------------------------


@hookspec
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    """Return the indicators (指标) this plugin contributes to the dashboards.

    Called once at start-up. Each :class:`~shequyun_sdk.indicators.Indicator` is named
    ``<plugin>.<name>`` and computed by its ``query`` for any org unit and period: the platform
    runs the query for the subtree a user looks at (inside their grant), adds the rows up the
    tree (a sum, or a ratio of sums), keeps each closed week, month and quarter as a snapshot
    and shows the figures on every level's dashboard and in ``/api/v1/indicators``. A bad
    value or two indicators of the same name mark the plugin failed; a query that raises
    while a dashboard is computed shows only that indicator as unavailable.
    """


# -- resident panels (advisors, issue 16) -----------------------------------------------------


@hookspec
def resident_panels(
    plugin: PluginContext,
    request: Request,
    actor: Actor,
    platform: Platform,
    resident: Mapping[str, Any],
) -> Sequence[ResidentPanel] | None:
    """Return panels for the detail page of ``resident`` that ``actor`` is looking at.

    ``resident`` is the record as the API shows it to ``actor`` (sensitive fields masked); the
    kernel has already checked that the actor may read it. Called each time the page is shown,
    only where the plugin is enabled for the actor: keep it quick (a query or two). A hook that
    raises is logged and its panels are left out; the page is shown regardless.
    """


# -- command-line commands (advisors, issue 16) -----------------------------------------------


@hookspec
def register_commands(plugin: PluginContext) -> Sequence[Any] | None:
    """Return the plugin's command-line commands (``click.Command`` objects), or None.

    Called when ``shequyun`` is asked for a command it does not know (or lists its commands).
    The commands are grouped under the plugin's name: command ``test`` of plugin ``advisors``
    runs as ``shequyun advisors test``. The SDK does not depend on click; your plugin does.
    Anything that is not a click command is logged and left out.
    """


# -- merged resident records (data quality, issue 21) -----------------------------------------


@hookspec
def resident_merged(
    plugin: PluginContext, platform: Platform, session: Any, kept_id: int, merged_id: int
) -> Mapping[str, Any] | None:
    """Point the plugin's own references to resident ``merged_id`` at ``kept_id``.

    Called when two records of one person are merged (the data-quality review, by a street or
    district), inside the merge's transaction: write with ``session`` and do not commit. Return
    what you moved as a JSON-able mapping (``{"accounts": [12]}``), or None when nothing was:
    it is kept with the merge and handed back to ``resident_merge_undone``. Raising aborts the
    whole merge (nothing is half-moved) and the reviewer is told which plugin refused.
    """


@hookspec
def resident_merge_undone(
    plugin: PluginContext,
    platform: Platform,
    session: Any,
    kept_id: int,
    merged_id: int,
    moved: Mapping[str, Any],
) -> None:
    """Put back what ``resident_merged`` moved when the merge is undone.

    ``moved`` is the mapping your ``resident_merged`` returned for this merge (called only when
    it returned one), inside the undo's transaction (``session``, do not commit). Raising aborts
    the undo.
    """
