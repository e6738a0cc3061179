"""The portal's browser tests run on the SDK's browser harness, as a plugin's do.

``portal`` is the SDK's ``shequyun_portal`` (the platform under uvicorn on a loopback port,
the test slice of Shanghai, for the module) with events left to the test (no inline worker);
``browser_page`` is ``shequyun_browser_page`` (no request may leave the server). Override
``portal_plugins`` in a module to load plugin objects. Debian's chromium is set in the
repository's root ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shequyun_sdk.testing.browser import Portal, shoot

__all__ = ["SCREENSHOTS", "log_in", "shoot"]

#: Where the screenshots that are not pairs (the indicator walls at 1920 px) go.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def portal_plugins() -> list[Any]:
    """Plugin objects to load besides the installed ones; override it in a test module."""
    return []


@pytest.fixture(scope="module")
def shequyun_portal_plugins(portal_plugins: list[Any]) -> list[Any]:
    return portal_plugins


@pytest.fixture(scope="module")
def shequyun_portal_settings() -> dict[str, Any]:
    return {"inline_worker": False}


@pytest.fixture(scope="module")
def portal(shequyun_portal: Portal) -> Portal:
    return shequyun_portal


@pytest.fixture
def browser_page(shequyun_browser_page: Any) -> Any:
    return shequyun_browser_page


def log_in(page: Any, portal: Portal, actor: Any) -> None:
    portal.login(page, actor)
