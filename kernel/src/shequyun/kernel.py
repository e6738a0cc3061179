"""The kernel object: settings, plugins, database, events and their start-up sequence.

The web app, the CLI and the test harness all build a :class:`Kernel` and differ only in what
they do with it. Start-up order: load plugins (each in its guard) → collect migrations → check
the database is current → collect subscribers and scheduled jobs → call each plugin's
``on_startup``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from shequyun_sdk.types import Subscriber
from sqlalchemy.engine import Engine

from .apps.runtime import Openness
from .attachments.service import AttachmentService
from .attachments.storage import BlobStore
from .collection.service import CollectionService
from .db import engine_for, replicas_for
from .defaults import DEFAULT_PLUGINS
from .enablement import Enablement
from .event_catalogue import EventCatalogue
from .events import EventBus
from .identity.auth import Authenticator
from .identity.permissions import PermissionRegistry
from .indicators.registry import IndicatorRegistry
from .indicators.service import IndicatorService
from .kernel_platform import KernelPlatform
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
from .residents.crypto import FieldCipher
from .residents.service import ResidentService
from .residents.vocabulary import ResidentVocabulary
from .scheduler import Scheduler
from .settings import Settings, load_settings, resolve_secret_key

__all__ = ["Kernel", "KernelPlatform"]

log = logging.getLogger("shequyun.kernel")


def default_plugin_modules() -> list[Any]:
    """The kernel's own features, registered through the same hooks as any plugin."""
    return list(DEFAULT_PLUGINS)


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
        cipher = FieldCipher(self.settings.data_key.get_secret_value() or secret)
        self.events = EventBus(
            self.engine,
            actor_for=lambda name: self.platform.plugin_actor(name),
            catalogue=catalogue,
            cipher=cipher,
        )
        self.residents = ResidentService(
            cipher,
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
