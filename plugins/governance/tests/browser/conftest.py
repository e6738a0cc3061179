"""A live portal and Debian's chromium for the 社区治理 browser tests.

Copied in miniature from the kernel's ``tests/browser/conftest.py`` (a plugin's tests cannot
import the kernel's): ``portal`` serves the platform under uvicorn on a loopback port with the
installed plugins discovered, on a fresh database with the test slice of Shanghai, for the
module; ``browser_page`` refuses any request leaving the server; ``shoot`` writes screenshots at
phone and desktop width to ``test-results/screenshots/``.
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

SCREENSHOTS = Path(__file__).resolve().parents[4] / "test-results" / "screenshots"
CHROMIUM = "/usr/lib/chromium/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
        ],
    }


@dataclass
class Portal:
    url: str
    kernel: Any
    app: Any
    actors: Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def portal(
    shequyun_test_databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import Actors, build_test_tree

    data_dir = tmp_path_factory.mktemp("portal")

    def build(url: str) -> Any:
        settings = load_settings(
            environ={}, data_dir=data_dir, database_url=url, inline_worker=True
        )
        return Kernel(settings, discover=True)

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
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    units = build_test_tree(kernel)
    try:
        yield Portal(f"http://127.0.0.1:{port}", kernel, app, Actors(kernel, app, units))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        kernel.close()
        shequyun_test_databases.drop(url)


@pytest.fixture
def browser_page(page: Any, portal: Portal) -> Any:
    offsite: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(portal.url):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    blocked: list[str] = []  # what the Content-Security-Policy refused: a broken page
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    assert offsite == [], f"requests left localhost: {offsite}"
    assert blocked == [], f"the page policy blocked: {blocked}"


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)
