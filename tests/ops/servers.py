"""Real ``shequyun serve`` processes for the operations tests: started, waited for, stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from ..conftest import SHEQUYUN

#: A liveness bound, not a timing test: a loaded 2-core machine may take this long to start one.
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHEQUYUN, *args], env=env, capture_output=True, text=True, timeout=300)


@dataclass
class Server:
    """A running ``shequyun serve``: its base URL, its process and its log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def logged(self, marker: str, seconds: float = 30) -> list[str]:
        """The log's lines holding ``marker``, once there is one. A request's access line is
        written after its response has left, so a client can read the log before it is there
        (a liveness bound, not a timing test)."""
        deadline = time.monotonic() + seconds
        while True:
            lines = [line for line in self.log.read_text().splitlines() if marker in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[Server]:
    """``shequyun serve ARGS`` on a free port, once ``/healthz`` answers; stopped afterwards."""
    port = free_port()
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [SHEQUYUN, "serve", "--port", str(port), *args], env=env, stdout=out, stderr=out
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                server.get("/healthz")
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"not serving after {START_SECONDS} s"
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
