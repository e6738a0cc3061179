"""The kernel object: settings, plugins, database, events and their start-up sequence.

The web app, the CLI and the test harness all build a :class:`Kernel` and differ only in what
they do with it. Start-up order: load plugins (each in its guard) → collect migrations → check
the database is current → collect subscribers and scheduled jobs → call each plugin's
``on_startup``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from shequyun_sdk import NotFound
from shequyun_sdk.attachments import AttachmentRef
from shequyun_sdk.attempts import AttemptLimit, AttemptVerdict
from shequyun_sdk.identity import Actor, UnitRef
from shequyun_sdk.picking import Pick
from shequyun_sdk.population import Population
from shequyun_sdk.residents import Building, ResidentRef
from shequyun_sdk.types import PluginContext, Subscriber
from shequyun_sdk.workdays import WorkCalendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response

from . import throttles
from .apps.runtime import Openness
from .attachments.responses import file_response
from .attachments.service import AttachmentService, to_ref
from .attachments.storage import BlobStore
from .calendar import service as calendar_service
from .collection import for_plugins as collection_reads
from .collection.service import CollectionService
from .db import engine_for, replicas_for, session_scope
from .defaults import DEFAULT_PLUGINS
from .enablement import Enablement
from .event_catalogue import EventCatalogue
from .events import EventBus
from .identity import actors, audit, scope, tree
from .identity.auth import Authenticator, unit_ref
from .identity.models import OrgUnit
from .identity.permissions import PermissionRegistry
from .indicators.registry import IndicatorRegistry
from .indicators.service import IndicatorService
from .migrate import MigrationSet, migration_set
from .models import collect_tables
from .notices.service import NoticeService
from .plugin_host import (
    Candidate,
    PluginHost,
    PluginRecord,
    builtin_candidates,
    entry_point_candidates,
    object_candidates,
)
from .quality.rounds import Rounds
from .quality.service import QualityService
from .residents import for_plugins, picking, population
from .residents.crypto import FieldCipher
from .residents.service import ResidentFilters, ResidentService
from .residents.vocabulary import ResidentVocabulary
from .scheduler import Scheduler
from .settings import Settings, load_settings, resolve_secret_key

__all__ = ["Kernel", "KernelPlatform"]

log = logging.getLogger("shequyun.kernel")


def default_plugin_modules() -> list[Any]:
    """The kernel's own features, registered through the same hooks as any plugin."""
    return list(DEFAULT_PLUGINS)


class KernelPlatform:
    """The kernel's implementation of :class:`shequyun_sdk.Platform`."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._renderer: Any = None
        self._root: UnitRef | None = None

    @property
    def kernel(self) -> Kernel:
        """The kernel itself, for the kernel's own default plugins (never for other plugins)."""
        return self._kernel

    def bind_renderer(self, renderer: Any) -> None:
        """Attach the web app's renderer (the CLI runs kernels without one)."""
        self._renderer = renderer

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> Response:
        if self._renderer is None:
            raise RuntimeError("this kernel is not serving pages")
        response: Response = self._renderer.render(
            request, template, context, status_code=status_code
        )
        return response

    def translator(
        self, request: Request, plugin: PluginContext | None = None
    ) -> Callable[..., str]:
        if self._renderer is None:
            raise RuntimeError("this kernel is not serving pages")
        context = plugin or request.scope.get("shequyun.plugin")
        translate: Callable[..., str] = self._renderer.translator(
            request, context.name if context is not None else None
        )
        return translate

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self._kernel.engine) as session:
            yield session

    def publish(self, session: Session, event_type: str, payload: Mapping[str, Any]) -> None:
        self._kernel.events.publish(session, event_type, payload)

    def plugin(self, name: str) -> PluginContext | None:
        record = self._kernel.host.records.get(name)
        return record.context if record is not None and record.active else None

    # -- plugin actors and the unit tree (SDK 1.0, issue 12) ---------------------------------

    def plugin_actor(self, plugin: PluginContext | str, *, unit: UnitRef | None = None) -> Actor:
        name = plugin if isinstance(plugin, str) else plugin.name
        record = self._kernel.host.records.get(name)
        if record is None or not record.active:
            raise LookupError(f"plugin {name!r} is not active")
        if unit is None:
            unit = self._city()
        permissions = self._kernel.permissions.plugin_actor_permissions(name)
        return actors.plugin_actor(name, record.title, unit, permissions)

    def _city(self) -> UnitRef | None:
        # The root never moves; remember it once it exists (a fresh database has none yet).
        if self._root is None:
            with Session(self._kernel.engine) as session:
                row = session.exec(
                    select(OrgUnit).where(OrgUnit.parent_id == None)  # noqa: E711
                ).first()
                self._root = unit_ref(row) if row is not None else None
        return self._root

    def unit_by_id(self, session: Session, unit_id: int) -> UnitRef | None:
        return tree.by_id(session, unit_id)

    def units(self, session: Session, codes: Iterable[str]) -> dict[str, UnitRef]:
        return tree.by_codes(session, codes)

    def unit_children(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        return tree.children(session, unit, include_closed=include_closed)

    def unit_committees(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        return tree.committees(session, unit, include_closed=include_closed)

    def unit_ancestors(self, session: Session, unit: UnitRef) -> list[UnitRef]:
        return tree.ancestors(session, unit)

    # -- collection (SDK 1.0): what a subscriber reads of the events it gets -----------------

    def get_campaign(
        self, session: Session, actor: Actor | None, campaign_id: int
    ) -> dict[str, Any]:
        return collection_reads.campaign(
            self._kernel.collection.campaigns, session, actor, campaign_id
        )

    def get_task(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        return collection_reads.task(session, actor, task_id)

    def get_submission(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        return collection_reads.submission(session, actor, task_id)

    # -- identity -------------------------------------------------------------------------

    def can(self, actor: Actor | None, permission: str, unit: UnitRef) -> bool:
        return scope.can(actor, permission, unit)

    def scope_filter(self, actor: Actor | None, permission: str, unit_column: Any) -> Any:
        return scope.scope_filter(actor, permission, unit_column)

    def plugin_enabled_at(self, name: str, unit: UnitRef) -> bool:
        return self._kernel.enablement.enabled_at(name, unit)

    def unit(self, session: Session, code: str) -> UnitRef | None:
        row = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
        return unit_ref(row) if row is not None else None

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
        audit.record(
            session,
            action,
            actor=actor,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )

    # -- residents ------------------------------------------------------------------------

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
        page = self._kernel.residents.search(
            session,
            actor,
            ResidentFilters(**filters),
            after=after,
            limit=limit,
            permission=permission,
        )
        return page.items, page.next_cursor

    def get_resident(
        self, session: Session, actor: Actor | None, resident_id: int
    ) -> dict[str, Any]:
        service = self._kernel.residents
        view: dict[str, Any] = service.view(session, service.get(session, actor, resident_id))
        return view

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
        service = self._kernel.residents
        resident = service.update(
            session,
            actor,
            resident_id,
            changes,
            version=version,
            source=source if source.startswith("plugin") else "plugin",
        )
        session.flush()
        view: dict[str, Any] = service.view(session, resident)
        return view

    def audit_denial(self, request: Request, actor: Actor | None, permission: str) -> None:
        audit.record_now(
            self._kernel.engine,
            "access.denied",
            actor=actor,
            outcome="denied",
            detail={"permission": permission, "method": request.method, "path": request.url.path},
            client_ip=request.client.host if request.client else None,
        )

    # -- interaction needs (issue 7) --

    def verify_resident(
        self, session: Session, *, name: str, id_number: str, phone: str
    ) -> ResidentRef | None:
        return for_plugins.verify_resident(
            session, self._kernel.residents.cipher, name=name, id_number=id_number, phone=phone
        )

    def resident_refs(
        self, session: Session, resident_ids: Iterable[int]
    ) -> dict[int, ResidentRef]:
        return for_plugins.resident_refs(session, resident_ids)

    def resident_buildings(self, session: Session, unit_id: int) -> list[Building]:
        return for_plugins.resident_buildings(session, unit_id)

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
        return for_plugins.count_electorate(
            session,
            unit_id,
            per=per,
            buildings=buildings,
            household_numbers=household_numbers,
            adults_only=adults_only,
        )

    # -- attachments ----------------------------------------------------------------------

    def store_attachment(
        self,
        session: Session,
        *,
        data: bytes,
        filename: str,
        owner: str,
        owner_ref: str | None = None,
        unit: UnitRef | None = None,
        actor: Actor | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "file",
    ) -> AttachmentRef:
        row = self._kernel.attachments.store(
            session,
            data=data,
            filename=filename,
            actor=actor,
            owner=owner,
            owner_ref=owner_ref,
            unit_id=unit.id if unit is not None else None,
            accept=accept,
            public=public,
            read_permissions=read_permissions,
            field=field,
        )
        return to_ref(row)

    def get_attachment(self, session: Session, attachment_id: str) -> AttachmentRef | None:
        row = self._kernel.attachments.get(session, attachment_id)
        return to_ref(row) if row is not None else None

    def claim_attachments(
        self,
        session: Session,
        attachment_ids: Iterable[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit: UnitRef | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "attachments",
    ) -> list[AttachmentRef]:
        rows = self._kernel.attachments.claim(
            session,
            attachment_ids,
            actor=actor,
            owner=owner,
            owner_ref=owner_ref,
            unit_id=unit.id if unit is not None else None,
            accept=accept,
            public=public,
            read_permissions=read_permissions,
            field=field,
        )
        return [to_ref(row) for row in rows]

    def attachment_response(
        self, session: Session, attachment: AttachmentRef, *, download: bool = False
    ) -> Response:
        row = self._kernel.attachments.get(session, attachment.id)
        if row is None or not self._kernel.attachments.blobs.exists(row.sha256):
            raise NotFound("附件不存在", field="attachment_id")
        return file_response(self._kernel.attachments, row, download=download)

    # -- governance (issue 15): the working-day clock, picking in scope --------------------

    def work_calendar(self, session: Session) -> WorkCalendar:
        return calendar_service.load(session)

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
        return picking.pick(
            session, actor, kind, q=q, unit_code=unit_code, limit=limit, permission=permission
        )

    def resolve_picks(
        self,
        session: Session,
        actor: Actor | None,
        keys: Iterable[str],
        *,
        permission: str = "residents.read",
    ) -> dict[str, Pick]:
        return picking.resolve_picks(session, actor, keys, permission=permission)

    def subtree_filter(self, unit: UnitRef, unit_column: Any) -> Any:
        return scope.subtree_filter(unit, unit_column)

    def households_by_unit(
        self,
        session: Session,
        actor: Actor | None,
        *,
        unit_code: str | None = None,
        permission: str = "residents.read",
    ) -> dict[int, int]:
        return picking.households_by_unit(
            session, actor, unit_code=unit_code, permission=permission
        )

    # -- set-based resident queries (advisors, issue 16) ------------------------------------

    def resident_population(
        self,
        actor: Actor | None,
        *,
        permission: str = "residents.read",
        within: UnitRef | None = None,
    ) -> Population:
        return population.resident_population(actor, permission, within)

    def resident_views(
        self,
        session: Session,
        actor: Actor | None,
        resident_ids: Iterable[int],
        *,
        permission: str = "residents.read",
    ) -> dict[int, dict[str, Any]]:
        return population.resident_views(
            session, self._kernel.residents, actor, resident_ids, permission
        )

    # -- security (issue 14): attempt limits, sealed values -------------------------------

    def count_attempt(self, limit: AttemptLimit, key: str) -> AttemptVerdict:
        return throttles.hit(self._kernel.engine, limit, key)

    def forgive_attempt(self, limit: AttemptLimit, key: str) -> None:
        throttles.forgive(self._kernel.engine, limit, key)

    def reset_attempts(self, limit: AttemptLimit, key: str) -> None:
        throttles.reset(self._kernel.engine, limit, key)

    def seal(self, value: str) -> str:
        return self._kernel.residents.cipher.encrypt(value)

    def unseal(self, sealed: str) -> str:
        return self._kernel.residents.cipher.decrypt(sealed)

    def lookup_hash(self, value: str) -> str:
        return self._kernel.residents.cipher.lookup_hash(value)


class Kernel:
    """One running shequyun: build it, :meth:`start` it, use it, :meth:`stop` it."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: Iterable[Any] = (),
        discover: bool = True,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.engine = engine or engine_for(self.settings)
        #: PostgreSQL read replicas for the read-only routes (None when none are configured).
        self.replicas = replicas_for(self.settings, self.engine)
        self.host = PluginHost(self.settings)
        candidates: list[Candidate] = builtin_candidates(default_plugin_modules())
        if discover:
            candidates += entry_point_candidates()
        candidates += object_candidates(plugins)
        self.host.load(candidates)
        # Everything that can fail a plugin at load time runs before its migrations are taken.
        self.tables = collect_tables(self.host)
        self.permissions = PermissionRegistry.collect(self.host)
        vocabulary = ResidentVocabulary.collect(self.host)
        catalogue = EventCatalogue.collect(self.host, strict=self.settings.strict_events)
        self.migrations: MigrationSet = migration_set(self.host, self.tables)
        secret = resolve_secret_key(self.settings)
        self.authenticator = Authenticator(self.engine, self.permissions, secret)
        self.events = EventBus(
            self.engine,
            actor_for=lambda name: self.platform.plugin_actor(name),
            catalogue=catalogue,
        )
        self.residents = ResidentService(
            FieldCipher(self.settings.data_key.get_secret_value() or secret),
            vocabulary,
            self.events,
        )
        self.attachments = AttachmentService(
            BlobStore(self.settings.effective_attachments_dir),
            self.settings.attachment_max_bytes,
        )
        self.collection = CollectionService.build(self.residents, self.events, self.attachments)
        self.notices = NoticeService(self.events, self.permissions)
        self.enablement = Enablement(self.engine, self.host)
        self.scheduler = Scheduler(
            self.engine, self.host, actor_for=lambda name: self.platform.plugin_actor(name)
        )
        self.indicators = IndicatorService(
            self.engine, IndicatorRegistry(self.host, self.permissions), self.enablement
        )
        self.quality = QualityService(self.engine, self.residents, self.events)
        self.quality_rounds = Rounds(self.quality, self.collection)
        self.platform = KernelPlatform(self)
        self.quality.duplicates.host, self.quality.duplicates.platform = self.host, self.platform
        # External apps: OIDC provider, app credentials, webhooks, feed (apps/).
        self.openness = Openness(self)
        self.started = False

    def upgrade_database(self) -> None:
        """Apply the kernel's and every active plugin's pending migrations; a plugin's
        migration that seals existing rows does it with this kernel's data key."""
        self.migrations.upgrade(self.engine, sealer=self.platform)

    def check_data_key(self) -> None:
        """Raise :class:`~.residents.keycheck.KeyMismatch` (naming the setting) unless the
        configured data key reads this database; the first start keeps its canary.

        ``shequyun serve`` and ``shequyun worker`` check it before anything runs; the app's
        start-up checks it too, for a process started some other way (uvicorn or gunicorn on
        ``shequyun.app:create_app``) with a key from another place (an empty secret, a
        ``data_dir`` elsewhere holding another generated secret key). A database without the
        kernel's tables is left to the migration check.
        """
        from sqlalchemy import inspect

        from .residents.keycheck import check_data_key

        if inspect(self.engine).has_table("kernel_key_canary"):
            check_data_key(self.engine, self.residents.cipher, self.settings)

    def start(self, *, check_migrations: bool | None = None) -> None:
        """Check the database, register subscribers and run every plugin's ``on_startup``."""
        if check_migrations is None:
            check_migrations = self.settings.check_migrations
        if check_migrations:
            self.migrations.check(self.engine)
            newer = self.migrations.newer(self.engine)
            if newer:
                log.warning(
                    "the database has migrations this release does not know (%s): a newer "
                    "release upgraded it; restart onto that release",
                    ", ".join(newer),
                )
        for record, subscribers in self.host.collect(
            "register_event_subscribers", platform=self.platform
        ):
            self._add_subscribers(record, subscribers)
        self.scheduler.collect(self.platform)
        self.indicators.registry.collect()
        for record in self.host.active_records():
            self.host.call(record, "on_startup", platform=self.platform)
        # A failure at start-up also fails the plugins requiring the failed one: withdraw all.
        for record in self.host.records.values():
            if not record.active:
                self.events.remove_prefix(f"{record.name}:")
        self.started = True

    def stop(self) -> None:
        """Run every plugin's ``on_shutdown``; errors are logged, never raised."""
        if not self.started:
            return
        self.scheduler.stop_background()
        self.openness.stop_background()
        for record in reversed(self.host.active_records()):
            self.host.call(record, "on_shutdown", platform=self.platform, fail_plugin=False)
        self.started = False

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
        if self.replicas is not None:
            self.replicas.dispose()

    def _add_subscribers(self, record: PluginRecord, subscribers: Iterable[Subscriber]) -> None:
        try:
            for sub in subscribers:
                local = sub.name or f"{sub.handler.__module__}.{sub.handler.__qualname__}"
                # The same class with the plugin's name in front (a batch subscriber stays one).
                self.events.add(replace(sub, name=f"{record.name}:{local}"), plugin=record.name)
        except Exception as exc:
            self.events.remove_prefix(f"{record.name}:")
            self.host.fail(
                record.name, f"register_event_subscribers returned a bad value: {exc}", exc
            )
