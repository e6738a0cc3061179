"""Refused credentials are counted, and sampled into the audit log.

Every request with a bad ``Authorization`` header used to write one audit row, so anonymous
traffic (a scanner, a client with a stale token retrying in a loop) made the database write as
fast as it could send. Now each refusal is counted in the metric
``shequyun_token_rejections_total{reason}``, and the audit log gets one ``token.rejected`` row
per client address per :data:`WINDOW` in each worker process; the row's ``repeated`` says how
many refusals from that address went unrecorded since the previous one.
"""

from __future__ import annotations

import threading
import time

__all__ = ["WINDOW", "Sampler"]

#: Seconds between two audit rows for refusals from one address (per worker process).
WINDOW = 60.0
#: Addresses remembered at most; beyond that the oldest windows are forgotten.
MAX_ADDRESSES = 10_000


class Sampler:
    """Decides which refusals are written to the audit log (thread-safe)."""

    def __init__(self, window: float = WINDOW, max_addresses: int = MAX_ADDRESSES) -> None:
        self.window = window
        self.max_addresses = max_addresses
        self._seen: dict[str, tuple[float, int]] = {}  # address -> (recorded at, unrecorded)
        self._lock = threading.Lock()

    def sample(self, address: str | None, now: float | None = None) -> int | None:
        """None when this refusal is only counted; otherwise how many refusals from
        ``address`` went unrecorded before it (0 for the first)."""
        moment = time.monotonic() if now is None else now
        key = address or "-"
        with self._lock:
            recorded = self._seen.get(key)
            if recorded is not None and moment - recorded[0] < self.window:
                self._seen[key] = (recorded[0], recorded[1] + 1)
                return None
            if recorded is None and len(self._seen) >= self.max_addresses:
                self._forget(moment)
            self._seen[key] = (moment, 0)
            return recorded[1] if recorded is not None else 0

    def _forget(self, moment: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if moment - v[0] < self.window}
        if len(self._seen) >= self.max_addresses:
            self._seen.clear()
