"""Collection: submissions/s of a 250-field form through the HTTP API, and the progress query.

1. ``collection-submit``: a campaign of the 250-field form (``bench_validator.form``) to all
   6,077 committees; submissions sent to the platform under uvicorn on loopback, each to its own
   task, by a small asyncio client in the benchmark's process: 8 keep-alive connections, each
   sending its next request when the previous response is in and replaced after 20 requests
   (so that both workers get their share). Each submission carries **its committee's own API
   token** (a 居村干部 grant on that committee, as docs/api/collection.md describes), so every
   request is its token's first: the lookup is never remembered from an earlier request. For
   comparison with figures measured before 2026-12-06, the same server also takes blocks sent
   with one platform administrator's token, which each worker remembers after its first request
   (``collection-submit-admin-token``). The two kinds take turns in blocks of fresh tasks
   (committee, admin, committee, admin...) on one server, so that a busy spell of the machine
   falls on both: the committee/admin ratio is taken pair by pair. Once with 1 uvicorn worker
   (``collection-submit``, ``collection-submit-admin-token``) and once with 2
   (``collection-submit-2w``, ``collection-submit-2w-admin-token``), each after a warm-up of
   both kinds that is not counted. Each block's rate and the CPU time of the server's
   processes per submission are reported, with the client's and that of the benchmark
   database's backends on a local PostgreSQL (``_pgcpu``: other databases' work on a shared
   server is not counted): on a 2-core machine they all share the cores, with whatever else
   runs (the load average says how busy the machine was). Baseline: inserting the same
   documents straight into a scratch table with executemany (what storing alone costs), same
   run. ODK Central publishes about 41 submissions/s for a 250-question form on a 2 GB server.
2. ``collection-progress``: ``results.progress`` by street for that campaign (about half the
   tasks submitted) as a district admin (徐汇区) sees it vs one hand-written
   ``GROUP BY street_id`` of the district's tasks (``district_id = ...``) on the task table;
   ``collection-progress-city``: the same by district for the city's administrator vs a
   ``GROUP BY district_id`` of every task. The two take turns call by call; the notes give
   the CPU time of each (this process and the benchmark database's PostgreSQL backends).

Each submission answers the form's attachment questions with one file its sender (the
committee's cadre, or the administrator in the comparison run) uploaded beforehand (stored
through ``kernel.attachments``), so it claims that file as a real one does.

SQLite by default; PostgreSQL with ``SHEQUYUN_BENCH_DATABASE_URL=postgresql+psycopg://...``
(a temporary database is created on that server and dropped).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread

TREE_COMMITTEES = 6077
CONNECTIONS = 8
REQUESTS_PER_CONNECTION = 20
#: The servers: (uvicorn workers, result name of the committee blocks, of the admin blocks).
SERVERS = (
    (1, "collection-submit", "collection-submit-admin-token"),
    (2, "collection-submit-2w", "collection-submit-2w-admin-token"),
)
#: Blocks per kind on each server, and submissions per block (full run, quick run).
PAIRS, BLOCK = 4, 150
QUICK_PAIRS, QUICK_BLOCK = 2, 25


@dataclass(frozen=True)
class Block:
    """One timed block of submissions, all sent with one kind of token."""

    submissions: int
    seconds: float
    client_cpu: float  # seconds of CPU the client used
    server_cpu: float | None  # seconds of CPU the server's processes used (Linux)
    database_cpu: float | None  # seconds of CPU the bench database's PostgreSQL backends used
    load_average: float | None  # the machine's 1-minute load average as the block ended

    @property
    def rate(self) -> float:
        return self.submissions / self.seconds


@dataclass(frozen=True)
class Load:
    """The blocks of one kind of token on one server."""

    name: str
    workers: int
    tokens: str  # "committee": each submission its committee's token; "admin": one token
    blocks: tuple[Block, ...]

    @property
    def submissions(self) -> int:
        return sum(b.submissions for b in self.blocks)

    @property
    def seconds(self) -> float:
        return sum(b.seconds for b in self.blocks)

    @property
    def rate(self) -> float:
        return self.submissions / self.seconds

    def _total(self, what: str) -> float | None:
        values = [getattr(b, what) for b in self.blocks]
        return None if any(v is None for v in values) else sum(values)

    def cpu_note(self) -> str:
        client, server = self._total("client_cpu") or 0.0, self._total("server_cpu")
        database = self._total("database_cpu")
        parts = [f"client {client / self.seconds:.0%} of a core"]
        if server is not None:
            parts.append(
                f"server {server / self.seconds:.0%} of a core "
                f"({server / self.submissions * 1000:.1f} ms CPU per submission)"
            )
        if database:
            parts.append(
                f"the database's PostgreSQL backends {database / self.seconds:.0%} of a core "
                f"({database / self.submissions * 1000:.1f} ms per submission)"
            )
        loads = [b.load_average for b in self.blocks if b.load_average is not None]
        if loads:
            parts.append(
                f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
            )
        return ", ".join(parts)

    def blocks_note(self) -> str:
        rates = ", ".join(f"{b.rate:.0f}" for b in self.blocks)
        note = f"blocks of {self.blocks[0].submissions}: {rates} /s"
        if all(b.server_cpu is not None for b in self.blocks):
            cpu = ", ".join(f"{b.server_cpu / b.submissions * 1000:.1f}" for b in self.blocks)  # type: ignore[operator]
            note += f"; server CPU per submission by block: {cpu} ms"
        return note


def run(*, quick: bool = False) -> list[Result]:
    server_url = os.environ.get("SHEQUYUN_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bench-collection-") as tmp:
        if server_url:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            name = f"bench_collection_{uuid.uuid4().hex[:8]}"
            admin = create_engine(
                make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
            try:
                return _measure(Path(tmp), url, quick)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        return _measure(Path(tmp), f"sqlite:///{Path(tmp) / 'bench.db'}", quick)


def _measure(tmp: Path, url: str, quick: bool) -> list[Result]:
    from bench_validator import form

    from shequyun.identity import demo_data
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(
        environ={}, data_dir=tmp, database_url=url, inline_worker=False, log_level="WARNING"
    )
    kernel = Kernel(settings, discover=False)
    kernel.upgrade_database()
    demo_data.load(kernel)
    schema, document = form()
    admin_token, campaign_id, task_ids = _campaign(kernel, schema)
    engine_name = kernel.engine.dialect.name
    pairs, block = (QUICK_PAIRS, QUICK_BLOCK) if quick else (PAIRS, BLOCK)
    warmup = 2 * CONNECTIONS  # of each kind
    # Per server: the warm-up's and every block's tasks, committee kind first in each pair.
    sizes = [warmup, warmup] + [block] * (2 * pairs)
    plans = [list(_shares(tasks, sizes)) for tasks in _shares(task_ids, [sum(sizes)] * 2)]
    senders: dict[int, tuple[str, str]] = {}  # task → its sender's token and uploaded file
    for plan in plans:
        committee = [t for share in plan[0::2] for t in share]
        senders.update(_committee_senders(kernel, committee))
        senders.update(_admin_uploads(kernel, admin_token, [t for s in plan[1::2] for t in s]))
    file_fields = [n for n, p in schema["properties"].items() if p.get("format") == "attachment"]
    kernel.engine.dispose()

    def requests(share: list[int]) -> list[bytes]:
        return [
            _request(0, senders[t][0], t, _body(t, document, file_fields, senders[t][1]))
            for t in share
        ]

    loads: list[Load] = []
    for (workers, committee_name, admin_name), plan in zip(SERVERS, plans, strict=True):
        blocks = _serve_blocks(tmp, url, workers, [requests(share) for share in plan], 2)
        loads.append(Load(committee_name, workers, "committee", tuple(blocks[0::2])))
        loads.append(Load(admin_name, workers, "admin", tuple(blocks[1::2])))
    store_rate = _raw_store_rate(kernel, document, block * pairs)
    command = _command(quick)
    results = []
    for committee, admin in zip(loads[0::2], loads[1::2], strict=True):
        ratios = [c.rate / a.rate for c, a in zip(committee.blocks, admin.blocks, strict=True)]
        compared = (
            f"interleaved with blocks sent with one remembered platform-admin token (the "
            f"figure measured before 2026-12-06; {admin.rate:.0f}/s in this run): committee "
            f"tokens at {median(ratios):.2f}x that (median; pair by pair "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )
        results.append(_submit_result(engine_name, store_rate, committee, command, compared))
        results.append(_submit_result(engine_name, store_rate, admin, command))

    for (name, _level, ours, raw), kind in zip(
        _progress(kernel, campaign_id, quick), PROGRESS_KINDS, strict=True
    ):
        cpu_ratio = median(ours.cpu) / median(raw.cpu)
        results.append(
            Result(
                name,
                f"progress of {kind[5]}, a campaign to all {TREE_COMMITTEES:,} committees "
                f"({engine_name})",
                Figure("hand-written GROUP BY", median(raw.wall), "ms", spread(raw.wall, " ms")),
                Figure("results.progress", median(ours.wall), "ms", spread(ours.wall, " ms")),
                command,
                (
                    f"CPU per call (this process, plus the database's backends on a local "
                    f"PostgreSQL): results.progress {median(ours.cpu):.2f} ms, hand-written "
                    f"{median(raw.cpu):.2f} ms, ratio {cpu_ratio:.2f}x (medians of "
                    f"{len(ours.cpu)} calls each, taking turns)",
                    "results.progress also applies the actor's scope filter (the units below "
                    "the grant's unit now), counts on-time and late submissions and names the "
                    "units; the hand-written counts use the task's district fixed when the "
                    "campaign opened",
                ),
            )
        )
    kernel.close()
    return results


def _submit_result(
    engine_name: str, store_rate: float, load: Load, command: str, compared: str | None = None
) -> Result:
    workers = f"{load.workers} uvicorn worker{'s' if load.workers > 1 else ''}"
    whose = (
        "each committee's own token"
        if load.tokens == "committee"
        else "one platform-admin token for all (comparison)"
    )
    return Result(
        load.name,
        f"submissions/s of a 250-field form through the API ({engine_name}, {workers}, "
        f"{whose}) vs storing the JSON",
        Figure("raw executemany", store_rate, "/s", f"{load.submissions} rows in one transaction"),
        Figure(
            "POST /tasks/{id}/submit",
            load.rate,
            "/s",
            f"{load.submissions} submissions in {len(load.blocks)} blocks, {CONNECTIONS} "
            f"keep-alive connections, {workers}",
        ),
        command,
        (
            f"ODK Central's published figure: about 41/s for a 250-question form on a 2 GB server; "
            f"here {load.rate:.0f}/s = {load.rate / 41:.1f}x that (goal: 10x, 410/s)",
            load.blocks_note(),
            *([compared] if compared else []),
            f"CPU while timed: {load.cpu_note()}",
            "each submission is authenticated (bearer token), scope-checked, validated by the "
            "compiled validator, idempotency-keyed, claims its uploaded file, and is written with "
            "its history row and an outbox event",
        ),
    )


def _command(quick: bool) -> str:
    """The command that reruns this benchmark, with the database server it used."""
    import shlex

    command = reproduce("collection", quick=quick)
    server = os.environ.get("SHEQUYUN_BENCH_DATABASE_URL")
    return f"SHEQUYUN_BENCH_DATABASE_URL={shlex.quote(server)} {command}" if server else command


def _shares(task_ids: list[int], sizes: list[int]) -> Iterator[list[int]]:
    """Consecutive slices of ``task_ids`` of the given sizes: fresh tasks for each run."""
    start = 0
    for size in sizes:
        if start + size > len(task_ids):
            raise RuntimeError(f"only {len(task_ids)} tasks for {sum(sizes)} submissions")
        yield task_ids[start : start + size]
        start += size


def _body(task_id: int, document: dict[str, Any], file_fields: list[str], file_id: str) -> bytes:
    data = {**document, **dict.fromkeys(file_fields, file_id)}
    return json.dumps({"client_key": f"bench-{task_id:08d}", "data": data}).encode()


def _serve_blocks(
    tmp: Path, url: str, workers: int, shares: list[list[bytes]], untimed: int
) -> list[Block]:
    """Serve with ``workers`` uvicorn workers and send each share of requests in turn, timing
    each share after the first ``untimed`` (the warm-up)."""
    from _common import PYTHON, clean_env, free_port
    from _pgcpu import ServerClock
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    port = free_port()
    env = clean_env(
        SHEQUYUN_DATABASE_URL=url,
        SHEQUYUN_DATA_DIR=str(tmp),
        SHEQUYUN_INLINE_WORKER="false",
        SHEQUYUN_PLUGINS_ALLOWED="",
        SHEQUYUN_LOG_LEVEL="WARNING",
    )
    log = tmp / f"uvicorn-{workers}.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                PYTHON, "-m", "uvicorn", "shequyun.app:create_app", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--log-level", "warning", "--no-access-log",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    blocks = []
    clock_engine = create_engine(url, poolclass=NullPool)
    clock = ServerClock.open(clock_engine)  # None on SQLite: the work is in the server's CPU
    try:
        _wait_for(port, server, log)
        # Every worker loads the form version and compiles its validator on its first
        # submission; the warm-up gives each worker some of each kind before the clock starts.
        for share in shares[:untimed]:
            asyncio.run(_post_all(port, [_at_port(r, port) for r in share], CONNECTIONS))
        for share in shares[untimed:]:
            requests = [_at_port(r, port) for r in share]
            server_before = _tree_cpu(server.pid)
            database_before = clock.sample() if clock is not None else {}
            cpu_before, began = time.process_time(), time.perf_counter()
            asyncio.run(_post_all(port, requests, CONNECTIONS))
            seconds = time.perf_counter() - began
            blocks.append(
                Block(
                    len(requests),
                    seconds,
                    time.process_time() - cpu_before,
                    _spent(server_before, _tree_cpu(server.pid)),
                    _database_cpu(clock, database_before),
                    os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if clock is not None:
            clock.close()
        clock_engine.dispose()
    return blocks


def _at_port(request: bytes, port: int) -> bytes:
    return request.replace(b"Host: 127.0.0.1:0\r\n", f"Host: 127.0.0.1:{port}\r\n".encode(), 1)


def _request(port: int, token: str, task_id: int, body: bytes) -> bytes:
    head = (
        f"POST /api/v1/tasks/{task_id}/submit HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _post_all(port: int, requests: list[bytes], connections: int) -> None:
    """Send every request over ``connections`` keep-alive connections, each waiting for its
    response before sending the next; raise if any answer is not 201 Created.

    Each connection is replaced after ``REQUESTS_PER_CONNECTION`` requests, as a population
    of clients would: uvicorn's workers share one listening socket, and connections opened
    all at once may all land on one worker; a worker with time to spare takes more of the
    new ones."""
    pending = iter(requests)
    failures: list[str] = []

    async def connection() -> None:
        more = True
        while more:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                more = False
                for count, request in enumerate(pending, start=1):
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    body = await reader.readexactly(_content_length(head))
                    if head[9:12] != b"201":
                        answer = body[:300].decode(errors="replace")
                        failures.append(f"{head[9:12].decode()} {answer}")
                    if count == REQUESTS_PER_CONNECTION:
                        more = True
                        break
            finally:
                writer.close()
                await writer.wait_closed()

    await asyncio.wait_for(asyncio.gather(*(connection() for _ in range(connections))), timeout=600)
    if failures:
        raise RuntimeError(f"{len(failures)} submissions failed, first: {failures[0]}")


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"a response without Content-Length: {head[:300]!r}")


def _spent(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def _database_cpu(clock: Any, before: dict[int, int]) -> float | None:
    """CPU seconds the benchmark database's backends spent since ``before`` (a
    ``clock.sample()``), or None without a clock. Only this database's backends: other work on
    a shared PostgreSQL is not counted (the server's pooled connections live through a block,
    so little is lost to backends that exit)."""
    if clock is None:
        return None
    after = clock.sample()
    return sum(ns - before.get(pid, 0) for pid, ns in after.items()) / 1e9


def _tree_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` and its descendants (None without /proc)."""
    total = 0.0
    todo, seen = [pid], set()
    while todo:
        current = todo.pop()
        seen.add(current)
        try:
            with open(f"/proc/{current}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as children:
                todo += [int(c) for c in children.read().split() if int(c) not in seen]
        except OSError:
            if current == pid:
                return None
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    from _common import http_get

    deadline = time.monotonic() + 180  # a loaded 2-core machine imports slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            message = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the server stopped: {message[-2000:]}")
        try:
            if http_get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start in 180 s")


def _campaign(kernel: Any, schema: dict[str, Any]) -> tuple[str, int, list[int]]:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from shequyun.collection.models import Task
    from shequyun.identity.directory import create_token, create_user, grant_role, unit_by_code

    ui = {
        "fields": {name: {"label": f"问题{i + 1}"} for i, name in enumerate(schema["properties"])}
    }
    _label_nested(schema, ui)
    with Session(kernel.engine, expire_on_commit=False) as session:
        city = unit_by_code(session, "310000000000")
        user = create_user(
            session,
            username="benchadmin",
            display_name="压测",
            home_unit=city,
            must_change_password=False,
        )
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.platform_admin", unit=city
        )
        _, token = create_token(session, grant=grant, name="bench", expires_at=None)
        session.commit()
        actor = kernel.authenticator.actor_for(user, grant, city, "token")
        form = kernel.collection.forms.create(
            session, actor, {"title": "250 题压测表", "schema": schema, "ui": ui}
        )
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        campaign = kernel.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "targets": ["310000000000"],
                "deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            },
        )
        session.commit()
        task_ids = list(
            session.exec(select(Task.id).where(Task.campaign_id == campaign.id).order_by(Task.id))
        )
    return token, campaign.id, task_ids


def _label_nested(schema: dict[str, Any], ui: dict[str, Any]) -> None:
    """Labels for nested fields too (the UI layer requires one per field)."""
    defs = schema.get("$defs", {})
    for name, prop in schema["properties"].items():
        target = prop
        if "$ref" in prop:
            target = defs[prop["$ref"].split("/")[-1]]
        items = target.get("items") if target.get("type") == "array" else None
        nested = target.get("properties") or (items or {}).get("properties") or {}
        for child in nested:
            ui["fields"][f"{name}.{child}"] = {"label": child}


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\x80"))
    return png + chunk(b"IEND", b"")


def _admin_uploads(kernel: Any, token: str, task_ids: list[int]) -> dict[int, tuple[str, str]]:
    """One uploaded PNG per task, by the bench administrator, who sends them all."""
    from sqlmodel import Session, select

    from shequyun.identity.models import Grant, OrgUnit, User

    png = _png()
    senders: dict[int, tuple[str, str]] = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.username == "benchadmin")).one()
        grant = session.exec(select(Grant).where(Grant.user_id == user.id)).one()
        actor = kernel.authenticator.actor_for(
            user, grant, session.get(OrgUnit, grant.unit_id), "token"
        )
        for tid in task_ids:
            row = kernel.attachments.store(session, data=png, filename=f"{tid}.png", actor=actor)
            senders[tid] = (token, row.id)
        session.commit()
    return senders


def _committee_senders(kernel: Any, task_ids: list[int]) -> dict[int, tuple[str, str]]:
    """For each task, its committee's cadre (a 居村干部 grant on the committee) with an API
    token of their own, and a PNG that cadre uploaded: what a committee's script sends."""
    from sqlmodel import Session, col, select

    from shequyun.collection.models import Task
    from shequyun.identity.directory import create_token, create_user, grant_role
    from shequyun.identity.models import OrgUnit

    png = _png()
    senders: dict[int, tuple[str, str]] = {}
    with Session(kernel.engine, expire_on_commit=False) as session:
        units = {
            tid: unit
            for tid, unit in session.exec(
                select(Task.id, OrgUnit)
                .join(OrgUnit, OrgUnit.id == Task.unit_id)  # type: ignore[arg-type]
                .where(col(Task.id).in_(task_ids))
            )
        }
        for tid in task_ids:
            unit = units[tid]
            user = create_user(
                session,
                username=f"bench.cadre.{unit.code}",
                display_name=f"{unit.name}干部",
                home_unit=unit,
                must_change_password=False,
            )
            grant = grant_role(
                session, kernel.permissions, user=user, role="identity.cadre", unit=unit
            )
            _, token = create_token(session, grant=grant, name="居委填报脚本", expires_at=None)
            actor = kernel.authenticator.actor_for(user, grant, unit, "token")
            row = kernel.attachments.store(session, data=png, filename=f"{tid}.png", actor=actor)
            senders[tid] = (token, row.id)
        session.commit()
    return senders


def _raw_store_rate(kernel: Any, document: dict[str, Any], count: int) -> float:
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert

    metadata = MetaData()
    scratch = Table(
        "bench_raw_submission",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("data", JSON, nullable=False),
    )
    metadata.create_all(kernel.engine)
    rows = [{"data": document} for _ in range(count)]
    start = time.perf_counter()
    with kernel.engine.begin() as connection:
        connection.execute(insert(scratch), rows)
    elapsed = time.perf_counter() - start
    metadata.drop_all(kernel.engine)
    return count / elapsed


#: Progress figures: (result name, the user whose scope applies, level, the hand-written
#: counts' grouping column and condition, what it shows).
PROGRESS_KINDS = (
    (
        "collection-progress",
        "xuhui.admin",
        "street",
        "street_id",
        "AND district_id = :unit",
        "a district admin (徐汇区) by street",
    ),
    (
        "collection-progress-city",
        "benchadmin",
        "district",
        "district_id",
        "",
        "the city by district",
    ),
)


@dataclass(frozen=True)
class Timing:
    """One kind of progress query's calls: wall-clock and CPU milliseconds of each."""

    wall: list[float]
    cpu: list[float]  # this process's, plus the database's backends on a local PostgreSQL


def _progress(kernel: Any, campaign_id: int, quick: bool) -> list[tuple[str, str, Timing, Timing]]:
    """For each of :data:`PROGRESS_KINDS`: ``results.progress`` and the hand-written counts,
    called in turn (the order swapped every round), each call's wall-clock and CPU time."""
    from _pgcpu import ServerClock
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    from sqlmodel import Session, select

    from shequyun.collection.models import Campaign
    from shequyun.collection.results import progress
    from shequyun.identity.models import Grant, OrgUnit, User

    rounds = 10 if quick else 200
    clock_engine = create_engine(kernel.engine.url, poolclass=NullPool)
    clock = ServerClock.open(clock_engine)  # None on SQLite: the work is in this process
    measured = []
    with Session(kernel.engine) as session:
        # Half the tasks submitted, a tenth returned: the counts have something to count.
        session.execute(
            text(
                "UPDATE kernel_task SET status = 'submitted', on_time = true "
                "WHERE campaign_id = :c AND id % 2 = 0"
            ),
            {"c": campaign_id},
        )
        session.execute(
            text(
                "UPDATE kernel_task SET status = 'returned' WHERE campaign_id = :c AND id % 10 = 1"
            ),
            {"c": campaign_id},
        )
        session.commit()
        campaign = session.get(Campaign, campaign_id)
        for name, username, level, column, condition, _what in PROGRESS_KINDS:
            user = session.exec(select(User).where(User.username == username)).one()
            grant = session.exec(select(Grant).where(Grant.user_id == user.id)).one()
            unit = session.get(OrgUnit, grant.unit_id)
            actor = kernel.authenticator.actor_for(user, grant, unit, "session")
            raw_sql = text(
                f"SELECT {column}, count(*), "
                "sum(CASE WHEN status = 'submitted' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN status = 'returned' THEN 1 ELSE 0 END) "
                f"FROM kernel_task WHERE campaign_id = :c AND withdrawn = false {condition} "
                f"GROUP BY {column}"
            )
            values = {"c": campaign_id, "unit": unit.id} if condition else {"c": campaign_id}

            def ours(actor: Any = actor, level: str = level) -> Any:
                return progress(session, actor, campaign, level, None)

            def raw(raw_sql: Any = raw_sql, values: Any = values) -> Any:
                return session.execute(raw_sql, values).all()

            result, rows = ours(), raw()
            assert result["total"]["expected"] == sum(r[1] for r in rows) > 0
            assert len(result["groups"]) == len(rows)
            timings: dict[Any, Timing] = {ours: Timing([], []), raw: Timing([], [])}
            for turn in range(rounds):
                for work in (ours, raw) if turn % 2 else (raw, ours):
                    before = clock.sample() if clock is not None else {}
                    cpu, began = time.process_time(), time.perf_counter()
                    work()
                    wall = time.perf_counter() - began
                    spent = time.process_time() - cpu + (_database_cpu(clock, before) or 0.0)
                    timings[work].wall.append(wall * 1000)
                    timings[work].cpu.append(spent * 1000)
            measured.append((name, level, timings[ours], timings[raw]))
    if clock is not None:
        clock.close()
    clock_engine.dispose()
    return measured


if __name__ == "__main__":
    for outcome in run(quick="--quick" in os.sys.argv):  # type: ignore[attr-defined]
        print(outcome.report())
