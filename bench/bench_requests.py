"""Requests per second of the kernel's ``GET /healthz`` vs a bare Starlette app, under uvicorn.

Both apps run in their own uvicorn process with the same settings (1 worker, the same event
loop and HTTP implementation, log level warning, no access log) on an ephemeral port of
127.0.0.1. A separate load-generator process (``_loadgen.py``) drives one server at a time with
a fixed number of keep-alive connections; the servers take turns over several rounds and the
median of the rounds is reported. The difference is the kernel's price per request: its
middleware, its router and the plugin guard around the route.

The kernel's server also answers ``GET /api/v1/me`` with the city's 6,077 committee tokens in
turn, each token's next request 6,077 requests later (as committees send now and then, each
with its own token), after one whole turn not counted: its CPU time per request against the
same server's ``/healthz`` is what a token-authenticated request costs over an unauthenticated
one, under uvicorn.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    PYTHON,
    Figure,
    Result,
    clean_env,
    free_port,
    http_get,
    median,
    migrate,
    reproduce,
    run_json,
    spread,
)

PATH = "/healthz"
BODY = json.dumps({"status": "ok"}, separators=(",", ":"))
CONNECTIONS = 16
TOKEN_PATH = "/api/v1/me"
COMMITTEES = 6077


@dataclass(frozen=True)
class Plan:
    rounds: int
    warmup: float  # at the start of every round, not counted
    duration: float  # counted
    priming: float  # one uncounted load run per server before the rounds


FULL = Plan(rounds=5, warmup=1.0, duration=5.0, priming=2.0)
QUICK = Plan(rounds=1, warmup=0.5, duration=1.5, priming=1.0)
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Server:
    """A running uvicorn: where it listens and which process it is."""

    port: int
    pid: int


def run(*, quick: bool = False) -> list[Result]:
    plan = QUICK if quick else FULL
    committees = 200 if quick else COMMITTEES
    loop, http = uvicorn_impls()
    apps = {"bare": "_apps:make_bare_app", "kernel": "_apps:make_kernel_app"}
    loads = [*apps, "tokens"]  # "tokens": the kernel's server, /api/v1/me, tokens in turn
    rps: dict[str, list[float]] = {name: [] for name in loads}
    cpu_per_request: dict[str, list[float]] = {name: [] for name in loads}
    client_cpu: dict[str, list[float]] = {name: [] for name in loads}
    with tempfile.TemporaryDirectory(prefix="shequyun-bench-requests-") as tmp:
        root = Path(tmp)
        migrate(root / "data")
        tokens = root / "tokens.txt"
        tokens.write_text("\n".join(committee_tokens(root / "data", committees)) + "\n")
        env = clean_env(SHEQUYUN_BENCH_DATA_DIR=str(root / "data"))
        with contextlib.ExitStack() as stack:
            servers = {
                name: stack.enter_context(serving(factory, root, env, loop=loop, http=http))
                for name, factory in apps.items()
            }
            servers["tokens"] = servers["kernel"]
            # A server's first load run is slower than the ones after it even past a warm-up
            # of seconds (seen on the bare app: some 15% more CPU per request), so each server
            # gets one run that is thrown away; the tokens' runs until every committee has
            # sent once.
            for name in apps:
                _load(servers[name], replace(plan, warmup=0.0, duration=plan.priming))
            sent = 0
            while sent < committees:
                primed = _load(
                    servers["tokens"], replace(plan, warmup=0.0, duration=plan.priming), tokens
                )
                sent += primed["requests"]
            for number in range(plan.rounds):
                # Alternate who goes first, so neither always follows the other's heat.
                order = list(loads) if number % 2 == 0 else list(reversed(loads))
                for name in order:
                    sample = _load(servers[name], plan, tokens if name == "tokens" else None)
                    rps[name].append(sample["rps"])
                    client_cpu[name].append(sample["client_cpu"])
                    if sample["server_cpu"] is not None:
                        used = sample["server_cpu"] / sample["requests"]
                        cpu_per_request[name].append(used * 1e6)
    command = reproduce("requests", quick=quick)
    same = f"uvicorn 1 worker, --loop {loop} --http {http}, {CONNECTIONS} keep-alive connections"
    measured = f"median of {plan.rounds} x {plan.duration:g} s (after {plan.warmup:g} s warm-up)"
    client = " / ".join(f"{name} {median(client_cpu[name]):.0%}" for name in loads)
    results = [
        Result(
            name="requests",
            title=f"GET {PATH} requests/s under uvicorn, {measured}",
            baseline=_figure("bare Starlette", rps["bare"], "req/s"),
            subject=_figure("kernel", rps["kernel"], "req/s"),
            command=command,
            notes=(
                same,
                f"load generator cpu {client} (near 100% would mean it, not the server, limits)",
            ),
        )
    ]
    if all(cpu_per_request.values()):
        # Throughput swings with whatever else the machine runs; the CPU time the server
        # spends per request hardly does, so it is the steadier view of the same difference.
        results.append(
            Result(
                name="requests-cpu",
                title=f"server CPU time per GET {PATH}, {measured}",
                baseline=_figure("bare Starlette", cpu_per_request["bare"], "us/req"),
                subject=_figure("kernel", cpu_per_request["kernel"], "us/req"),
                command=command,
                notes=(same, "user + system time of the uvicorn process while it was measured"),
            )
        )
        results.append(
            Result(
                name="requests-token-cpu",
                title=f"server CPU time per GET {TOKEN_PATH} with {committees:,} committee "
                f"tokens in turn / per GET {PATH}, the same kernel server, {measured}",
                baseline=_figure(f"kernel {PATH}", cpu_per_request["kernel"], "us/req"),
                subject=_figure(
                    f"kernel {TOKEN_PATH}, tokens in turn", cpu_per_request["tokens"], "us/req"
                ),
                command=command,
                notes=(
                    same,
                    f"each token's next request {committees:,} requests later; one whole turn "
                    "sent before the rounds, so each worker has seen every token",
                    f"requests/s: {TOKEN_PATH} {median(rps['tokens']):.0f}, "
                    f"{PATH} {median(rps['kernel']):.0f}",
                ),
            )
        )
    return results


def committee_tokens(data_dir: Path, count: int) -> list[str]:
    """``count`` committee tokens in the database of ``data_dir`` (the test tree, a committee
    cadre's grant: each token's lookup is the same), their secrets."""
    from sqlmodel import Session

    from shequyun.identity.directory import create_token, create_user, grant_role
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import build_test_tree

    kernel = Kernel(load_settings(environ={}, data_dir=data_dir), discover=False)
    try:
        unit = build_test_tree(kernel)["310115004001"]
        with Session(kernel.engine, expire_on_commit=False) as session:
            user = create_user(
                session, username="bench.cadre", display_name="基准测试干部", home_unit=unit,
                must_change_password=False,
            )  # fmt: skip
            grant = grant_role(
                session, kernel.permissions, user=user, role="identity.cadre", unit=unit
            )
            made = [
                create_token(session, grant=grant, name=f"居委 {n}", expires_at=None)[1]
                for n in range(count)
            ]
            session.commit()
    finally:
        kernel.close()
    return made


def uvicorn_impls() -> tuple[str, str]:
    """The event loop and HTTP implementation both servers use: the fastest installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


@contextlib.contextmanager
def serving(
    factory: str, root: Path, env: dict[str, str], *, loop: str, http: str
) -> Iterator[Server]:
    """Run ``factory`` under uvicorn on a free loopback port; yield it, then stop it.

    The port is found free and then handed to uvicorn, so another process may take it in
    between; a server that cannot bind is started again on another port.
    """
    for _attempt in range(3):
        port = free_port()
        log = root / f"uvicorn-{factory.partition(':')[2]}-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    PYTHON, "-m", "uvicorn", factory, "--factory",
                    "--app-dir", str(BENCH),
                    "--host", "127.0.0.1", "--port", str(port),
                    "--workers", "1", "--loop", loop, "--http", http,
                    "--log-level", "warning", "--no-access-log",
                ],
                env=env,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            if _wait_ready(process, port):
                yield Server(port, process.pid)
                if process.poll() is not None:
                    raise RuntimeError(f"{factory} died during the benchmark:\n{_tail(log)}")
                return
            if b"address already in use" not in log.read_bytes().lower():
                raise RuntimeError(f"{factory} did not start:\n{_tail(log)}")
        finally:
            _stop(process)
    raise RuntimeError(f"{factory} found no free port in 3 attempts")


def _wait_ready(process: subprocess.Popen[bytes], port: int) -> bool:
    """Wait until the server answers ``PATH`` with ``BODY``; False if it exited first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            status, body = http_get(port, PATH)
        except OSError:
            time.sleep(0.05)
            continue
        if status != 200 or body != BODY.encode():
            raise RuntimeError(f"GET {PATH} answered {status} {body!r}, expected 200 {BODY}")
        return True
    raise RuntimeError(f"the server on port {port} was not ready within {READY_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # uvicorn shuts down gracefully on SIGTERM, running the lifespan end
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _load(server: Server, plan: Plan, tokens: Path | None = None) -> dict[str, Any]:
    """One load run: ``/healthz``, or ``/api/v1/me`` with the ``tokens`` in turn."""
    target = ["--path", PATH, "--expect", BODY]
    if tokens is not None:
        target = ["--path", TOKEN_PATH, "--tokens", str(tokens)]
    sample = run_json(
        [
            PYTHON, str(BENCH / "_loadgen.py"), str(server.port),
            "--server-pid", str(server.pid),
            *target,
            "--connections", str(CONNECTIONS),
            "--warmup", str(plan.warmup), "--duration", str(plan.duration),
        ],
        env=clean_env(),
        timeout=plan.warmup + plan.duration + 30,
    )  # fmt: skip
    if sample["errors"] or sample["capped"] or not sample["requests"]:
        raise RuntimeError(f"the load run on port {server.port} was not clean: {sample}")
    return sample


def _figure(label: str, values: list[float], unit: str) -> Figure:
    return Figure(label, median(values), unit, spread(values, f" {unit}"))


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
