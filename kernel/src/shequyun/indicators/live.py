"""The current period's figures of a district or the city, computed at most every few minutes.

Live figures are counted from the records when a page asks for them. For a committee or a
street that reads a few thousand rows; for a district or the whole city each indicator reads
every resident of it (on the 277,000-resident demo the city's dashboard ran 79 statements for
5-7 s on PostgreSQL and over 30 s on SQLite, and it grows with the city), and the dashboard, its
detail pages and the wall display in an operations room each asked again. So a process keeps
what it computed for a unit above the streets for :data:`REUSE_SECONDS`, and every page of
that unit and period shows those figures, saying when they were computed; a request that
finds another computing the same figures waits for them rather than computing them twice.
Streets and committees are always computed afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from shequyun_sdk.indicators import Period

from .compute import Computed
from .registry import Declared
from .tree import Tree

__all__ = ["REUSED_LEVELS", "REUSE_SECONDS", "LiveFigures"]

#: How long a process shows a district's or the city's live figures before computing again.
REUSE_SECONDS = 120.0
#: The levels whose live figures are kept: each reads a whole district at least.
REUSED_LEVELS = frozenset({"city", "district"})

_Key = tuple[str, int, str, str]


class LiveFigures:
    """Live figures of units above the streets, kept for :data:`REUSE_SECONDS` per process.

    ``clock`` gives monotonic seconds (a test moves it on)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._kept: dict[_Key, tuple[float, datetime, Computed]] = {}
        self._computing: dict[_Key, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(
        self,
        declared: Declared,
        tree: Tree,
        period: Period,
        moment: datetime,
        compute: Callable[[], Computed],
    ) -> tuple[Computed, datetime]:
        """``declared``'s figures over ``tree`` for ``period`` and the moment they were counted
        at: kept ones while fresh (units above the streets only), else ``compute()``'s at
        ``moment``. A failed computation is not kept."""
        if tree.root.level not in REUSED_LEVELS:
            return compute(), moment
        key = (declared.name, tree.root.id, period.kind, period.code)
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one request computes a unit's figures; the others wait for them
            found = self._fresh(key)
            if found is not None:
                return found
            computed = compute()
            if computed.error is None:
                with self._lock:
                    self._forget_stale()
                    self._kept[key] = (self.clock(), moment, computed)
            return computed, moment

    def _fresh(self, key: _Key) -> tuple[Computed, datetime] | None:
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or self.clock() - kept[0] >= REUSE_SECONDS:
            return None
        return kept[2], kept[1]

    def _forget_stale(self) -> None:
        now = self.clock()
        for key in [k for k, (at, _m, _c) in self._kept.items() if now - at >= REUSE_SECONDS]:
            del self._kept[key]
