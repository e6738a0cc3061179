"""Alembic migrations: one branch for the kernel, one per plugin, applied together.

``shequyun db upgrade`` applies the kernel's branch and the branch of every active plugin (the
directory each returns from ``register_migrations``). The app refuses to start while any of
those revisions is not applied, and says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from shequyun_sdk.migrations import SEALER_ATTRIBUTE, Sealer
from sqlalchemy.engine import Engine

from .plugin_host import PluginHost

__all__ = ["MigrationSet", "PendingMigrations", "migration_set"]

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"


class PendingMigrations(RuntimeError):
    """The database lacks revisions that the kernel or an active plugin needs."""

    def __init__(self, pending: list[str]) -> None:
        self.pending = pending
        super().__init__(
            "the database needs migrations before shequyun can serve; run `shequyun db upgrade`."
            " Pending: " + ", ".join(pending)
        )


@dataclass(frozen=True)
class MigrationSet:
    """The revision directories in force: the kernel's and those of active plugins."""

    locations: tuple[tuple[str, Path], ...]

    def config(self, engine: Engine, sealer: Sealer | None = None) -> Config:
        """The Alembic configuration; ``sealer`` is what plugins' migrations get from
        :func:`shequyun_sdk.migrations.sealer` to seal the rows already there."""
        cfg = Config()
        cfg.set_main_option("script_location", str(KERNEL_MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", ":".join(str(path) for _, path in self.locations))
        cfg.attributes["engine"] = engine
        if sealer is not None:
            cfg.attributes[SEALER_ATTRIBUTE] = sealer
        return cfg

    def upgrade(self, engine: Engine, sealer: Sealer | None = None) -> None:
        """Apply every pending revision of every branch (``sealer``: see :meth:`config`)."""
        with engine.begin() as connection:
            cfg = self.config(engine, sealer)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")

    def pending(self, engine: Engine) -> list[str]:
        """Revisions known to the code but not applied, as ``branch:revision (message)``.

        A database upgraded by a newer release (during a rolling upgrade) has heads this code
        does not know (:meth:`newer`); a branch with no head this code knows is then taken to
        be ahead, not pending, so the old workers keep serving until they are restarted."""
        script = ScriptDirectory.from_config(self.config(engine))
        applied = self._applied(engine)
        known = {rev.revision for rev in script.walk_revisions()}
        newer = applied - known
        applied_all: set[str] = set()
        current_branches: set[str] = set()
        for head in applied & known:
            current_branches.add(_branch_of(script, head))
            for rev in script.iterate_revisions(head, "base"):
                applied_all.add(rev.revision)
        missing = []
        for rev in script.walk_revisions():
            if rev.revision in applied_all:
                continue
            branch = ",".join(sorted(rev.branch_labels)) or _branch_of(script, rev.revision)
            if newer and branch not in current_branches:
                continue  # presumably under one of the newer heads
            missing.append(f"{branch}:{rev.revision} ({rev.doc})")
        return list(reversed(missing))

    def newer(self, engine: Engine) -> list[str]:
        """Revisions applied to the database that this code does not know: a newer release
        upgraded it."""
        script = ScriptDirectory.from_config(self.config(engine))
        known = {rev.revision for rev in script.walk_revisions()}
        return sorted(self._applied(engine) - known)

    @staticmethod
    def _applied(engine: Engine) -> set[str]:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    def check(self, engine: Engine) -> None:
        """Raise :class:`PendingMigrations` when the database is not current."""
        pending = self.pending(engine)
        if pending:
            raise PendingMigrations(pending)


def _branch_of(script: ScriptDirectory, revision: str) -> str:
    for rev in script.iterate_revisions(revision, "base"):
        if rev.branch_labels:
            return ",".join(sorted(rev.branch_labels))
    return "?"


def migration_set(
    host: PluginHost, tables: Mapping[str, Sequence[Any]] | None = None
) -> MigrationSet:
    """The kernel's revisions plus those of every active plugin.

    A plugin that declares ``tables`` (its ``register_models``) but no migrations is marked
    failed: nothing would ever create its tables, and it would fail at its first query.
    """
    locations: list[tuple[str, Path]] = []
    for record, result in host.collect("register_migrations"):
        path = Path(result)
        if not path.is_dir():
            host.fail(record.name, f"register_migrations returned {path}, which is not a directory")
            continue
        locations.append((record.name, path))
    migrated = {name for name, _ in locations}
    tables = tables or {}
    for record in host.active_records():
        if not record.builtin and tables.get(record.name) and record.name not in migrated:
            names = ", ".join(t.name for t in tables[record.name])
            host.fail(
                record.name,
                f"register_models declares tables ({names}) but register_migrations gives no "
                "migrations to create them (docs/plugins/hooks.md#register_migrationsplugin)",
            )
    return MigrationSet(tuple(locations))
