"""This repository's machine setup for every test folder (tests/, plugins/, examples/).

Browser tests drive Debian's chromium: Playwright cannot download a browser on these machines.
Everything else a test needs comes from the SDK's harness (``shequyun_sdk.testing``).
"""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/lib/chromium/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Drive Debian's chromium: Playwright cannot download a browser on these machines."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """Pages as a Shanghai cadre's browser shows them: Chinese, Beijing time."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
