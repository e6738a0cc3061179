"""Prometheus metrics, with the standard ``prometheus_client`` library.

What a district's team watches: request latency per route template, the database pools, the
outbox's backlog, scheduled job runs and login failures. ``shequyun serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before its workers start, so each worker
writes its figures there and ``/metrics``, whichever worker answers it, adds them all up
(``prometheus_client``'s multiprocess mode). Figures that belong to the database rather than to a
process (the outbox, the jobs) are read from it when ``/metrics`` is scraped.

``/metrics`` answers a scraper that presents ``Authorization: Bearer <metrics_token>`` when a
token is set; without one, only a client on this machine whose request did not come through a
proxy (no ``X-Forwarded-For`` / ``Forwarded``) is answered.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from .errors import error_response
from .outages import database_unavailable, describe
from .route_index import template_aimed_at

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = [
    "JOB_RUNS",
    "LOGIN_FAILURES",
    "MULTIPROC_ENV",
    "PATH",
    "TOKEN_REJECTIONS",
    "UNMATCHED",
    "forget_dead_processes",
    "observe_request",
    "route_template",
    "serve_metrics",
    "watch_pool",
]

log = logging.getLogger("shequyun.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PATH = "/metrics"
#: The route label of a request whose path no route serves: one series for every such path.
UNMATCHED = "unmatched"

REQUEST_SECONDS = Histogram(
    "shequyun_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
POOL_IN_USE = Gauge(
    "shequyun_db_connections_in_use",
    "Database connections checked out of the pools right now.",
    ["database"],
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "shequyun_db_connections_open",
    "Database connections the pools hold open (in use or idle).",
    ["database"],
    multiprocess_mode="livesum",
)
POOL_LIMIT = Gauge(
    "shequyun_db_connections_limit",
    "The most connections the pools may open (pool size plus overflow, summed over processes).",
    ["database"],
    multiprocess_mode="livesum",
)
JOB_RUNS = Counter(
    "shequyun_job_runs_total",
    "Scheduled job runs made by processes on this host, by job and outcome.",
    ["job", "outcome"],
)
TOKEN_REJECTIONS = Counter(
    "shequyun_token_rejections_total",
    "Requests refused for their Authorization header, by why (malformed, invalid).",
    ["reason"],
)
LOGIN_FAILURES = Counter(
    "shequyun_login_failures_total",
    "Portal logins refused, by why (bad_credentials, too_soon, locked).",
    ["reason"],
)


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``/api/v1/residents/{resident_id}``),
    never the path itself: ids in paths would make a series per resident. A request answered
    before routing (a refused token or CSRF check, a body over the bound, a database outage
    while signing in) gets the template of the route it was for, so that a 403 or a 503 shows
    where it hurt; ``unmatched`` is left for paths no route serves (404s, scanners)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None or isinstance(route, Mount):  # no route yet, or no route inside a mount
        return _template_aimed_at(scope) or UNMATCHED
    root_path = scope.get("root_path")
    if not root_path:
        return str(path)
    mounted = str(root_path)[len(str(scope.get("app_root_path", ""))) :]
    return mounted + str(path)


def _template_aimed_at(scope: Scope) -> str | None:
    router = getattr(scope.get("app"), "router", None)
    if router is None:
        return None
    # The path as the application received it: a mount on the way has moved root_path on.
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return template_aimed_at(router, {**scope, "root_path": root_path})


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count a request to ``route`` (its template) answered with ``status`` in ``seconds``."""
    key = (method, route, status)
    observe = _REQUEST_SERIES.get(key)
    if observe is None:
        observe = _REQUEST_SERIES[key] = REQUEST_SECONDS.labels(method, route, str(status)).observe
    observe(seconds)


#: The ``observe`` of the histogram's labelled series by (method, route template, status):
#: ``labels()`` checks and locks on every call, a measurable share of a small request's cost.
#: As many as the histogram itself holds.
_REQUEST_SERIES: dict[tuple[str, str, int], Callable[[float], None]] = {}


def watch_pool(engine: Engine, database: str, limit: int) -> None:
    """Count the connections ``engine``'s pool holds and lends, under label ``database``."""
    in_use = POOL_IN_USE.labels(database)
    opened = POOL_OPEN.labels(database)
    limited = POOL_LIMIT.labels(database)
    limited.inc(limit)
    event.listen(engine, "engine_disposed", lambda *_: limited.dec(limit))
    event.listen(engine, "checkout", lambda _c, record, _p: _lent(record, in_use))
    event.listen(engine, "checkin", lambda _c, record: _returned(record, in_use))
    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "close_detached", lambda *_: opened.dec())


def _lent(record: ConnectionPoolEntry, in_use: Gauge) -> None:
    """A checkout: counted once, though a connection found dead on checkout is replaced and
    checked out again."""
    info = record.record_info  # None only for a detached entry, never in these events
    if info is None or not info.get(_LENT):
        if info is not None:
            info[_LENT] = True
        in_use.inc()


def _returned(record: ConnectionPoolEntry, in_use: Gauge) -> None:
    """A checkin of a connection that was lent. SQLAlchemy also checks in a record whose
    connection could not be opened (the database down), which was never lent: during an
    outage every failed try took one off the gauge (-36 after 45 s of PgBouncer stopped)."""
    info = record.record_info
    if info is None or info.pop(_LENT, False):
        in_use.dec()


#: Marks a pool record lent out (its ``record_info`` outlives a replaced connection).
_LENT = "shequyun.metrics.lent"


def forget_dead_processes(directory: str) -> list[int]:
    """Forget the live gauges (the pools) that processes which are gone left in ``directory``.

    A directory shared by the web and worker services outlives each start of either (see the
    operations guide's systemd units); a process that was killed (the OOM killer, SIGKILL) never
    said it stopped, and its pools would be added to every scrape until the machine restarts.
    Counters of dead processes stay: they are runs and requests that happened."""
    from prometheus_client import multiprocess

    gone: set[int] = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        number = path.stem.rsplit("_", 1)[-1]
        if number.isdigit() and not _alive(int(number)):
            gone.add(int(number))
    for pid in gone:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return sorted(gone)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def process_exit() -> None:
    """Forget this process's live gauges (its pools) when it stops."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


class DatabaseCollector(Collector):
    """Figures kept in the database, read at each scrape: the outbox and the jobs."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .events import EventDelivery, OutboxEvent
        from .scheduler.models import ScheduledJobRow

        waiting = GaugeMetricFamily(
            "shequyun_outbox_deliveries",
            "Event deliveries by status (pending: waiting for a subscriber; dead: given up).",
            labels=["status"],
        )
        lag = GaugeMetricFamily(
            "shequyun_outbox_lag_seconds",
            "Age of the oldest event whose delivery is still pending (0 when none is).",
        )
        last_run = GaugeMetricFamily(
            "shequyun_job_last_started_timestamp_seconds",
            "When each scheduled job last started (Unix time).",
            labels=["job"],
        )
        failing = GaugeMetricFamily(
            "shequyun_job_failing", "1 when a job's last run failed.", labels=["job"]
        )
        delivery = EventDelivery.__table__  # type: ignore[attr-defined]
        outbox = OutboxEvent.__table__  # type: ignore[attr-defined]
        jobs_table = ScheduledJobRow.__table__  # type: ignore[attr-defined]
        try:
            with self.kernel.engine.connect() as connection:
                counts: dict[str, int] = dict(
                    connection.execute(
                        select(delivery.c.status, func.count())
                        .where(delivery.c.status.in_(("pending", "dead")))
                        .group_by(delivery.c.status)
                    ).all()
                )
                oldest = connection.execute(
                    select(func.min(outbox.c.created_at))
                    .select_from(delivery.join(outbox, outbox.c.id == delivery.c.event_id))
                    .where(delivery.c.status == "pending")
                ).scalar_one()
                jobs = connection.execute(
                    select(
                        jobs_table.c.name, jobs_table.c.last_started_at, jobs_table.c.last_outcome
                    )
                ).all()
        except Exception as exc:
            # An outage is one line per scrape; anything else keeps its traceback.
            outage = database_unavailable(exc)
            log.warning(
                "metrics: the database did not answer%s",
                f" ({describe(exc)})" if outage else "",
                exc_info=not outage,
            )
            return
        for status in ("pending", "dead"):
            waiting.add_metric([status], float(counts.get(status, 0)))
        lag.add_metric(
            [],
            0.0
            if oldest is None
            else max(0.0, (datetime.now(UTC) - _aware(oldest)).total_seconds()),
        )
        for name, started, outcome in jobs:
            if started is not None:
                last_run.add_metric([name], _aware(started).timestamp())
            failing.add_metric([name], 1.0 if outcome == "failed" else 0.0)
        yield from (waiting, lag, last_run, failing)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def exposition(kernel: Kernel) -> bytes:
    """The text every scrape gets: all processes' figures, then the database's."""
    database = CollectorRegistry(auto_describe=True)
    database.register(DatabaseCollector(kernel))
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        return generate_latest(processes) + generate_latest(database)
    return generate_latest(REGISTRY) + generate_latest(database)


_LOCAL = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


async def serve_metrics(kernel: Kernel, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``GET /metrics`` (the gate sends it here, before authentication: a scraper is
    not a user)."""
    if not _allowed(kernel, scope):
        response = error_response(scope, 403, "forbidden", "metrics: not for this client")
        await response(scope, receive, send)
        return
    body = await run_in_threadpool(exposition, kernel)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _allowed(kernel: Kernel, scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    token = kernel.settings.metrics_token.get_secret_value()
    if token:
        presented = headers.get(b"authorization", b"").decode("latin-1")
        return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())
    if b"x-forwarded-for" in headers or b"forwarded" in headers:
        return False
    return _is_local(scope.get("client"))


def _is_local(client: Iterable[Any] | None) -> bool:
    if not client:
        return False
    try:
        address = ipaddress.ip_address(next(iter(client)))
    except ValueError:
        return False
    return any(address in network for network in _LOCAL)
