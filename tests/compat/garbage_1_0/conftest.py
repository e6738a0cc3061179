"""examples/garbage exactly as it was built against SDK 1.0.0 (commit 04dda19, the 1.0 landing),
with its own tests, unchanged: a minor release keeps such a plugin loading and passing
(docs/plugins/compatibility.md). Do not edit ``shequyun_garbage/`` or ``test_garbage.py``.

It uses more of the contract than hello: declared event types with unit payloads, an indicator,
translations, static files, a workbench card and enablement for one district.
"""

from __future__ import annotations

import pytest

from . import shequyun_garbage


@pytest.fixture
def shequyun_plugins():
    return [shequyun_garbage]
