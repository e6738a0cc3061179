"""Calling plugin handlers with the optional arguments they ask for.

Event subscribers and scheduled jobs are plain callables. As with hooks (pluggy passes each
implementation only the arguments it names), a handler declares the optional arguments it
wants by name — ``actor`` for the plugin's own actor, ``scheduled_for`` for a job's run — and
the kernel passes those only. So a handler written as ``def handle(event)`` keeps working when
the kernel offers more.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

__all__ = ["wanted"]


def wanted(handler: Callable[..., Any], offered: Collection[str]) -> frozenset[str]:
    """Which of the ``offered`` keyword arguments ``handler`` accepts."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: offer nothing
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return frozenset(offered)
    named = {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return frozenset(name for name in offered if name in named)
