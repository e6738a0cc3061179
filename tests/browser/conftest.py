"""A real server and Debian's chromium for the portal's browser tests.

``portal`` starts the platform under uvicorn on a free loopback port, on a fresh database with
the test slice of Shanghai, for the whole module. ``browser_page`` is pytest-playwright's page
refusing (and recording) any request that leaves the server: ``offsite_requests`` must stay
empty, and so must what the Content-Security-Policy blocked. ``shoot(page, name)`` writes a screenshot to ``test-results/screenshots/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

pytestmark = pytest.mark.browser


@dataclass
class Portal:
    url: str
    kernel: Any
    app: Any
    actors: Any
    units: dict[str, Any]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def portal_plugins() -> list[Any]:
    """Plugin objects to load besides the installed ones; override it in a test module."""
    return []


@pytest.fixture(scope="module")
def portal(
    shequyun_test_databases: Any,
    tmp_path_factory: pytest.TempPathFactory,
    portal_plugins: list[Any],
) -> Iterator[Portal]:
    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import Actors, build_test_tree

    data_dir = tmp_path_factory.mktemp("portal")

    def build(url: str) -> Any:
        settings = load_settings(
            environ={}, data_dir=data_dir, database_url=url, inline_worker=False
        )
        return Kernel(settings, discover=True, plugins=portal_plugins)

    probe = build("sqlite://")
    url = shequyun_test_databases.fresh(probe.migrations)
    probe.engine.dispose()
    kernel = build(url)
    app = create_app(kernel=kernel)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    units = build_test_tree(kernel)
    try:
        yield Portal(f"http://127.0.0.1:{port}", kernel, app, Actors(kernel, app, units), units)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        kernel.close()
        shequyun_test_databases.drop(url)


@pytest.fixture
def offsite_requests() -> list[str]:
    return []


@pytest.fixture
def browser_page(page: Any, portal: Portal, offsite_requests: list[str]) -> Any:
    """Playwright's page, refusing (and recording) every request that leaves the portal."""

    def guard(route: Any) -> None:
        if route.request.url.startswith(portal.url):
            route.continue_()
        else:
            offsite_requests.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    # Whatever the Content-Security-Policy blocks (an inline script or style) is a broken page.
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    assert offsite_requests == [], f"requests left localhost: {offsite_requests}"
    assert blocked == [], f"the page policy blocked: {blocked}"


def shoot(page: Any, name: str) -> None:
    """Screenshots at phone and desktop width, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)


def log_in(page: Any, portal: Portal, actor: Any) -> None:
    page.goto(f"{portal.url}/login")
    page.get_by_label("用户名").fill(actor.username)
    page.get_by_label("密码").fill(actor.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
