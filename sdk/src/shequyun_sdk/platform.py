"""The services the kernel offers to plugins at run time.

Plugins never import the kernel. They receive a :class:`Platform` in ``on_startup`` and reach it
from a request with :func:`platform_from_request`; everything a plugin may do to the platform is
a method here, so that the kernel can change its internals without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from .attachments import AttachmentCalls
from .attempts import AttemptLimit, AttemptVerdict
from .collection import CollectionCalls
from .identity import Actor, UnitRef
from .picking import Pick
from .population import Population
from .residents import Building, ResidentRef
from .types import PluginContext, Visitor
from .workdays import WorkCalendar

__all__ = ["Platform", "platform_from_request", "plugin_from_request"]


@runtime_checkable
class Platform(CollectionCalls, AttachmentCalls, Protocol):
    """What the kernel provides to plugins.

    Calls of one area live in their own module and are inherited here: collection
    (:mod:`shequyun_sdk.collection`: ``get_campaign``, ``get_task``, ``get_submission``) and
    attachments (:mod:`shequyun_sdk.attachments`: ``store_attachment``, ``get_attachment``,
    ``claim_attachments``, ``attachment_response``).
    """

    def session(self) -> AbstractContextManager[Session]:
        """Open a database session; it commits when the block ends without an error.

        Use it as ``with platform.session() as session: ...``. The session sees the kernel's
        tables and every table the enabled plugins registered.
        """
        ...

    def publish(self, session: Session, event_type: str, payload: Mapping[str, Any]) -> None:
        """Record an event in ``session``; subscribers receive it after the commit.

        The event is written to the durable outbox in the same transaction as the change it
        describes, so it is delivered if and only if the change is committed.
        """
        ...

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> Response:
        """Render a template inside the portal's shell and return the HTML response.

        ``template`` is ``<plugin>/<file>`` for a plugin's own templates (see
        ``register_templates``); extend ``base.html`` to appear inside the shell. The context
        also holds ``request``, ``nav``, ``_`` (translation) and every plugin's
        ``extra_template_vars``.
        """
        ...

    def translator(
        self, request: Request, plugin: PluginContext | None = None
    ) -> Callable[..., str]:
        """A ``_`` for Python code, in the language ``request``'s visitor chose.

        ``_(message, **params)`` looks ``message`` up in ``plugin``'s catalogs (see
        ``register_translations``; by default the plugin whose route handles ``request``),
        then in the kernel's, and returns ``message`` itself when neither translates it; then
        ``{placeholders}`` are filled from ``params``. In a route::

            _ = platform_from_request(request).translator(request)
            notice = _("已提交 {count} 条", count=3)

        In a hook that gets the kernel's request (``workbench_cards``), pass your ``plugin``.
        """
        ...

    def plugin(self, name: str) -> PluginContext | None:
        """The context of an active plugin, or None when it is not active."""
        ...

    def plugin_actor(self, plugin: PluginContext | str, *, unit: UnitRef | None = None) -> Actor:
        """The actor of ``plugin`` itself, for work no user started (jobs, subscribers, demo
        data, a page serving residents).

        It holds the plugin's own permissions and the kernel permissions listed in the
        manifest's ``actor_permissions``, nothing else, on ``unit`` (default: the whole city)
        and its subtree. Everything done with it is audited as ``plugin:<name>``. Demo loaders,
        event subscribers and scheduled jobs receive it as their ``actor`` argument; ask for it
        here when you need it elsewhere (``on_startup``, a narrower ``unit``). Raises
        :class:`LookupError` when ``plugin`` is not active.
        """
        ...

    def can(self, actor: Actor | None, permission: str, unit: UnitRef) -> bool:
        """Whether ``actor`` holds ``permission`` on ``unit`` (its grant covers the unit).

        Uses the same rule as :meth:`scope_filter`, so a list filtered with ``scope_filter``
        holds exactly the objects for which ``can`` is true.
        """
        ...

    def scope_filter(self, actor: Actor | None, permission: str, unit_column: Any) -> Any:
        """A SQL condition on ``unit_column`` (an org-unit id column) for the rows ``actor`` may
        reach with ``permission``; false when the actor lacks the permission.

        Use it on your own tables that record the unit they belong to::

            select(Visit).where(platform.scope_filter(actor, "advisors.visits.read",
                                                      Visit.unit_id))
        """
        ...

    def plugin_enabled_at(self, name: str, unit: UnitRef) -> bool:
        """Whether plugin ``name`` is switched on at ``unit`` (see per-unit enablement).

        The kernel already hides a plugin from staff where it is off. Check this yourself for
        people the kernel does not know, such as residents signed in to your plugin: their place
        is their committee, so ask for it before serving them.
        """
        ...

    def visitor(self, request: Request) -> Visitor | None:
        """Who is looking at the portal when no staff user is signed in: the
        :class:`~shequyun_sdk.Visitor` the first plugin that knows them returned from
        ``visitor_from_request`` (a resident signed in to 居社互动), or None (anonymous, or a
        staff user). Asked once per request, whoever asks.

        Its ``resident_id`` and ``committee`` say which resident they proved to be (None until
        their account is verified): serve a resident's own records by it, and ask
        :meth:`plugin_enabled_at` for the committee before serving them::

            visitor = platform.visitor(request)
            if visitor is None or visitor.resident_id is None:
                return RedirectResponse("/plugins/interaction/login", status_code=303)

        Since SDK 1.4.
        """
        ...

    def unit(self, session: Session, code: str) -> UnitRef | None:
        """The org unit with the 12-digit ``code``, or None."""
        ...

    def unit_by_id(self, session: Session, unit_id: int) -> UnitRef | None:
        """The org unit with id ``unit_id``, or None."""
        ...

    def units(self, session: Session, codes: Iterable[str]) -> dict[str, UnitRef]:
        """The org units of ``codes`` that exist, by code (one query, whatever the number)."""
        ...

    def root_unit(self, session: Session) -> UnitRef | None:
        """The unit at the top of the tree (the city, 上海市), or None before the tree is loaded:
        where to start walking down with :meth:`unit_children`, as a picker of districts does.

        Since SDK 1.3.
        """
        ...

    def unit_children(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        """The units directly below ``unit`` (a district's streets, a street's committees), by
        code; closed units (split, merged) only with ``include_closed``."""
        ...

    def unit_committees(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        """The committees (居村委) in ``unit``'s subtree, by code: a street's or a district's
        committees, every committee of the city, or ``[unit]`` for a committee itself."""
        ...

    def unit_ancestors(self, session: Session, unit: UnitRef) -> list[UnitRef]:
        """The units above ``unit``, the city first and its parent last (empty for the city)."""
        ...

    def audit(
        self,
        session: Session,
        action: str,
        *,
        actor: Actor | None,
        target_type: str | None = None,
        target_id: str | int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Add an entry to the append-only audit log in ``session`` (commits with it).

        Name actions ``<plugin>.<verb>`` (``hello.message_deleted``). Never put secrets or
        full ID numbers in ``detail``.
        """
        ...

    def search_residents(
        self,
        session: Session,
        actor: Actor | None,
        *,
        after: str | None = None,
        limit: int = 50,
        permission: str = "residents.read",
        **filters: Any,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the residents ``actor`` may reach, and the cursor of the next page.

        ``filters`` are those of ``GET /api/v1/residents``: ``q``, ``tags`` (a tuple, all must
        match), ``age_min``, ``age_max``, ``compound``, ``building``, ``registration``
        (``huji``/``changzhu``/``liudong``), ``unit_code``, ``id_number``, ``phone``,
        ``status``. Items have the API's shape, sensitive fields masked. Scope is the kernel's:
        you cannot widen it.
        """
        ...

    def get_resident(
        self, session: Session, actor: Actor | None, resident_id: int
    ) -> dict[str, Any]:
        """One resident as the API shows it; :class:`NotFound` outside the actor's scope."""
        ...

    def update_resident(
        self,
        session: Session,
        actor: Actor | None,
        resident_id: int,
        changes: Mapping[str, Any],
        *,
        version: int,
        source: str = "plugin",
    ) -> dict[str, Any]:
        """Change a resident on behalf of ``actor`` (their grant decides), in ``session``.

        Same rules as ``PATCH /api/v1/residents/{id}``: validation with every problem listed,
        :class:`Conflict` when ``version`` is stale, one history row per changed field with
        ``source`` recorded, and a ``resident.updated`` event after the commit.
        """
        ...

    def user_names(self, session: Session, user_ids: Iterable[int]) -> dict[int, str]:
        """The display name (``张丽``) of each staff user in ``user_ids`` that exists.

        For naming, to staff, the user who did something your plugin recorded by ``user_id``
        (who issued a code, who replied): nothing else about them — not the login name, phone
        or grants. Deactivated users keep their name, as the history they made does. Ids of no
        user are left out. At most 1,000 ids a call (``ValueError`` beyond). Residents are not
        users; show them a role (``居委工作人员``) rather than a staff member's name.

        Since SDK 1.1.
        """
        ...

    def audit_denial(self, request: Request, actor: Actor | None, permission: str) -> None:
        """Record that ``actor`` was refused ``permission`` (in its own transaction).

        :func:`~shequyun_sdk.identity.requires` calls this for you.
        """
        ...

    # -- interaction needs (issue 7) --

    def verify_resident(
        self, session: Session, *, name: str, id_number: str, phone: str
    ) -> ResidentRef | None:
        """The active resident whose name, ID number and phone all match, or None.

        For a resident proving who they are (居民实名核验): the ID number is looked up by its
        keyed hash (never decrypted), then the name and the phone on record must match exactly.
        The answer is the same None for "no such ID number" and "a field differs", so it cannot
        be used to probe the database; throttle attempts yourself.
        """
        ...

    def resident_refs(
        self, session: Session, resident_ids: Iterable[int]
    ) -> dict[int, ResidentRef]:
        """The current placement of each resident in ``resident_ids`` that exists.

        Read it each time you decide what a resident may do: a transfer (event
        ``resident.moved``) changes their committee and clears their address and household.
        Removed residents are included with ``active=False``. It applies no actor's scope: use it
        only for residents who linked themselves to your plugin (or whom a cadre already reached
        with :meth:`get_resident`).
        """
        ...

    def resident_buildings(self, session: Session, unit_id: int) -> list[Building]:
        """The buildings of committee ``unit_id`` with their active households and residents."""
        ...

    def count_electorate(
        self,
        session: Session,
        unit_id: int,
        *,
        per: str = "resident",
        buildings: Sequence[tuple[str, str]] = (),
        household_numbers: Sequence[str] = (),
        adults_only: bool = True,
    ) -> int:
        """How many active residents (``per="resident"``) or households (``per="household"``)
        of committee ``unit_id`` there are, optionally only in ``buildings`` (``(compound,
        building)`` pairs) or in the households numbered ``household_numbers``.

        With ``adults_only`` only residents aged 18 or more count, and a household counts when
        it has at least one of them: the denominator of a turnout or a threshold.
        """
        ...

    # -- governance (issue 15): the working-day clock, picking in scope --------------------

    def work_calendar(self, session: Session) -> WorkCalendar:
        """The working-day calendar in force: the SDK's shipped holiday and 调休 arrangement
        with the platform administrators' edits (``PUT /api/v1/calendar/days/{day}``).

        Count deadlines with it (``calendar.add_working_days(today, 5)``); read it where you
        decide, since an administrator may enter next year's arrangement at any time.
        """
        ...

    def pick(
        self,
        session: Session,
        actor: Actor | None,
        kind: str,
        *,
        q: str = "",
        unit_code: str | None = None,
        limit: int = 20,
        permission: str = "residents.read",
    ) -> list[Pick]:
        """Residents, households or buildings (``kind``) ``actor`` may reach with
        ``permission``, for a picker: those whose name, household number or address contains
        ``q``, under unit ``unit_code`` when given, at most ``limit`` (1–5,000), ordered by name
        or address. Active residents only; households and buildings with at least one.
        """
        ...

    def resolve_picks(
        self,
        session: Session,
        actor: Actor | None,
        keys: Iterable[str],
        *,
        permission: str = "residents.read",
    ) -> dict[str, Pick]:
        """``{key: Pick}`` for the keys (``resident:12``, ``household:5``,
        ``building:230:潍坊一村:12``) that exist and lie in ``actor``'s scope; malformed keys and
        keys out of scope are left out, so compare the answer's keys with what you asked."""
        ...

    def subtree_filter(self, unit: UnitRef, unit_column: Any) -> Any:
        """A SQL condition on ``unit_column`` (an org-unit id column): rows of ``unit`` or of a
        unit below it. For drilling down a list or a figure to one street or committee; it
        narrows, it never grants: combine it with :meth:`scope_filter`."""
        ...

    def households_by_unit(
        self,
        session: Session,
        actor: Actor | None,
        *,
        unit_code: str | None = None,
        permission: str = "residents.read",
    ) -> dict[int, int]:
        """``{committee id: number of active households}`` for every committee in ``actor``'s
        scope (under ``unit_code`` when given), in one query: the denominator of a coverage."""
        ...

    # -- set-based resident queries (advisors, issue 16) ------------------------------------

    def resident_population(
        self,
        actor: Actor | None,
        *,
        permission: str = "residents.read",
        within: UnitRef | None = None,
    ) -> Population:
        """The active residents ``actor`` reaches with ``permission``, as SQL to compose.

        For questions about everyone in an area (who is eligible for a benefit and not receiving
        it) that must run in the database, never row by row in Python. ``within`` narrows the
        set to a unit inside the grant (a unit outside it gives an empty set, never an error).
        See :class:`~shequyun_sdk.population.Population` for the columns and helpers; every
        query built with :meth:`Population.select` carries the scope condition.
        """
        ...

    def resident_views(
        self,
        session: Session,
        actor: Actor | None,
        resident_ids: Iterable[int],
        *,
        permission: str = "residents.read",
    ) -> dict[int, dict[str, Any]]:
        """The residents among ``resident_ids`` that ``actor`` reaches, as the API shows them.

        For a page of results found with :meth:`resident_population`: a few queries whatever
        the number (unlike :meth:`get_resident` for each), sensitive fields masked, active
        records only; ids outside the scope are simply absent.
        """
        ...

    # -- security (issue 14): attempt limits, sealed values -------------------------------

    def count_attempt(self, limit: AttemptLimit, key: str) -> AttemptVerdict:
        """Count one attempt of ``key`` (an address, an account id, a phone) against ``limit``.

        Call it *before* checking the password or code the attempt brings, and outside an
        open :meth:`session`: the count is committed at once, in its own transaction, so a
        request that fails afterwards cannot take it back. One atomic statement, shared by
        every worker process: parallel attempts get distinct counts.
        """
        ...

    def forgive_attempt(self, limit: AttemptLimit, key: str) -> None:
        """Take one counted attempt back (the password was right): failures alone count."""
        ...

    def reset_attempts(self, limit: AttemptLimit, key: str) -> None:
        """Forget every attempt of ``key`` under ``limit`` (a cadre lifted the limit)."""
        ...

    def seal(self, value: str) -> str:
        """Encrypt ``value`` (a phone number…) for storage, as the kernel stores resident ID
        and phone numbers: AES-GCM under the platform's data key, a new nonce each time."""
        ...

    def unseal(self, sealed: str) -> str:
        """The value :meth:`seal` encrypted."""
        ...

    def lookup_hash(self, value: str) -> str:
        """A keyed hash of ``value`` (HMAC-SHA256 under the data key), the same for the same
        value: store it beside the sealed value and look rows up by it. Canonicalise first
        (:func:`shequyun_sdk.numbers.canonical_phone`)."""
        ...


def platform_from_request(request: Request) -> Platform:
    """The platform serving ``request``; use it inside your route handlers."""
    platform: Platform = request.app.state.platform
    return platform


def plugin_from_request(request: Request) -> PluginContext:
    """The context of the plugin whose route is handling ``request``."""
    plugin: PluginContext = request.scope["shequyun.plugin"]
    return plugin
