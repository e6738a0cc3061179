"""A load test: a few hundred people using the platform at once, against 2 uvicorn workers.

    .venv/bin/python bench/load_test.py                      # 300 users, 5 minutes, PostgreSQL
    .venv/bin/python bench/load_test.py --users 100 --duration 60 --residents 50000
    .venv/bin/python bench/load_test.py --quick              # the smoke form (tests run it)

Builds a temporary PostgreSQL database (``SHEQUYUN_BENCH_DATABASE_URL``, or the local server;
SQLite when none answers) with Shanghai's demo tree and ``--residents`` generated residents
(``bulk_load``), one cadre account with its own API token in each of ``--users`` committees
(徐汇区's first, then the next districts'), and ``--campaigns`` campaigns of a short form to those
committees; then serves the platform with ``--workers`` uvicorn workers (the kernel's plugins,
no inline worker, no access log) and lets the simulated people loose for ``--duration`` seconds
after ``--warmup`` seconds that are not counted:

- cadres (all users but two), each on its own keep-alive connection, pausing 2-8 s between
  actions (as a person reads a page): their committee's resident list (the next page half the
  time), one resident, a name search, an edit of a resident's phone (read, then ``PATCH`` with
  the version read), and the campaigns' tasks: the task list, a task opened and its draft saved,
  later submitted;
- a publisher (the city's platform admin) watching each campaign's progress by district and its
  overdue committees every 3-6 s;
- an exporter (徐汇区's admin) downloading the district's residents as CSV, again 5 s after each
  download ends.

Prints, per route: requests, throughput, p50/p95/p99 latency and errors (anything but the
expected status, a dropped connection or a timeout); the total; each worker's memory (RSS) at
the start and the end and its peak; the CPU the client used and the load average; and the
command. ``--pace 0.5`` halves every pause (the same people, twice as impatient). Reconnects
transparently when the server has closed an idle connection (uvicorn keeps one open 5 s), as
browsers do. Everything stays on 127.0.0.1 and stops at the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import _scale_setup as setup

HOST = "127.0.0.1"
IDLE_CLOSE = 4.0  # uvicorn closes keep-alive connections idle for 5 s
PURPOSE = quote("压力测试")


@dataclass
class Stats:
    """Latencies (ms) and errors per route, counted only while ``counting``."""

    counting: bool = False
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)
    exports: list[tuple[int, float]] = field(default_factory=list)

    def record(self, route: str, ms: float, error: str | None) -> None:
        if not self.counting:
            return
        if error is None:
            self.latencies[route].append(ms)
        else:
            self.errors[route] += 1
            self.samples.setdefault(route, error)


class Client:
    """One simulated person's HTTP/1.1 connection (no pipelining), reopened when idle."""

    def __init__(self, port: int, token: str, stats: Stats, pace: float = 1.0) -> None:
        self.port = port
        self.pace = pace  # scales every pause: 1 is a person's pace
        self.token = token
        self.stats = stats
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def pause(self, rng: random.Random, low: float, high: float) -> None:
        """A person reading or typing for ``low``-``high`` seconds (times the pace)."""
        await asyncio.sleep(rng.uniform(low, high) * self.pace)

    async def call(
        self,
        method: str,
        target: str,
        route: str,
        body: Any = None,
        *,
        ok: tuple[int, ...] = (200,),
        timeout: float = 60,
    ) -> tuple[int, bytes]:
        """Send one request and read the whole answer; recorded under ``route``."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(payload)}\r\n"
            + ("Content-Type: application/json\r\n" if body is not None else "")
            + "\r\n"
        ).encode()
        began = time.perf_counter()
        status, answer, error = 0, b"", None
        try:
            status, answer = await asyncio.wait_for(self._exchange(head + payload), timeout)
            if status not in ok:
                error = f"{status} {answer[:200].decode(errors='replace')}"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            await self.close()
        except TimeoutError:
            error = f"no answer in {timeout:.0f} s"
            await self.close()
        self.stats.record(route, (time.perf_counter() - began) * 1000, error)
        return status, answer

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        fresh = self.writer is None or time.monotonic() - self.used > IDLE_CLOSE
        if fresh:
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        try:
            return await self._send(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            if fresh:
                raise
            # The server closed the kept connection before it saw the request: once more.
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            return await self._send(request)

    async def _send(self, request: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
            body = b"".join(parts)
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        self.used = time.monotonic()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


# -- the people -----------------------------------------------------------------------------


async def cadre(client: Client, rng: random.Random, deadline: float, surnames: list[str]) -> None:
    """Browse, look up, edit, and fill in and submit the campaigns' tasks."""
    drafts: dict[int, int] = {}  # task id -> version after the draft was saved
    done: set[int] = set()
    seen: list[int] = []
    while time.monotonic() < deadline:
        await client.pause(rng, 2, 8)
        roll = rng.random()
        if roll < 0.35 or not seen:
            status, body = await client.call("GET", "/api/v1/residents?limit=20", "GET /residents")
            if status == 200:
                page = json.loads(body)
                seen = [item["id"] for item in page["items"]] or seen
                if page["next_cursor"] and rng.random() < 0.5:
                    await client.pause(rng, 1, 3)
                    target = f"/api/v1/residents?limit=20&cursor={page['next_cursor']}"
                    await client.call("GET", target, "GET /residents (next page)")
        elif roll < 0.5:
            await client.call("GET", f"/api/v1/residents/{rng.choice(seen)}", "GET /residents/{id}")
        elif roll < 0.58:
            target = f"/api/v1/residents?limit=20&q={quote(rng.choice(surnames))}"
            await client.call("GET", target, "GET /residents?q=")
        elif roll < 0.68:
            await _edit(client, rng, rng.choice(seen))
        else:
            await _task_step(client, rng, drafts, done)


async def _edit(client: Client, rng: random.Random, resident_id: int) -> None:
    status, body = await client.call(
        "GET", f"/api/v1/residents/{resident_id}", "GET /residents/{id}"
    )
    if status != 200:
        return
    await client.pause(rng, 2, 5)
    change = {"version": json.loads(body)["version"], "phone": f"139{rng.randrange(10**8):08d}"}
    await client.call("PATCH", f"/api/v1/residents/{resident_id}", "PATCH /residents/{id}", change)


async def _task_step(
    client: Client, rng: random.Random, drafts: dict[int, int], done: set[int]
) -> None:
    """Submit a task whose draft was saved, else open the next open task and save a draft."""
    if drafts:
        task_id, _ = drafts.popitem()
        body = {"data": _answers(rng), "client_key": uuid.uuid4().hex}
        status, _ = await client.call(
            "POST",
            f"/api/v1/tasks/{task_id}/submit",
            "POST /tasks/{id}/submit",
            body,
            ok=(200, 201),
        )
        if status in (200, 201):
            done.add(task_id)
        return
    status, body = await client.call("GET", "/api/v1/tasks", "GET /tasks")
    if status != 200:
        return
    waiting = [
        t["id"]
        for t in json.loads(body)["items"]
        if t["id"] not in done and t["status"] != "submitted"
    ]
    if not waiting:
        return
    task_id = waiting[0]
    await client.pause(rng, 1, 3)
    status, body = await client.call("GET", f"/api/v1/tasks/{task_id}", "GET /tasks/{id}")
    if status != 200:
        return
    await client.pause(rng, 3, 8)  # filling in the form
    draft = {"data": _answers(rng), "version": json.loads(body)["version"]}
    status, body = await client.call(
        "PUT", f"/api/v1/tasks/{task_id}/draft", "PUT /tasks/{id}/draft", draft
    )
    if status == 200:
        drafts[task_id] = json.loads(body)["version"]


def _answers(rng: random.Random) -> dict[str, Any]:
    return {
        "households": rng.randrange(200, 2000),
        "elders_alone": rng.randrange(0, 80),
        "visited": rng.random() < 0.8,
        "living": rng.choice(["独居", "与配偶同住", "与子女同住"]),
        "needs": rng.sample(["助餐", "助浴", "助医", "助洁"], rng.randrange(0, 3)),
        "remark": "已走访，情况正常",
    }


async def publisher(
    client: Client, rng: random.Random, deadline: float, campaigns: list[int]
) -> None:
    while time.monotonic() < deadline:
        await client.pause(rng, 3, 6)
        campaign = rng.choice(campaigns)
        await client.call(
            "GET",
            f"/api/v1/campaigns/{campaign}/progress?level=district",
            "GET /campaigns/{id}/progress",
        )
        if rng.random() < 0.3:
            await client.call(
                "GET", f"/api/v1/campaigns/{campaign}/overdue", "GET /campaigns/{id}/overdue"
            )


async def exporter(client: Client, deadline: float) -> None:
    target = f"/api/v1/residents/export?format=csv&purpose={PURPOSE}"
    while time.monotonic() < deadline:
        began = time.perf_counter()
        status, body = await client.call(
            "GET", target, "GET /residents/export (徐汇区 CSV)", timeout=600
        )
        if status == 200 and client.stats.counting:
            client.stats.exports.append((body.count(b"\n") - 1, time.perf_counter() - began))
        await asyncio.sleep(5 * client.pace)


# -- running it -----------------------------------------------------------------------------


@dataclass
class Cast:
    cadres: list[str]
    publisher: str
    exporter: str
    campaigns: list[int]
    surnames: list[str]
    residents: int
    district_residents: int


def build(kernel: Any, users: int, residents: int, campaigns: int) -> Cast:
    """The data and the accounts; see the module's docstring."""
    from sqlalchemy import text

    from shequyun.residents.generate_bulk import bulk_load

    committees = setup.tree(kernel)
    ordered = sorted(committees, key=lambda c: (c.code[:6] != "310104", c.code))
    chosen = ordered[: max(1, users - 2)]
    _say(f"writing {residents:,} residents (bulk_load)")
    bulk_load(kernel.engine, kernel.residents.cipher, committees, residents, "load-test")
    _say(f"{len(chosen)} cadre accounts with tokens, {campaigns} campaigns")
    tokens = [
        setup.token_for(kernel, f"load.cadre.{i:04d}", unit=unit, role="identity.cadre")
        for i, unit in enumerate(chosen)
    ]
    targets = [c.code for c in chosen]
    opened = [
        setup.open_campaign(kernel, targets, f"压力测试任务 {n + 1}") for n in range(campaigns)
    ]
    with kernel.engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM kernel_resident ORDER BY id LIMIT 500"))
        surnames = sorted({name[:1] for (name,) in names})
        xuhui = connection.execute(
            text(
                "SELECT count(*) FROM kernel_resident r JOIN kernel_org_unit u ON u.id = r.unit_id "
                "WHERE u.code LIKE '310104%' AND r.status = 'active'"
            )
        ).scalar_one()
    return Cast(
        cadres=tokens,
        publisher=setup.token_for(kernel, "admin"),
        exporter=setup.token_for(kernel, "xuhui.admin"),
        campaigns=opened,
        surnames=surnames,
        residents=residents,
        district_residents=int(xuhui),
    )


async def drive(
    port: int, cast: Cast, warmup: float, duration: float, seed: int, pace: float
) -> tuple[Stats, float]:
    """Every simulated person at once; returns the stats and the seconds counted."""
    stats = Stats()
    rng = random.Random(seed)
    deadline = time.monotonic() + warmup + duration
    clients: list[Client] = []

    def person(token: str) -> Client:
        clients.append(Client(port, token, stats, pace))
        return clients[-1]

    tasks = [
        asyncio.create_task(cadre(person(t), random.Random(rng.random()), deadline, cast.surnames))
        for t in cast.cadres
    ]
    tasks.append(
        asyncio.create_task(
            publisher(person(cast.publisher), random.Random(rng.random()), deadline, cast.campaigns)
        )
    )
    tasks.append(asyncio.create_task(exporter(person(cast.exporter), deadline)))
    await asyncio.sleep(warmup)
    stats.counting = True
    began = time.perf_counter()
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    stats.counting = False
    counted = time.perf_counter() - began
    _, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for client in clients:
        await client.close()
    return stats, counted


def report(stats: Stats, seconds: float, memory: dict[str, Any], meta: dict[str, Any]) -> str:
    rows = sorted(set(stats.latencies) | set(stats.errors))
    total = sum(len(v) for v in stats.latencies.values())
    errors = sum(stats.errors.values())
    lines = [
        f"== load test: {meta['users']} simulated users for {seconds:.0f} s against "
        f"{meta['workers']} uvicorn workers ({meta['database']}, {meta['residents']:,} residents)",
        "| route | requests | per s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for route in rows:
        times = stats.latencies.get(route, [])
        lines.append(
            f"| {route} | {len(times):,} | {len(times) / seconds:.2f} | "
            + " | ".join(_percentile(times, q) for q in (50, 95, 99))
            + f" | {stats.errors.get(route, 0)} |"
        )
    every = [ms for times in stats.latencies.values() for ms in times]
    lines.append(
        f"| all | {total:,} | {total / seconds:.1f} | "
        + " | ".join(_percentile(every, q) for q in (50, 95, 99))
        + f" | {errors} |"
    )
    for route, sample in stats.samples.items():
        lines.append(f"   first error of {route}: {sample}")
    for pid, (start, end) in memory["workers"].items():
        lines.append(
            f"   worker {pid}: RSS {start['VmRSS'] / 1024:.0f} MiB at the start, "
            f"{end.get('VmRSS', 0) / 1024:.0f} MiB at the end, "
            f"peak {end.get('VmHWM', 0) / 1024:.0f} MiB"
        )
    if stats.exports:
        rows_each = [r for r, _ in stats.exports]
        rates = [r / s for r, s in stats.exports]
        lines.append(
            f"   exports completed: {len(stats.exports)} of {max(rows_each):,} rows, "
            f"{statistics.median(rates):,.0f} rows/s (median) under the load"
        )
    lines.append(
        f"   徐汇区 holds {meta['district']:,} residents; "
        f"client CPU {meta['client_cpu']:.0%} of a core; "
        f"load average {meta['load_start']:.1f} at the start, {meta['load_end']:.1f} at the end on "
        f"{os.cpu_count()} cores (shared with other work)"
    )
    lines.append(f"   reproduce {meta['command']}")
    return "\n".join(lines)


def _percentile(values: list[float], q: int) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--users", type=int, default=300, help="simulated people (default 300)")
    parser.add_argument("--duration", type=float, default=300, help="seconds counted (300)")
    parser.add_argument("--warmup", type=float, default=20, help="seconds not counted first (20)")
    parser.add_argument("--residents", type=int, default=200_000, help="generated residents")
    parser.add_argument("--campaigns", type=int, default=4, help="campaigns to the cadres (4)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (2)")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL server to use")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pace", type=float, default=1.0, help="scales the pauses (1: people's)")
    parser.add_argument("--quick", action="store_true", help="smoke form: 12 users, 20 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.duration, args.warmup, args.residents = 12, 20, 3, 5_000
        args.pace = 0.15  # quicker than people, so that every route is used in 20 s
    if not 3 <= args.users <= 2000 or not 0 < args.duration <= 3600:
        parser.error("keep it bounded: 3-2000 users, at most an hour")
    command = shlex.join(
        [sys.executable, "bench/load_test.py", *(argv if argv is not None else sys.argv[1:])]
    )
    server_url = args.postgres or os.environ.get("SHEQUYUN_BENCH_DATABASE_URL")
    if server_url and not args.postgres:
        command = f"SHEQUYUN_BENCH_DATABASE_URL={shlex.quote(server_url)} {command}"
    with tempfile.TemporaryDirectory(prefix="shequyun-load-") as name:
        tmp = Path(name)
        with setup.database(server_url, tmp) as url:
            kernel = setup.kernel_on(url, tmp / "data")
            try:
                cast = build(kernel, args.users, args.residents, args.campaigns)
                from bench_residents import _database_name

                database = _database_name(kernel.engine)
            finally:
                kernel.close()
            _say(
                f"serving with {args.workers} workers; "
                f"{args.warmup:.0f} s warm-up, {args.duration:.0f} s counted"
            )
            with setup.serve(url, tmp / "data", args.workers, tmp / "server.log") as server:
                workers = setup.worker_pids(server)
                load_start = os.getloadavg()[0]
                cpu = time.process_time()
                port = server.port  # type: ignore[attr-defined]
                starts: dict[int, dict[str, int]] = {}

                async def everything() -> tuple[Stats, float]:
                    async def sample_start() -> None:
                        await asyncio.sleep(args.warmup)
                        starts.update({pid: setup.memory_kib(pid) for pid in workers})

                    sampler = asyncio.create_task(sample_start())
                    result = await drive(
                        port, cast, args.warmup, args.duration, args.seed, args.pace
                    )
                    await sampler
                    return result

                stats, seconds = asyncio.run(everything())
                memory = {"workers": {pid: (starts[pid], setup.memory_kib(pid)) for pid in workers}}
                client_cpu = (time.process_time() - cpu) / (args.warmup + seconds)
                load_end = os.getloadavg()[0]
    meta = {
        "users": len(cast.cadres) + 2,
        "workers": args.workers,
        "database": database,
        "residents": cast.residents,
        "district": cast.district_residents,
        "client_cpu": client_cpu,
        "load_start": load_start,
        "load_end": load_end,
        "command": command,
    }
    print(report(stats, seconds, memory, meta), flush=True)
    return 0


def _say(message: str) -> None:
    print(f"   ... {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
