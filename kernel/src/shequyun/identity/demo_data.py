"""(being written) Demo data of the identity plugin."""

from __future__ import annotations

from typing import Any


def load(kernel: Any) -> str | None:
    return None
