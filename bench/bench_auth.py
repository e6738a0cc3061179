"""Per-request cost of authentication and permission checks vs an unauthenticated route.

The platform app runs in-process on a migrated SQLite database (default plugins, no inline
worker) and is called directly over ASGI, one request at a time, so no HTTP parsing or network
stack dilutes the difference. The baseline is ``GET /healthz`` with no credentials; the subjects
are ``GET /api/v1/me`` with a bearer token and with a portal session cookie (the middleware
looks the token or the session up in the database, then ``requires()`` demands a login), a
route guarded by ``requires("identity.org.view")`` that also checks ``platform.can`` on the
actor's unit, and ``/api/v1/me`` with **a token used for the first time** on every request: what
a city of committees sending one submission each with their own token costs (the token is not
remembered yet, and its last use must be recorded), where the one-token kinds above are mostly
answered from the few seconds a worker remembers a token. Every request goes through the same
middleware stack and plugin guard; the kinds take turns within each round and the median of the
rounds is reported, in microseconds of wall time per request.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import anyio.to_thread
from _common import Figure, Result, median, reproduce, spread
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
COMMITTEE_TOKENS = FULL.warmup + FULL.rounds * FULL.requests


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
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-auth-") as tmp:
        kernel, app, kinds, secrets = _platform(Path(tmp))
        try:
            kernel.start()
            timings = asyncio.run(_measure(app, kinds, plan))
            parts = _parts(kernel, secrets, plan)
        finally:
            kernel.close()
    command = reproduce("auth", quick=quick)
    measured = f"median of {plan.rounds} rounds x {plan.requests} requests, in-process ASGI"
    baseline = _figure("GET /healthz", timings["healthz"])
    notes = (
        "one request at a time; wall time per request, the middleware's database lookups "
        "(in a worker thread) included",
        "of which, called directly: token lookup (Authenticator.from_bearer) "
        f"{median(parts['bearer']):.0f} us, session lookup {median(parts['session']):.0f} us, "
        f"worker-thread hop {median(parts['hop']):.0f} us",
        "the anonymous baseline still passes the auth middleware, which hands it a CSRF cookie",
        "CPU time per request (this process, worker threads included; steadier on a busy "
        "machine): "
        + ", ".join(
            f"{name} {median(timings[f'{name} cpu']):.0f} us"
            f" ({median(timings[f'{name} cpu']) / median(timings['healthz cpu']):.2f}x)"
            for name in ("healthz", "bearer", "session", "committees", "permission")
        ),
    )
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
            name="auth-committee-tokens",
            title=f"GET /api/v1/me, a different committee token each time, vs unauthenticated, "
            f"{measured}",
            baseline=baseline,
            subject=_figure("/me, first use of a token", timings["committees"]),
            command=command,
            notes=notes,
        ),
        Result(
            name="auth-committee-tokens-cpu",
            title="the same, CPU time per request (this process, its worker threads included)",
            baseline=_figure("GET /healthz", timings["healthz cpu"]),
            subject=_figure("/me, first use of a token", timings["committees cpu"]),
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


def _platform(root: Path) -> tuple[Any, Any, Kinds, dict[str, str]]:
    """The app on a fresh database, a committee cadre, each kind's path and headers, and the
    cadre's token and session cookie."""
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
        # One token per committee, each used once: enough for every request of the kind.
        fresh = [
            create_token(session, grant=grant, name=f"居委 {n}", expires_at=None)[1]
            for n in range(COMMITTEE_TOKENS)
        ]
        session.commit()
    app = create_app(kernel=kernel)
    bearer = [(b"authorization", f"Bearer {token}".encode())]
    kinds = {
        "healthz": ("/healthz", []),
        "bearer": ("/api/v1/me", bearer),
        "session": ("/api/v1/me", [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]),
        "permission": ("/api/v1/plugins/benchguard/ping", bearer),
        "committees": (
            "/api/v1/me",
            iter([[(b"authorization", f"Bearer {secret}".encode())] for secret in fresh]),
        ),
    }
    return kernel, app, kinds, {"bearer": token, "session": cookie}


async def _measure(app: Any, kinds: Kinds, plan: Plan) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    for path, headers in kinds.values():
        for _ in range(plan.warmup):
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
    """Microseconds per direct call of the two lookups, and of an empty worker-thread hop."""
    auth = kernel.authenticator
    lookups = {"bearer": auth.from_bearer, "session": auth.from_session}
    parts: dict[str, list[float]] = {"bearer": [], "session": [], "hop": []}

    async def hops() -> float:
        began = time.perf_counter()
        for _ in range(plan.requests):
            await anyio.to_thread.run_sync(lambda: None)
        return (time.perf_counter() - began) / plan.requests * 1e6

    for _ in range(plan.rounds):
        for name, lookup in lookups.items():
            began = time.perf_counter()
            for _ in range(plan.requests):
                if lookup(secrets[name]) is None:
                    raise RuntimeError(f"the {name} lookup found no actor")
            parts[name].append((time.perf_counter() - began) / plan.requests * 1e6)
        parts["hop"].append(asyncio.run(hops()))
    return parts


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
