"""Fresh databases for tests, made quickly from migrated templates.

Used by the SDK's pytest harness (``shequyun_sdk.testing``). Migrating a database for every
test would dominate the suite's time, so each distinct set of migrations is applied once to a
template and every test gets a copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from .db import make_engine
from .migrate import MigrationSet

__all__ = ["TestDatabases"]


class TestDatabases:
    """Hands out fresh, migrated databases; one instance per test session."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, workdir: Path, postgres_url: str | None = None) -> None:
        self.workdir = workdir
        self.postgres_url = make_url(postgres_url) if postgres_url else None
        self._templates: dict[str, str] = {}
        self._created: list[str] = []

    def fresh(self, migrations: MigrationSet) -> str:
        """The URL of a new database with every revision of ``migrations`` applied."""
        key = hashlib.sha256(
            "|".join(str(p) for _, p in migrations.locations).encode()
        ).hexdigest()[:12]
        if key not in self._templates:
            self._templates[key] = self._make_template(key, migrations)
        template = self._templates[key]
        if self.postgres_url is None:
            target = self.workdir / f"test-{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(template, target)
            return f"sqlite:///{target}"
        name = f"{self.postgres_url.database}_t{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        return self._pg(name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Remove a database handed out by :meth:`fresh`."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        elif parsed.database in self._created:
            self._admin(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            self._created.remove(parsed.database)

    def close(self) -> None:
        """Drop the templates and any database a test left behind."""
        if self.postgres_url is not None:
            for name in [*self._created, *self._templates.values()]:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()
        self._templates.clear()

    def _make_template(self, key: str, migrations: MigrationSet) -> str:
        if self.postgres_url is None:
            path = self.workdir / f"template-{key}.db"
            url = f"sqlite:///{path}"
        else:
            name = f"{self.postgres_url.database}_tpl{key}"
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{name}"')
            url = self._pg(name).render_as_string(hide_password=False)
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
        finally:
            engine.dispose()
        return str(path) if self.postgres_url is None else name

    def _pg(self, database: str) -> URL:
        assert self.postgres_url is not None
        return self.postgres_url.set(database=database)

    def _admin(self, statement: str) -> None:
        engine = make_engine(
            self._pg("postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()
