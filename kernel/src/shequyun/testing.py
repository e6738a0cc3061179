"""Fresh databases for tests, made quickly from migrated templates.

Used by the SDK's pytest harness (``shequyun_sdk.testing``). Migrating a database for every
test would dominate the suite's time, so each distinct set of migrations is applied once to a
template and every test gets a copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL. Copying and dropping a PostgreSQL database costs more than most tests, so a database
given back is emptied back to its template's state and handed out again, when that is exactly
equivalent (see :mod:`shequyun.testing_postgres`).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .db import make_engine
from .migrate import MigrationSet
from .testing_postgres import TemplateState

__all__ = ["TestDatabases"]


class TestDatabases:
    """Hands out fresh, migrated databases; one instance per test session."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, workdir: Path, postgres_url: str | None = None) -> None:
        self.workdir = workdir
        self.postgres_url = make_url(postgres_url) if postgres_url else None
        self._templates: dict[str, str] = {}
        self._created: list[str] = []
        # PostgreSQL: each template's state (None: never reuse), which template each handed-out
        # database was copied from, and the databases emptied back to that state, ready again.
        self._states: dict[str, TemplateState | None] = {}
        self._origin: dict[str, str] = {}
        self._ready: dict[str, list[str]] = {}

    def fresh(self, migrations: MigrationSet) -> str:
        """The URL of a new database with every revision of ``migrations`` applied."""
        url = self.reserve()
        self.fill(url, migrations)
        return url

    def reserve(self) -> str:
        """A URL for a database that :meth:`fill` creates later: the harness builds the kernel
        on it first (which connects to nothing), so the plugins' hooks run once per test."""
        if self.postgres_url is None:
            return f"sqlite:///{self.workdir / f'test-{uuid.uuid4().hex[:12]}.db'}"
        name = f"{self.postgres_url.database}_t{uuid.uuid4().hex[:12]}"
        return self._pg(name).render_as_string(hide_password=False)

    def fill(self, url: str, migrations: MigrationSet) -> None:
        """Create the database of a ``url`` from :meth:`reserve`, with ``migrations`` applied."""
        key = hashlib.sha256(
            "|".join(str(p) for _, p in migrations.locations).encode()
        ).hexdigest()[:12]
        if key not in self._templates:
            self._templates[key] = self._make_template(key, migrations)
        template = self._templates[key]
        parsed = make_url(url)
        if self.postgres_url is None:
            assert parsed.database is not None
            shutil.copyfile(template, parsed.database)
            return
        name = parsed.database
        assert name is not None
        ready = self._ready.get(key)
        renamed = False
        if ready:
            spare = ready.pop()
            renamed = self._rename(spare, name)
            if not renamed:  # someone still holds it: copy anew instead
                self._admin(f'DROP DATABASE IF EXISTS "{spare}" WITH (FORCE)')
        if not renamed:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        self._origin[name] = key

    def drop(self, url: str) -> None:
        """Give back a database handed out by :meth:`fresh`: removed, or on PostgreSQL
        emptied for the next test when that leaves it exactly as a fresh copy would be."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        elif parsed.database in self._created:
            name = parsed.database
            self._created.remove(name)
            key = self._origin.pop(name)
            if self._reset(name, self._states[key]) is None:
                self._ready.setdefault(key, []).append(name)
            else:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the templates and any database a test left behind."""
        if self.postgres_url is not None:
            ready = [name for names in self._ready.values() for name in names]
            for name in [*self._created, *ready, *self._templates.values()]:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()
        self._ready.clear()
        self._origin.clear()
        self._templates.clear()
        self._states.clear()

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
            if self.postgres_url is not None:
                with engine.connect() as connection:
                    self._states[key] = TemplateState.read(connection)
        finally:
            engine.dispose()
        return str(path) if self.postgres_url is None else name

    def _reset(self, name: str, state: TemplateState | None) -> str | None:
        """Empty database ``name`` back to ``state``; None when done, else why not."""
        if state is None:
            return "the template cannot be restored table by table"
        engine = make_engine(
            self._pg(name).render_as_string(hide_password=False), poolclass=NullPool
        )
        try:
            with engine.connect() as connection:
                return state.reset(connection)
        except DBAPIError as error:
            return f"emptying failed: {type(error.orig).__name__}"
        finally:
            engine.dispose()

    def _pg(self, database: str) -> URL:
        assert self.postgres_url is not None
        return self.postgres_url.set(database=database)

    def _rename(self, spare: str, name: str) -> bool:
        """Rename a spare database for its next test. An autovacuum worker cleaning up after
        the last test's deletes holds it now and then (more often on a loaded machine); it is
        told to stop (it starts again later) and the rename is tried once more."""
        for attempt in range(2):
            try:
                self._admin(f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
                return True
            except DBAPIError:
                if attempt:
                    break
                self._admin(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{spare}' AND backend_type = 'autovacuum worker'"
                )
        return False

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


#: A small slice of Shanghai for tests: two districts, three streets, five committees.
TEST_TREE: tuple[tuple[str, str, str, str | None], ...] = (
    ("310000000000", "上海市", "city", None),
    ("310115000000", "浦东新区", "district", "310000000000"),
    ("310115004000", "潍坊新村街道", "street", "310115000000"),
    ("310115004001", "潍坊一村居委会", "committee", "310115004000"),
    ("310115004002", "潍坊二村居委会", "committee", "310115004000"),
    ("310115005000", "陆家嘴街道", "street", "310115000000"),
    ("310115005001", "梅园一村居委会", "committee", "310115005000"),
    ("310104000000", "徐汇区", "district", "310000000000"),
    ("310104003000", "天平路街道", "street", "310104000000"),
    ("310104003001", "宛平南路居委会", "committee", "310104003000"),
    ("310104003002", "建国西路居委会", "committee", "310104003000"),
)

TEST_PASSWORD = "Test-password-1"


def build_test_tree(kernel: Any) -> dict[str, Any]:
    """Create :data:`TEST_TREE` in the kernel's database; return the units by code."""
    from sqlmodel import Session

    from .identity.directory import create_unit

    units: dict[str, Any] = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        for code, name, level, parent in TEST_TREE:
            units[code] = create_unit(
                session,
                code=code,
                name=name,
                level=level,
                parent=units[parent] if parent else None,
            )
        session.commit()
    return units


class TestActor:
    """A user holding one grant, with ways to call the platform as them."""

    __test__ = False

    def __init__(self, app: Any, user: Any, grant: Any, unit: Any, token: str) -> None:
        self.app = app
        self.user = user
        self.grant = grant
        self.unit = unit
        self.token = token
        self.username: str = user.username
        self.password = TEST_PASSWORD

    @property
    def actor(self) -> Any:
        """This user as the platform sees them (an SDK ``Actor``), for calling ``Platform``."""
        kernel = self.app.state.kernel
        return kernel.authenticator.actor_for(self.user, self.grant, self.unit, "token")

    @property
    def auth(self) -> dict[str, str]:
        """Headers authenticating as this actor with their API token."""
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> Any:
        """An API client sending this actor's bearer token with every request."""
        from starlette.testclient import TestClient

        return TestClient(self.app, headers=self.auth)

    def portal(self) -> Any:
        """A client logged in through the portal's login form, sending the CSRF header."""
        from starlette.testclient import TestClient

        client = TestClient(self.app)
        page = client.get("/login")
        token = _hidden(page.text, "csrf_token")
        response = client.post(
            "/login",
            data={"username": self.username, "password": self.password, "csrf_token": token},
            follow_redirects=False,
        )
        if response.status_code != 303:
            raise AssertionError(f"login as {self.username} failed: {response.status_code}")
        # Every portal page carries the session's CSRF token (in the logout form).
        landing = client.get(response.headers["location"])
        client.headers["X-CSRF-Token"] = _hidden(landing.text, "csrf_token")
        return client


class Actors:
    """Factory of :class:`TestActor` on the :data:`TEST_TREE` units."""

    __test__ = False

    def __init__(self, kernel: Any, app: Any, units: dict[str, Any]) -> None:
        self.kernel = kernel
        self.app = app
        self.units = units
        self._count = 0

    def make(self, role: str, unit_code: str, *, username: str | None = None) -> TestActor:
        """A new user holding ``role`` on the unit ``unit_code``."""
        from sqlmodel import Session

        from .identity.directory import create_token, create_user, grant_role

        self._count += 1
        unit = self.unit(unit_code)
        with Session(self.kernel.engine, expire_on_commit=False) as session:
            user = create_user(
                session,
                username=username or f"{role.split('.')[-1]}{self._count}",
                display_name=f"测试用户{self._count}",
                home_unit=unit,
                must_change_password=False,
            )
            # Hashing once per test run keeps suites with many actors fast; the hash is real.
            user.password_hash = _test_password_hash()
            session.add(user)
            grant = grant_role(session, self.kernel.permissions, user=user, role=role, unit=unit)
            _, secret = create_token(session, grant=grant, name="测试令牌", expires_at=None)
            session.commit()
        return TestActor(self.app, user, grant, unit, secret)

    def unit(self, code: str) -> Any:
        """The org unit ``code``: one of :data:`TEST_TREE`, one already in the database, or
        any unit of Shanghai's reference tree (as ``shequyun demo`` builds it), created with
        the units above it the first time a test asks for it."""
        if code in self.units:
            return self.units[code]
        from sqlmodel import Session

        from .identity.demo_data import reference_units
        from .identity.directory import create_unit, unit_by_code

        reference = reference_units()
        with Session(self.kernel.engine, expire_on_commit=False) as session:
            found = unit_by_code(session, code)
            if found is None:
                if code not in reference:
                    raise LookupError(
                        f"no org unit {code!r}: the test tree and Shanghai's reference data "
                        "(the demo's 16 districts, 215 streets and 6,077 committees) have none; "
                        "see docs/plugins/testing.md"
                    )
                chain = [code]
                while (parent := reference[chain[-1]][2]) is not None and unit_by_code(
                    session, parent
                ) is None:
                    chain.append(parent)
                above = unit_by_code(session, parent) if parent is not None else None
                for link in reversed(chain):
                    name, level, _ = reference[link]
                    above = create_unit(session, code=link, name=name, level=level, parent=above)
                found = above
                session.commit()
        self.units[code] = found
        return found

    # One helper per built-in role, on the unit most tests want.
    def platform_admin(self, unit_code: str = "310000000000") -> TestActor:
        return self.make("identity.platform_admin", unit_code)

    def bureau(self, unit_code: str = "310000000000") -> TestActor:
        return self.make("identity.bureau", unit_code)

    def district_admin(self, unit_code: str = "310115000000") -> TestActor:
        return self.make("identity.district_admin", unit_code)

    def street_admin(self, unit_code: str = "310115004000") -> TestActor:
        return self.make("identity.street_admin", unit_code)

    def cadre(self, unit_code: str = "310115004001") -> TestActor:
        return self.make("identity.cadre", unit_code)

    def social_worker(self, unit_code: str = "310115004001") -> TestActor:
        return self.make("identity.social_worker", unit_code)


@functools.lru_cache(maxsize=1)
def _test_password_hash() -> str:
    from .identity.passwords import hash_password

    return hash_password(TEST_PASSWORD)


def _hidden(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise AssertionError(f"the page has no hidden field {name}")
    return match.group(1)
