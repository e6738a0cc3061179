"""A worker's memory of credentials found valid, forgotten one credential, user or unit at a time.

Looking a bearer token or a session cookie up costs a query and a hop to a worker thread. The
city's 6,077 committees each hold a token of their own and send requests rarely, so a memory
of a few seconds answered almost none of their requests: nearly every one was a token's first
in a while. The authenticator therefore remembers, by credential hash, what it found *valid*
(never an unknown, revoked or expired credential) for up to :data:`AUTH_CACHE_SECONDS` and never
past the credential's own expiry, least recently used first out once :data:`MAX_ENTRIES` are
held.

Such a memory is only safe because it is told what changed (:mod:`.revocations`): a revoked
token, an ended session, a changed user, grant or org unit is forgotten at once in the process
that commits the change and within about half a second in every other one, and only what the
change touches is forgotten (that token, that session, that user's credentials, the
credentials of that unit's subtree). ``AUTH_CACHE_SECONDS`` bounds only what nobody could be
told of: a row changed by hand in SQL.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["AUTH_CACHE_SECONDS", "MAX_ENTRIES", "CredentialCache", "Entry"]

#: The longest a credential found valid is trusted without asking the database again: the
#: bound for changes made by hand in SQL, which no process is told of.
AUTH_CACHE_SECONDS = 3600.0
#: Credentials remembered per kind (bearer tokens, sessions) and process; the least recently
#: used goes first. Some 3 KiB each: a city's committees, streets and apps fit many times.
MAX_ENTRIES = 50_000

V = TypeVar("V")


@dataclass(slots=True)
class Entry(Generic[V]):
    """One remembered credential: what it stands for, until when, and whose it is."""

    value: V
    until: float
    user_id: int | None
    unit_path: str | None
    #: The API token's id, to note its use when it is answered from memory.
    token_id: int | None = None
    #: When its use was last noted (the cache's clock).
    noted: float = 0.0


class CredentialCache(Generic[V]):
    """What a credential hash was found to stand for: a bounded, least-recently-used memory
    from which a change forgets only the credentials it touches."""

    def __init__(
        self,
        seconds: float = AUTH_CACHE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, Entry[V]] = OrderedDict()
        self._by_user: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        #: Moved on by every forgetting. A lookup notes it before reading the database and
        #: remembers its answer only if it has not moved since: a change that committed while
        #: the lookup ran may have been forgotten before the answer was there to forget.
        self.forgettings = 0

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> Entry[V] | None:
        """The remembered entry, or None when there is none still good (a hit makes it the
        most recently used)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() >= entry.until:
            with self._lock:
                if self._entries.get(key) is entry:
                    self._drop(key)
            return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        return entry

    def get(self, key: str) -> V | None:
        """The remembered value, or None."""
        entry = self.entry(key)
        return None if entry is None else entry.value

    def put(
        self,
        key: str,
        value: V,
        found_under: int,
        expires_in: float | None = None,
        *,
        user_id: int | None = None,
        unit_path: str | None = None,
        token_id: int | None = None,
    ) -> None:
        """Remember ``value``, looked up when :attr:`forgettings` was ``found_under``, for the
        cache's seconds or ``expires_in`` seconds, whichever is shorter."""
        lasts = self.seconds if expires_in is None else min(self.seconds, expires_in)
        if lasts <= 0 or self.max_entries <= 0:
            return
        now = self.clock()
        entry = Entry(value, now + lasts, user_id, unit_path, token_id, now)
        with self._lock:
            if found_under != self.forgettings:
                return
            self._drop(key)
            self._entries[key] = entry
            if user_id is not None:
                self._by_user.setdefault(user_id, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def forget(self, key: str) -> None:
        """Forget one credential."""
        with self._lock:
            self.forgettings += 1
            self._drop(key)

    def forget_user(self, user_id: int) -> None:
        """Forget every credential of one user."""
        with self._lock:
            self.forgettings += 1
            for key in list(self._by_user.get(user_id, ())):
                self._drop(key)

    def forget_unit(self, unit_id: int) -> None:
        """Forget every credential whose unit is ``unit_id`` or lies below it (its path, the
        ids from the root, names it)."""
        part = f"/{unit_id}/"
        self.forget_where(lambda entry: entry.unit_path is not None and part in entry.unit_path)

    def forget_where(self, test: Callable[[Entry[V]], bool]) -> None:
        """Forget every credential whose entry passes ``test`` (a walk over all of them: for
        changes too rare to index)."""
        with self._lock:
            self.forgettings += 1
            for key in [k for k, entry in self._entries.items() if test(entry)]:
                self._drop(key)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self.forgettings += 1
            self._entries.clear()
            self._by_user.clear()

    def keys(self) -> Iterable[str]:
        """The remembered credential hashes, least recently used first (a copy)."""
        with self._lock:
            return list(self._entries)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.user_id is not None:
            keys = self._by_user.get(entry.user_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_user[entry.user_id]
