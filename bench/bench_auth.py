"""Per-request cost of authentication and permission checks vs an unauthenticated route.

The platform app runs in-process on a migrated SQLite database (default plugins, no inline
worker) and is called directly over ASGI, one request at a time, so no HTTP parsing or network
stack dilutes the difference. The baseline is ``GET /healthz`` with no credentials; the subjects
are ``GET /api/v1/me`` with a bearer token and with a portal session cookie, a route guarded by
``requires("identity.org.view")`` that also checks ``platform.can`` on the actor's unit, and the
two ways committees use their tokens: **the city's 6,077 committee tokens in round robin** (each
token's next request comes 6,077 requests later, as when every committee sends now and then:
what the worker's memory of tokens is for), and **a token this worker has never seen** on every
request (a worker just started, or a token unused for longer than the memory keeps one: the
lookup in the database and the note of its last use). The kinds take turns within each round
and the median of the rounds is reported, in microseconds of wall time and of CPU time per
request. Last, the revocation latency: another process revokes tokens this one remembers, and
this one's epoch watcher must forget each (the time from the other's commit until then).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import anyio.to_thread
from _common import PYTHON, Figure, Result, clean_env, median, reproduce, spread
from shequyun_sdk import hookimpl
from shequyun_sdk.identity import actor_from_request, requires
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PERMISSION = "identity.org.view"
COMMITTEE = "310115004001"  # 潍坊一村居委会


@dataclass(frozen=True)
class Plan:
    rounds: int
    requests: int  # per kind and round
    warmup: int  # per kind, before the first round


FULL = Plan(rounds=5, requests=500, warmup=100)
QUICK = Plan(rounds=1, requests=20, warmup=5)
#: Tokens for the "first use" kind: one per request of the largest plan.
FIRST_USE_TOKENS = FULL.warmup + FULL.rounds * FULL.requests
#: One token per committee of the city, sent in round robin.
COMMITTEES = 6077
#: Tokens another process revokes while this one measures how soon it forgets them.
REVOKED = 5


@requires(PERMISSION)
async def guarded(request: Request) -> Response:
    """A route guarded by a permission that also checks one object, as plugin routes do."""
    actor = actor_from_request(request)
    assert actor is not None and actor.unit is not None
    allowed = request.app.state.platform.can(actor, PERMISSION, actor.unit)
    return JSONResponse({"allowed": allowed})


class BenchGuard:
    """The plugin serving :func:`guarded` at ``/api/v1/plugins/benchguard/ping``."""

    MANIFEST: ClassVar[dict[str, Any]] = {
        "name": "benchguard",
        "version": "0.1.0",
        "title": {"zh": "基准测试"},
        "description": {"zh": "权限检查的基准测试路由"},
        "sdk": ">=0.1,<0.2",
    }

    @hookimpl
    def register_api_routes(self, plugin: Any) -> Sequence[Route]:
        return [Route("/ping", guarded)]


def run(*, quick: bool = False) -> list[Result]:
    plan = QUICK if quick else FULL
    committees = 200 if quick else COMMITTEES
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-auth-") as tmp:
        kernel, app, kinds, secrets = _platform(Path(tmp), plan, committees)
        try:
            kernel.start()
            # The round robin's warm-up is one whole turn: every committee has sent before.
            timings = asyncio.run(_measure(app, kinds, plan, {"round robin": committees}))
            parts = _parts(kernel, secrets, plan)
            entry_bytes = _entry_bytes(kernel, secrets["round robin"][: min(committees, 2000)])
            latency = _revocation_latency(
                kernel, Path(tmp), secrets["revocable"][: 1 if quick else REVOKED]
            )
        finally:
            kernel.close()
    command = reproduce("auth", quick=quick)
    measured = f"median of {plan.rounds} rounds x {plan.requests} requests, in-process ASGI"
    baseline = _figure("GET /healthz", timings["healthz"])
    cpu_baseline = _figure("GET /healthz", timings["healthz cpu"])

    def cpu(name: str) -> str:
        used = median(timings[f"{name} cpu"])
        return f"{name} {used:.0f} us ({used / median(timings['healthz cpu']):.2f}x)"

    notes = (
        "one request at a time; wall time per request, the middleware's database lookups "
        "(in a worker thread) included",
        "of which, called directly, CPU time: token lookup in the database "
        f"(Authenticator.from_bearer) {median(parts['bearer']):.0f} us, session lookup "
        f"{median(parts['session']):.0f} us, worker-thread hop {median(parts['hop']):.0f} us",
        "the anonymous baseline still passes the auth middleware, which hands it a CSRF cookie",
        "CPU time per request (this process, worker threads included; steadier on a busy "
        "machine): " + ", ".join(cpu(name) for name in kinds),
        f"a remembered token holds {entry_bytes / 1024:.1f} KiB of this process's memory "
        f"(tracemalloc, {min(committees, 2000)} committee tokens)",
        "revocation by another process, from its commit until this one forgot the token: "
        + ", ".join(f"{ms:.0f}" for ms in latency)
        + " ms (the epoch is read every 500 ms)",
    )
    committees_label = f"/me, {committees:,} committee tokens in turn"
    return [
        Result(
            name="auth-bearer",
            title=f"GET /api/v1/me with a bearer token vs unauthenticated, {measured}",
            baseline=baseline,
            subject=_figure("/me bearer token", timings["bearer"]),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-session",
            title=f"GET /api/v1/me with a session cookie vs unauthenticated, {measured}",
            baseline=baseline,
            subject=_figure("/me session cookie", timings["session"]),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-committees-cpu",
            title=f"GET /api/v1/me with each of {committees:,} committee tokens in turn (each "
            f"token's next request {committees:,} requests later) vs unauthenticated, CPU time "
            f"per request, {measured}",
            baseline=cpu_baseline,
            subject=_figure(committees_label, timings["round robin cpu"]),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-first-use-cpu",
            title="GET /api/v1/me with a token this worker has not seen, every request, vs "
            f"unauthenticated, CPU time per request, {measured}",
            baseline=cpu_baseline,
            subject=_figure("/me, a token not seen yet", timings["first use cpu"]),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-revocation",
            title="a token revoked by another process: until this process forgets it",
            baseline=Figure("epoch read interval", 500.0, "ms", ""),
            subject=Figure("commit to forgotten", median(latency), "ms", spread(latency, " ms")),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-permission",
            title=f"token + requires({PERMISSION}) + can() vs unauthenticated, {measured}",
            baseline=baseline,
            subject=_figure("guarded bearer token", timings["permission"]),
            command=command,
            notes=notes,
        ),
    ]


Headers = list[tuple[bytes, bytes]]
#: A kind's headers: the same for every request, or the next of a series for each.
Kinds = dict[str, tuple[str, Headers | Iterator[Headers]]]


def _platform(root: Path, plan: Plan, committees: int) -> tuple[Any, Any, Kinds, dict[str, Any]]:
    """The app on a fresh database, a committee cadre, each kind's path and headers, and the
    secrets: the cadre's token and session cookie, the committee tokens."""
    from sqlmodel import Session

    from shequyun.app import create_app
    from shequyun.identity.auth import SESSION_COOKIE
    from shequyun.identity.directory import create_token, create_user, grant_role
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import build_test_tree

    settings = load_settings(environ={}, data_dir=root / "data", inline_worker=False)
    kernel = Kernel(settings, discover=False, plugins=[BenchGuard()])
    kernel.upgrade_database()
    units = build_test_tree(kernel)
    first_use = plan.warmup + plan.rounds * plan.requests
    with Session(kernel.engine, expire_on_commit=False) as session:
        user = create_user(
            session,
            username="bench.cadre",
            display_name="基准测试干部",
            home_unit=units[COMMITTEE],
            must_change_password=False,
        )
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.cadre", unit=units[COMMITTEE]
        )
        _, token = create_token(session, grant=grant, name="基准测试", expires_at=None)
        cookie = kernel.authenticator.start_session(session, user, grant.id, "127.0.0.1")
        # The committees' tokens (on one grant: the lookup is the same), and tokens used once
        # each, enough for every request of the "first use" kind.
        made = [
            create_token(session, grant=grant, name=f"居委 {n}", expires_at=None)
            for n in range(committees + first_use + REVOKED)
        ]
        session.commit()
    app = create_app(kernel=kernel)
    secrets = [secret for _, secret in made]
    round_robin, fresh = secrets[:committees], secrets[committees : committees + first_use]

    def bearer(secret: str) -> Headers:
        return [(b"authorization", f"Bearer {secret}".encode())]

    kinds: Kinds = {
        "healthz": ("/healthz", []),
        "bearer": ("/api/v1/me", bearer(token)),
        "session": ("/api/v1/me", [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]),
        "permission": ("/api/v1/plugins/benchguard/ping", bearer(token)),
        "round robin": ("/api/v1/me", itertools.cycle([bearer(s) for s in round_robin])),
        "first use": ("/api/v1/me", iter([bearer(s) for s in fresh])),
    }
    revocable = [(row.id, secret) for row, secret in made[committees + first_use :]]
    return (
        kernel,
        app,
        kinds,
        {"bearer": token, "session": cookie, "round robin": round_robin, "revocable": revocable},
    )


async def _measure(
    app: Any, kinds: Kinds, plan: Plan, warmups: dict[str, int]
) -> dict[str, list[float]]:
    """Each kind's wall and CPU time per request, round by round (after ``warmups`` requests
    of a kind, or the plan's)."""
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    for name, (path, headers) in kinds.items():
        for _ in range(max(plan.warmup, warmups.get(name, 0))):
            await _get(app, path, _next(headers))
    for number in range(plan.rounds):
        # Alternate the order, so that no kind always follows the same one.
        order = list(kinds) if number % 2 == 0 else list(reversed(kinds))
        for name in order:
            path, headers = kinds[name]
            used = time.process_time()
            began = time.perf_counter()
            for _ in range(plan.requests):
                await _get(app, path, _next(headers))
            timings[name].append((time.perf_counter() - began) / plan.requests * 1e6)
            cpu[name].append((time.process_time() - used) / plan.requests * 1e6)
    timings.update({f"{name} cpu": values for name, values in cpu.items()})
    return timings


def _next(headers: Headers | Iterator[Headers]) -> Headers:
    return headers if isinstance(headers, list) else next(headers)


def _parts(kernel: Any, secrets: dict[str, str], plan: Plan) -> dict[str, list[float]]:
    """CPU microseconds (this process's, its threads' included) per direct call of the two
    lookups, and per empty worker-thread hop."""
    auth = kernel.authenticator
    lookups = {"bearer": auth.from_bearer, "session": auth.from_session}
    parts: dict[str, list[float]] = {"bearer": [], "session": [], "hop": []}

    async def hops() -> float:
        began = time.process_time()
        for _ in range(plan.requests):
            await anyio.to_thread.run_sync(lambda: None)
        return (time.process_time() - began) / plan.requests * 1e6

    for _ in range(plan.rounds):
        for name, lookup in lookups.items():
            began = time.process_time()
            for _ in range(plan.requests):
                if lookup(secrets[name]) is None:
                    raise RuntimeError(f"the {name} lookup found no actor")
            parts[name].append((time.process_time() - began) / plan.requests * 1e6)
        parts["hop"].append(asyncio.run(hops()))
    return parts


def _entry_bytes(kernel: Any, secrets: list[str]) -> float:
    """Bytes of memory one remembered token holds (its actor and entry), by tracemalloc."""
    auth = kernel.authenticator
    auth.bearers.clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for secret in secrets:
            if auth.from_bearer(secret) is None:
                raise RuntimeError("a committee token was not found")
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / len(secrets)


#: Run by another process: revoke the tokens whose ids it is given, one by one, and print when
#: each revocation committed.
REVOKER = """
import json, sys, time
from datetime import UTC, datetime
from sqlmodel import Session
from shequyun.identity.models import ApiToken
from shequyun.kernel import Kernel
from shequyun.settings import load_settings

settings = load_settings(environ={}, data_dir=sys.argv[1], inline_worker=False)
kernel = Kernel(settings, plugins=[], discover=False)
for token_id in json.loads(sys.argv[2]):
    time.sleep(0.37)  # not in step with the watcher's half second
    with Session(kernel.engine) as session:
        row = session.get(ApiToken, token_id)
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.commit()
    print(json.dumps({"id": token_id, "at": time.time()}), flush=True)
kernel.close()
"""


def _revocation_latency(kernel: Any, root: Path, revocable: list[tuple[int, str]]) -> list[float]:
    """Milliseconds from another process's commit of a revocation until this process's epoch
    watcher forgot the token, for each of the ``revocable`` tokens (id, secret), which it
    remembered."""
    auth = kernel.authenticator
    for _, secret in revocable:
        if auth.from_bearer(secret) is None:
            raise RuntimeError("a token to revoke was not found")
    forgotten: dict[int, float] = {}
    done = threading.Event()

    def follow() -> None:
        while not done.is_set() and len(forgotten) < len(revocable):
            for token_id, secret in revocable:
                if token_id not in forgotten and auth.cached_bearer(secret) is None:
                    forgotten[token_id] = time.time()
            time.sleep(0.002)

    auth.epoch.start()
    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        ids = json.dumps([i for i, _ in revocable])
        revoker = subprocess.run(
            [PYTHON, "-c", REVOKER, str(root / "data"), ids],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        follower.join(5)
    finally:
        done.set()
        auth.epoch.stop()
    committed = {line["id"]: line["at"] for line in map(json.loads, revoker.stdout.splitlines())}
    if forgotten.keys() != committed.keys():
        raise RuntimeError(f"not every revoked token was forgotten: {forgotten} {committed}")
    for _, secret in revocable:
        if auth.from_bearer(secret) is not None:
            raise RuntimeError("a revoked token was still found")
    return [(forgotten[i] - committed[i]) * 1000 for i in committed]


async def _get(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
    """One ``GET`` straight into the ASGI app; anything but a 200 is an error."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    status = 0
    body = b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")


def _figure(label: str, values: list[float]) -> Figure:
    return Figure(label, median(values), "us/req", spread(values, " us"))
