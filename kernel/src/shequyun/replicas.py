"""Read replicas: PostgreSQL streaming replicas answer the read-only pages and API routes.

Routes that only read (lists, search, results, dashboards) are marked with
:func:`reads_replica`; their database work runs on a replica when the request allows it:

- **the replica is healthy**: it answers, it is in recovery (a replica, not a promoted copy),
  and its lag is within ``replica_max_lag``. Health is checked at most every
  ``replica_check_every`` seconds, by whichever request thread comes first (the others go on
  with what was last found): the primary's WAL position is sampled, each replica's replayed
  position is read, and the lag is how long ago the primary stood where the replica stands
  now. A replica that is down, lagging or unknown is skipped and the primary answers.
- **the person did not just write**: a request that changes something (any method but GET and
  HEAD) pins its author's reads to the primary for :attr:`Replicas.window` seconds, the lag
  bound plus one health-check interval; after that, any replica still in use has replayed the
  write. The pin is kept in this process by the person's identity, and in a cookie
  (``shequyun_primary_until``) that carries it to the other workers.

Everything else (writes, reads in the same transaction as a write, routes not marked) uses the
primary. The replicas are PostgreSQL's own streaming replication; nothing here copies data.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "COOKIE",
    "PINNED_BEFORE",
    "ReplicaRouting",
    "ReplicaState",
    "Replicas",
    "download_allowed",
    "reads_replica",
    "replica_allowed",
]

log = logging.getLogger("shequyun.replicas")

#: The attribute :func:`reads_replica` sets on an endpoint.
MARK = "shequyun_reads_replica"
#: The scope key the routing middleware sets when this request's reads may use a replica.
ALLOWED = "shequyun.replica_allowed"
#: The scope key the routing middleware sets on a request that changes something: whether its
#: person's reads were pinned to the primary before it (see :func:`download_allowed`).
PINNED_BEFORE = "shequyun.pinned_before"
#: The cookie that pins a person's reads to the primary after they wrote (a Unix time).
COOKIE = "shequyun_primary_until"
#: Persons remembered as having just written, per process, before old entries are dropped.
MAX_WRITERS = 10_000
READING_METHODS = frozenset({"GET", "HEAD"})

E = TypeVar("E", bound=Callable[..., Any])


def reads_replica(endpoint: E) -> E:
    """Mark a route's endpoint as read-only: its database work may run on a replica.

    Only for endpoints whose work writes nothing in the session it is given (audit entries
    written through their own transaction on the primary are fine)."""
    setattr(endpoint, MARK, True)
    return endpoint


def replica_allowed(scope: Scope) -> bool:
    """Whether this request's reads may go to a replica: a marked endpoint, a reading method,
    and a person who has not just written."""
    return bool(scope.get(ALLOWED)) and bool(getattr(scope.get("endpoint"), MARK, False))


def download_allowed(scope: Scope) -> bool:
    """Whether a download requested by a form (a POST that only reads, and audits on the
    primary) may read a replica: its person had not written within the window before it.

    The middleware cannot tell such a POST from a change, so it pins the person afterwards
    all the same; this only decides where the download's own rows come from."""
    if scope.get("method") in READING_METHODS:
        return bool(scope.get(ALLOWED))
    return scope.get(PINNED_BEFORE) is False


@dataclass(frozen=True)
class ReplicaState:
    """What the last health check found about one replica."""

    name: str
    url: str  # password masked
    healthy: bool
    lag_seconds: float | None
    reason: str | None

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "state": "in_use" if self.healthy else "skipped",
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "reason": self.reason,
        }


class Replicas:
    """The replicas of one primary: their health, which one to read from, who just wrote."""

    def __init__(
        self,
        primary: Engine,
        replicas: Sequence[tuple[str, Engine]],
        *,
        max_lag: float = 5.0,
        check_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.engines = list(replicas)
        self.max_lag = max_lag
        self.check_every = check_every
        self.clock = clock
        # (when, primary WAL position) samples, enough to measure lags past the bound.
        self._history: deque[tuple[float, int]] = deque(maxlen=int(max_lag / check_every) * 4 + 16)
        self._states = {
            name: ReplicaState(name, _masked(engine), False, None, "not checked yet")
            for name, engine in self.engines
        }
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._writers: dict[str, float] = {}

    @property
    def window(self) -> float:
        """How long a person's reads stay on the primary after they wrote (seconds)."""
        return self.max_lag + self.check_every

    # -- reading ------------------------------------------------------------------------

    def engine_for_reading(self) -> Engine | None:
        """A healthy replica's engine (in turn), or None when none is: read the primary."""
        self._refresh_if_due()
        healthy = [engine for name, engine in self.engines if self._states[name].healthy]
        if not healthy:
            return None
        return healthy[next(self._turn) % len(healthy)]

    def states(self, *, fresh: bool = False) -> list[ReplicaState]:
        """What is known of each replica; ``fresh`` checks them now."""
        if fresh:
            with self._lock:
                self.refresh()
        else:
            self._refresh_if_due()
        return [self._states[name] for name, _ in self.engines]

    def _refresh_if_due(self) -> None:
        if self.clock() - self._checked_at < self.check_every:
            return
        if not self._lock.acquire(blocking=False):
            return  # another thread is checking; go on with what was last found
        try:
            self.refresh()
        finally:
            self._lock.release()

    def refresh(self) -> None:
        """Sample the primary's WAL position and check every replica against it."""
        now = self.clock()
        self._checked_at = now
        try:
            with self.primary.connect() as connection:
                position = connection.execute(
                    text("SELECT pg_current_wal_lsn() - '0/0'")
                ).scalar_one()
        except Exception as exc:
            # Without the primary's position no lag can be known: read the primary, which
            # will tell the client about its own trouble.
            for name, engine in self.engines:
                self._set(name, engine, None, f"primary position unknown: {_reason(exc)}")
            return
        self._history.append((now, int(position)))
        for name, engine in self.engines:
            self._check(name, engine, now)

    def _check(self, name: str, engine: Engine, now: float) -> None:
        try:
            with engine.connect() as connection:
                in_recovery, replayed = connection.execute(
                    text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'")
                ).one()
        except Exception as exc:
            self._set(name, engine, None, f"unreachable: {_reason(exc)}")
            return
        if not in_recovery or replayed is None:
            self._set(name, engine, None, "not a replica (not in recovery)")
            return
        lag = self._lag(int(replayed), now)
        if lag is None:
            self._set(name, engine, None, "lag not known yet")
        elif lag > self.max_lag:
            self._set(name, engine, lag, f"lagging {lag:.1f} s (bound {self.max_lag:g} s)")
        else:
            self._set(name, engine, lag, None)

    def _lag(self, replayed: int, now: float) -> float | None:
        """How long ago the primary stood where the replica has replayed to (None: before
        the oldest sample, and the samples do not yet span the bound)."""
        latest = self._history[-1][1]
        if replayed >= latest:
            return 0.0
        for at, position in reversed(self._history):
            if position <= replayed:
                return now - at
        oldest_at = self._history[0][0]
        return now - oldest_at if now - oldest_at > self.max_lag else None

    def _set(self, name: str, engine: Engine, lag: float | None, reason: str | None) -> None:
        before = self._states[name]
        state = ReplicaState(name, before.url, reason is None, lag, reason)
        if state.healthy != before.healthy and before.reason != "not checked yet":
            if state.healthy and before.reason == "lag not known yet":
                # A worker's first measure (its first second, before the primary's position
                # has been sampled twice): the replica was never out, nothing to warn about.
                log.info("replica %s in use (lag %.1f s)", name, lag or 0.0)
            elif state.healthy:
                log.warning("replica %s back in use (lag %.1f s)", name, lag or 0.0)
            else:
                log.warning("replica %s skipped: %s", name, reason)
        self._states[name] = state

    # -- read-your-writes ---------------------------------------------------------------

    def wrote(self, person: str) -> None:
        """``person`` just wrote: their reads go to the primary for :attr:`window` seconds."""
        now = self.clock()
        if len(self._writers) >= MAX_WRITERS:
            self._writers = {k: v for k, v in self._writers.items() if v > now}
            if len(self._writers) >= MAX_WRITERS:
                self._writers.pop(next(iter(self._writers)))
        self._writers[person] = now + self.window

    def pinned(self, person: str) -> bool:
        """Whether ``person`` wrote in this process within the last :attr:`window` seconds."""
        until = self._writers.get(person)
        return until is not None and until > self.clock()

    def dispose(self) -> None:
        for _, engine in self.engines:
            engine.dispose()


def _masked(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _reason(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:200]


def _person(scope: Scope) -> str | None:
    actor = scope.get("shequyun.actor")
    user_id = getattr(actor, "user_id", None)
    if user_id is not None:
        return f"user:{user_id}"
    username = getattr(actor, "username", None)
    return f"name:{username}" if username else None


class ReplicaRouting:
    """Decides, per request, whether its reads may use a replica (after the auth middleware,
    which names the person), and pins a writer's reads to the primary afterwards. Installed
    only when there are replicas."""

    def __init__(self, app: ASGIApp, *, replicas: Replicas, secure_cookies: bool = False) -> None:
        self.app = app
        self.replicas = replicas
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replicas = self.replicas
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        person = _person(scope)
        pinned = (person is not None and replicas.pinned(person)) or _cookie_pins(
            scope, replicas.window
        )
        if scope["method"] in READING_METHODS:
            scope[ALLOWED] = not pinned
            await self.app(scope, receive, send)
            return
        scope[PINNED_BEFORE] = pinned
        if person is not None:
            replicas.wrote(person)
        until = time.time() + replicas.window
        cookie = (
            f"{COOKIE}={until:.3f}; Max-Age={int(replicas.window) + 1}; Path=/; HttpOnly; "
            f"SameSite=Lax{'; Secure' if self.secure else ''}"
        )

        async def send_with_pin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_pin)


def _cookie_pins(scope: Scope, window: float) -> bool:
    for name, value in scope.get("headers", []):
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, raw = part.strip().partition("=")
            if key != COOKIE:
                continue
            try:
                until = float(raw)
            except ValueError:
                return False
            now = time.time()
            # A deadline further off than one window was not set by us: ignore it.
            return now < until <= now + window + 1
    return False
