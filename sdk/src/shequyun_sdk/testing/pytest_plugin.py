"""pytest fixtures for plugin authors (registered through the ``pytest11`` entry point).

Every test gets a fresh, migrated database: a SQLite file by default, or a new PostgreSQL
database when ``SHEQUYUN_TEST_DATABASE_URL`` names a server (``postgresql+psycopg://host/base``;
databases ``<base>_t<random>`` are created and dropped there). Under pytest-xdist each worker
uses its own prefix, ``<base>_gw0`` and so on, so workers never share a database or a template.

Override these fixtures in your ``conftest.py`` to shape the platform under test:

``shequyun_plugins``
    Plugin objects (modules) to load besides the installed ones. Default: none.
``shequyun_discover``
    Whether installed plugins are discovered through their entry points. Default: True, so
    the plugin you are developing (installed with ``pip install -e .``) is loaded exactly as
    in production.
``shequyun_settings``
    Extra settings as keyword arguments, e.g. ``{"plugin_settings": {"hello": {...}}}``.

The kernel is imported only when a fixture is used, so installing the SDK never imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

# Browser fixtures (shequyun_portal, shequyun_browser_page): registered with the rest.
from .browser import (  # noqa: F401
    shequyun_browser_page,
    shequyun_portal,
    shequyun_portal_plugins,
    shequyun_portal_settings,
)

TEST_DATABASE_ENV = "SHEQUYUN_TEST_DATABASE_URL"
XDIST_WORKER_ENV = "PYTEST_XDIST_WORKER"  # set by pytest-xdist in each worker: gw0, gw1...


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``browser`` mark of the browser tests (docs/plugins/testing.md), so that a
    plugin's suite runs under ``--strict-markers`` and warnings-as-errors without declaring it."""
    config.addinivalue_line(
        "markers", "browser: drives Chromium through the harness's served portal (shequyun_portal)"
    )


def _database_server() -> str | None:
    """``SHEQUYUN_TEST_DATABASE_URL``, with this xdist worker's name added to the database name.

    The harness only uses the database name as a prefix (templates are ``<name>_tpl<hash>``, and
    a template left by an interrupted run is dropped before it is made again), so two workers
    with the same prefix would drop each other's templates.
    """
    server = os.environ.get(TEST_DATABASE_ENV) or None
    worker = os.environ.get(XDIST_WORKER_ENV)
    if server is None or not worker:
        return server
    from sqlalchemy.engine import make_url

    url = make_url(server)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def shequyun_test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Hands out fresh migrated databases (one template per set of migrations)."""
    from shequyun.testing import TestDatabases

    databases = TestDatabases(tmp_path_factory.mktemp("shequyun-db"), _database_server())
    yield databases
    databases.close()


@pytest.fixture
def shequyun_plugins() -> list[Any]:
    """Plugin objects to load besides installed ones; override to register yours."""
    return []


@pytest.fixture
def shequyun_discover() -> bool:
    """Whether to discover installed plugins through their entry points."""
    return True


@pytest.fixture
def shequyun_settings() -> dict[str, Any]:
    """Extra settings for the kernel under test, as keyword arguments."""
    return {}


@pytest.fixture
def shequyun_kernel(
    tmp_path: Path,
    shequyun_test_databases: Any,
    shequyun_plugins: list[Any],
    shequyun_discover: bool,
    shequyun_settings: dict[str, Any],
) -> Iterator[Any]:
    """A kernel with the plugins loaded, on a fresh database with every migration applied."""
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    def build(database_url: str) -> Any:
        # strict_events: every event a test publishes must match its declaration.
        values = {
            "data_dir": tmp_path / "var",
            "inline_worker": False,
            "strict_events": True,
            **shequyun_settings,
        }
        settings = load_settings(environ={}, database_url=database_url, **values)
        return Kernel(settings, plugins=shequyun_plugins, discover=shequyun_discover)

    # Build the kernel (its hooks run once) on a database that does not exist yet, then create
    # it migrated for exactly the set of migrations the kernel collected: building connects to
    # nothing.
    url = shequyun_test_databases.reserve()
    kernel = build(url)
    shequyun_test_databases.fill(url, kernel.migrations)
    yield kernel
    kernel.close()
    shequyun_test_databases.drop(url)


@pytest.fixture
def shequyun_app(shequyun_kernel: Any) -> Any:
    """The platform's Starlette app around ``shequyun_kernel``."""
    from shequyun.app import create_app

    return create_app(kernel=shequyun_kernel)


@pytest.fixture
def shequyun_client(shequyun_app: Any) -> Iterator[Any]:
    """An in-process HTTP client (Starlette's TestClient) with the app started."""
    from starlette.testclient import TestClient

    with TestClient(shequyun_app) as client:
        yield client


@pytest.fixture
def drain_events(shequyun_kernel: Any) -> Callable[[], None]:
    """Call it to deliver every pending event now, retries included, ignoring backoff."""
    return shequyun_kernel.events.drain  # type: ignore[no-any-return]


@pytest.fixture
def unchecked_events(shequyun_kernel: Any) -> Callable[[], AbstractContextManager[None]]:
    """``with unchecked_events(): ...`` publishes without checking events against their
    declarations, as production does: for a test of how your subscriber copes with a malformed
    payload from someone else's plugin. Everywhere else the harness refuses such events."""
    catalogue = shequyun_kernel.events.catalogue

    @contextmanager
    def unchecked() -> Iterator[None]:
        before = catalogue.strict
        catalogue.strict = False
        try:
            yield
        finally:
            catalogue.strict = before

    return unchecked


@pytest.fixture
def scheduled_jobs(shequyun_client: Any, shequyun_kernel: Any) -> Iterator[Any]:
    """The platform's scheduled jobs, on a clock that moves only when the test moves it.

    ``scheduled_jobs.run("interaction.digest")`` runs a job now (as ``shequyun jobs run``);
    ``scheduled_jobs.run_due(at=moment)`` runs what is due at ``moment`` (an aware datetime), as
    a worker would then (the first ``run_due`` is the platform starting: each job first falls
    due at its first scheduled moment after it); ``.advance(hours=1)`` moves the clock on;
    ``.status(name)`` has the schedule, ``next_due``, ``last_outcome``, ``last_summary`` and
    ``last_error``; ``.names`` lists the jobs. Each run returns ``.outcome`` (``ok``/``failed``),
    ``.summary``, ``.error``. While the fixture is in use, ``shequyun_sdk.beijing_now()`` and
    ``beijing_today()`` read the same clock, in job handlers and everywhere else the test runs.
    """
    from shequyun.scheduler.testing import ScheduledJobs

    jobs = ScheduledJobs(shequyun_kernel.scheduler)
    yield jobs
    jobs.close()


@pytest.fixture
def shequyun_units(shequyun_kernel: Any) -> dict[str, Any]:
    """A small slice of Shanghai (two districts, three streets, five committees) by code.

    上海市 310000000000 › 浦东新区 310115000000 › 潍坊新村街道 310115004000 › 潍坊一村居委会
    310115004001 and 潍坊二村居委会 310115004002; 陆家嘴街道 310115005000 › 梅园一村居委会
    310115005001; 徐汇区 310104000000 › 天平路街道 310104003000 › 宛平南路居委会 310104003001 and
    建国西路居委会 310104003002.
    """
    from shequyun.testing import build_test_tree

    return build_test_tree(shequyun_kernel)  # type: ignore[no-any-return]


@pytest.fixture
def shequyun_actors(
    shequyun_client: Any, shequyun_app: Any, shequyun_kernel: Any, shequyun_units: dict[str, Any]
) -> Any:
    """Make users at any level: ``shequyun_actors.cadre("310115004001")``.

    The unit may be one of ``shequyun_units`` or any unit of Shanghai's reference tree (the
    demo's districts, streets and 6,077 committees), created when first named;
    ``shequyun_actors.unit(code)`` is the unit itself, and an unknown code raises
    ``LookupError`` naming it.

    Each actor has ``.auth`` (bearer headers), ``.client()`` (an API client with their token)
    and ``.portal()`` (a client logged in through the login form, CSRF header set). Helpers:
    ``platform_admin``, ``bureau``, ``district_admin``, ``street_admin``, ``cadre``,
    ``social_worker``, and ``make(role, unit_code)`` for any role, plugins' included.
    """
    from shequyun.testing import Actors

    return Actors(shequyun_kernel, shequyun_app, shequyun_units)
