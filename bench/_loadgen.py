"""A small HTTP/1.1 load generator for loopback servers; run by ``bench_requests``.

    python bench/_loadgen.py PORT [--path /healthz] [--connections 16] [--warmup 1]
                             [--duration 5] [--max-requests 2000000] [--expect BODY]
                             [--server-pid PID] [--tokens FILE]

Opens ``--connections`` keep-alive connections to 127.0.0.1:PORT; each sends one ``GET`` and
sends the next only once the whole response has arrived (no pipelining). Responses completed
during the ``--duration`` seconds after ``--warmup`` are counted; a response that is not 200,
or whose body differs from ``--expect``, counts as an error. With ``--server-pid`` it also
reports the CPU time the server process used during those seconds (Linux). With ``--tokens``
(a file of bearer tokens, one a line) every request carries the next token of the file, the
connections taking them in turn from one round robin. Prints one JSON line.

It is bounded: loopback only, at most ``--max-requests`` requests, and it stops at
warmup + duration whatever the server does.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass
class Tally:
    """Shared by every connection: what has been done, and whether to stop."""

    max_requests: int
    expect: bytes | None
    sent: int = 0
    completed: int = 0
    errors: int = 0
    stopping: bool = False

    def may_send(self) -> bool:
        return not self.stopping and self.sent < self.max_requests


class Connection(asyncio.Protocol):
    """One keep-alive connection sending sequential requests as fast as responses arrive."""

    def __init__(self, requests: Iterator[bytes], tally: Tally) -> None:
        self.requests = requests
        self.tally = tally
        self.buffer = bytearray()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send_next()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end]).lower()
        length = _content_length(head)
        if length is None:  # no Content-Length (e.g. chunked): not something we can time
            self.tally.errors += 1
            self._close()
            return
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        ok = head[9:12] == b"200"
        if ok and self.tally.expect is not None:
            ok = bytes(self.buffer[head_end + 4 : end]) == self.tally.expect
        if ok:
            self.tally.completed += 1
        else:
            self.tally.errors += 1
        del self.buffer[:end]
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def _send_next(self) -> None:
        if self.transport is None:
            return
        if self.tally.may_send():
            self.tally.sent += 1
            self.transport.write(next(self.requests))
        else:
            self._close()

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def _keep_connected(requests: Iterator[bytes], tally: Tally, port: int) -> None:
    """Hold one connection open, reconnecting if the server closes it, until told to stop."""
    loop = asyncio.get_running_loop()
    while tally.may_send():
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: Connection(requests, tally), HOST, port), 2.0
            )
        except (OSError, TimeoutError):
            tally.errors += 1
            await asyncio.sleep(0.05)
            continue
        await conn.closed
        # A request sent but unanswered when the connection closed is neither counted nor
        # retried: the tally is of complete responses.


async def measure(args: argparse.Namespace) -> dict[str, float | None]:
    head = (
        f"GET {args.path} HTTP/1.1\r\nHost: {HOST}:{args.port}\r\n"
        "User-Agent: shequyun-bench\r\nAccept: */*\r\n"
    )
    if args.tokens:
        with open(args.tokens, encoding="ascii") as listed:
            tokens = [line.strip() for line in listed if line.strip()]
        built = [f"{head}Authorization: Bearer {t}\r\n\r\n".encode("ascii") for t in tokens]
    else:
        built = [f"{head}\r\n".encode("ascii")]
    requests = itertools.cycle(built)  # one round robin for every connection
    tally = Tally(args.max_requests, args.expect.encode() if args.expect is not None else None)
    workers = [
        asyncio.create_task(_keep_connected(requests, tally, args.port))
        for _ in range(args.connections)
    ]
    await asyncio.sleep(args.warmup)
    completed_before, errors_before = tally.completed, tally.errors
    began, cpu_began = time.perf_counter(), time.process_time()
    server_began = _cpu_seconds(args.server_pid)
    await asyncio.sleep(args.duration)
    completed, errors = tally.completed - completed_before, tally.errors - errors_before
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    server_ended = _cpu_seconds(args.server_pid)
    tally.stopping = True
    _, pending = await asyncio.wait(workers, timeout=2.0)
    for task in pending:
        task.cancel()
    server_cpu = None
    if server_began is not None and server_ended is not None:
        server_cpu = server_ended - server_began
    return {
        "requests": completed,
        "errors": errors,
        "seconds": seconds,
        "rps": completed / seconds,
        "client_cpu": cpu / seconds,
        "server_cpu": server_cpu,
        "capped": tally.sent >= args.max_requests,
    }


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time process ``pid`` has used so far (None where /proc is missing)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # Fields 14 and 15 (utime, stime); the name before them may hold spaces.
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _content_length(head: bytes) -> int | None:
    start = head.find(b"\r\ncontent-length:")
    if start < 0:
        return None
    start += len(b"\r\ncontent-length:")
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--expect", help="the exact body every response must have")
    parser.add_argument("--server-pid", type=int, help="report this process's CPU time too")
    parser.add_argument("--tokens", help="a file of bearer tokens to send in turn, one a line")
    args = parser.parse_args()
    if not 1 <= args.connections <= 256 or not 0 < args.duration <= 60 or args.warmup > 60:
        parser.error("keep it bounded: 1-256 connections, at most 60 s of warm-up and of load")
    print(json.dumps(asyncio.run(measure(args))))


if __name__ == "__main__":
    main()
