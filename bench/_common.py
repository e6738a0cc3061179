"""What every benchmark shares: the result shape, medians, child processes and printing.

A benchmark compares a *subject* with a *baseline* measured in the same run, and reports the
ratio of the two: absolute figures move with the machine, ratios much less.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH",
    "PYTHON",
    "REPO",
    "Figure",
    "Result",
    "clean_env",
    "free_port",
    "http_get",
    "median",
    "migrate",
    "reproduce",
    "run_json",
    "spread",
]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# The interpreter running the benchmarks runs every child too, so they see the same packages.
PYTHON = sys.executable


@dataclass(frozen=True)
class Figure:
    """One measured quantity: ``value`` in ``unit``, with how it was obtained in ``detail``."""

    label: str
    value: float
    unit: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.label:<24} {_number(self.value):>10} {self.unit}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Result:
    """A subject compared with a baseline measured in the same run.

    ``ratio`` is subject / baseline in the figures' unit: above 1 means *more* of the unit
    (slower for a duration, faster for a rate).
    """

    name: str
    title: str
    baseline: Figure
    subject: Figure
    command: str
    notes: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        return self.subject.value / self.baseline.value

    def report(self) -> str:
        lines = [
            f"== {self.name}: {self.title}",
            f"   baseline  {self.baseline}",
            f"   subject   {self.subject}",
            f"   ratio     {self.subject.label} / {self.baseline.label} = {self.ratio:.2f}x",
        ]
        lines += [f"   note      {note}" for note in self.notes]
        lines.append(f"   reproduce {self.command}")
        return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], unit: str = "") -> str:
    """``n=5, min 1.2 max 1.5 ms``: enough to see how noisy the median is."""
    return f"n={len(values)}, min {_number(min(values))} max {_number(max(values))}{unit}"


def reproduce(name: str, *, quick: bool) -> str:
    """The command that reruns one benchmark, as typed from the repository root."""
    python = Path(PYTHON)
    shown = str(python.relative_to(REPO)) if python.is_relative_to(REPO) else str(python)
    args = [shown, "bench/run.py", name] + (["--quick"] if quick else [])
    return shlex.join(args)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours without ``SHEQUYUN_*`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEQUYUN_")}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def run_json(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float,
) -> dict[str, Any]:
    """Run a child process and return the JSON object it prints as its last line of output.

    A child that fails, hangs past ``timeout`` (it is killed) or prints no JSON raises
    ``RuntimeError`` carrying its stderr.
    """
    try:
        done = subprocess.run(
            list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{shlex.join(args)} took more than {timeout:.0f} s") from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{shlex.join(args)} exited with {done.returncode}:\n{done.stderr.strip()}"
        )
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def migrate(data_dir: Path) -> None:
    """Create a SQLite database in ``data_dir`` with every kernel migration applied."""
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    kernel = Kernel(load_settings(environ={}, data_dir=data_dir), discover=False)
    try:
        kernel.upgrade_database()
    finally:
        kernel.close()


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(port: int, path: str, *, timeout: float = 2.0) -> tuple[int, bytes]:
    """One ``GET`` on 127.0.0.1 with ``Connection: close``: the status and the body."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request.encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"
