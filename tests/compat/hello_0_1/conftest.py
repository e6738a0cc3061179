"""examples/hello exactly as it was built against SDK 0.1.0 (the release before 1.0), with its
own tests, unchanged: SDK 1.0 promises that such a plugin still loads and passes
(docs/plugins/compatibility.md). Do not edit ``shequyun_hello/`` or ``test_hello.py``.

Its manifest asks for ``>=0.1,<0.2``; it declares no event types (0.1 had no way to), so what
it publishes comes with an ``SdkDeprecationWarning`` naming 2.0: shown, as a plugin author's
own suite would show it, rather than raised as this repository's warnings-as-errors would.
"""

from __future__ import annotations

import pytest

from . import shequyun_hello

HERE = __file__.rsplit("/", 1)[0]


@pytest.fixture
def shequyun_plugins():
    return [shequyun_hello]


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.path).startswith(HERE):
            item.add_marker(
                pytest.mark.filterwarnings(
                    "default::shequyun_sdk.deprecation.SdkDeprecationWarning"
                )
            )
