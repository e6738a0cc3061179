"""Browser tests of a plugin: a live portal and a logged-in Playwright page.

Fixtures (loaded with the rest of the harness; they need ``pytest-playwright`` only when used):

``shequyun_portal``
    (module scope) The platform served by uvicorn on a free loopback port, with the installed
    plugins discovered and those of ``shequyun_portal_plugins`` loaded, on a fresh database
    holding the test slice of Shanghai, events delivered by the server itself. It has ``.url``,
    ``.kernel``, ``.app``, ``.actors`` (as ``shequyun_actors``, any unit of Shanghai) and
    ``.login(page, actor)``.
``shequyun_browser_page``
    Playwright's ``page``, refusing every request that leaves the portal (government networks
    are closed: a CDN link is a bug) and failing the test that made one, or whose page had
    something blocked by the portal's Content-Security-Policy.
``shequyun_portal_plugins``, ``shequyun_portal_settings``
    (module scope) Override them in a test module to load plugin objects or change settings.

``shoot(page, name)`` saves screenshots at phone and desktop width for people to look at.
Which browser runs is pytest-playwright's business: set ``browser_type_launch_args`` in your
``conftest.py`` to use a system chromium.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["DESKTOP", "PHONE", "STARTUP_LIMIT", "Portal", "shoot"]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

#: How long the server may take to start: a liveness bound on a loaded machine, not a timing
#: test (30 s was not enough on a busy 2-core runner).
STARTUP_LIMIT = 120.0


@dataclass
class Portal:
    """A served platform for browser tests."""

    url: str
    kernel: Any
    app: Any
    actors: Any
    units: dict[str, Any] = field(default_factory=dict)

    def login(self, page: Any, actor: Any) -> None:
        """Log ``actor`` (from ``.actors``) in through the portal's login form in ``page``."""
        page.goto(f"{self.url}/login")
        page.get_by_label("用户名").fill(actor.username)
        page.get_by_label("密码").fill(actor.password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("networkidle")


def shoot(page: Any, name: str, directory: str | Path | None = None) -> None:
    """Screenshots ``<name>-phone.png`` and ``<name>-desktop.png`` of the whole page, in
    ``directory`` (default ``$SHEQUYUN_SCREENSHOTS`` or ``test-results/screenshots``)."""
    target = Path(directory or os.environ.get("SHEQUYUN_SCREENSHOTS") or "test-results/screenshots")
    target.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(target / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def shequyun_portal_plugins() -> list[Any]:
    """Plugin objects the portal loads besides the installed ones."""
    return []


@pytest.fixture(scope="module")
def shequyun_portal_settings() -> dict[str, Any]:
    """Setting overrides for the portal under test."""
    return {}


@pytest.fixture(scope="module")
def shequyun_portal(
    shequyun_test_databases: Any,
    tmp_path_factory: pytest.TempPathFactory,
    shequyun_portal_plugins: list[Any],
    shequyun_portal_settings: dict[str, Any],
) -> Iterator[Portal]:
    """The platform served on a loopback port for the test module (see the module's doc)."""
    import uvicorn

    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import Actors, build_test_tree

    url = shequyun_test_databases.reserve()
    values = {
        "data_dir": tmp_path_factory.mktemp("portal"),
        "inline_worker": True,
        "strict_events": True,
        **shequyun_portal_settings,
    }
    settings = load_settings(environ={}, database_url=url, **values)
    kernel = Kernel(settings, discover=True, plugins=shequyun_portal_plugins)
    shequyun_test_databases.fill(url, kernel.migrations)
    app = create_app(kernel=kernel)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_LIMIT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            kernel.close()
            raise RuntimeError(f"the portal did not start within {STARTUP_LIMIT:.0f} s")
        time.sleep(0.05)
    units = build_test_tree(kernel)
    try:
        yield Portal(f"http://127.0.0.1:{port}", kernel, app, Actors(kernel, app, units), units)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_LIMIT)
        kernel.close()
        shequyun_test_databases.drop(url)


@pytest.fixture
def shequyun_browser_page(page: Any, shequyun_portal: Portal) -> Iterator[Any]:
    """Playwright's ``page``, failing the test when a request leaves the portal or the
    Content-Security-Policy blocks something."""
    offsite: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(shequyun_portal.url):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    # Whatever the portal's Content-Security-Policy blocks (an inline script or style) is a
    # broken page.
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    assert offsite == [], f"requests left the portal: {offsite}"
    assert blocked == [], f"the page policy blocked: {blocked}"
