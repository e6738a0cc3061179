"""What the curve (``bench_curve.py``) and the load test (``load_test.py``) build and share.

A temporary PostgreSQL database (SQLite when no server answers) holding Shanghai's demo tree,
generated residents (``residents.generate_bulk.bulk_load``, the fastest existing generator:
``COPY`` straight into the tables, encrypted and hashed as the service does), accounts with API
tokens, a campaign, and the platform under uvicorn on that database; plus the worker's memory
as Linux counts it and requests into the app in-process over ASGI.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import PYTHON, clean_env, free_port, http_get

__all__ = [
    "SIMPLE_FORM",
    "Asgi",
    "database",
    "kernel_on",
    "memory_kib",
    "open_campaign",
    "platform_admin",
    "reset_peak",
    "serve",
    "token_for",
    "tree",
    "worker_pids",
]

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

#: A form a committee fills in a minute: what the campaigns of both benchmarks ask.
SIMPLE_FORM = {
    "schema": {
        "type": "object",
        "properties": {
            "households": {"type": "integer", "minimum": 0},
            "elders_alone": {"type": "integer", "minimum": 0},
            "visited": {"type": "boolean"},
            "living": {"enum": ["独居", "与配偶同住", "与子女同住"]},
            "needs": {
                "type": "array",
                "items": {"enum": ["助餐", "助浴", "助医", "助洁"]},
                "uniqueItems": True,
            },
            "remark": {"type": "string", "maxLength": 200},
        },
        "required": ["households", "visited"],
        "additionalProperties": False,
    },
    "ui": {
        "fields": {
            "households": {"label": "户数"},
            "elders_alone": {"label": "独居老人人数"},
            "visited": {"label": "是否已上门走访", "widget": "switch"},
            "living": {"label": "居住情况", "widget": "radio"},
            "needs": {"label": "服务需求", "widget": "checkbox"},
            "remark": {"label": "备注", "widget": "textarea"},
        },
    },
}


@contextlib.contextmanager
def database(server_url: str | None, tmp: Path) -> Iterator[str]:
    """A fresh PostgreSQL database on ``server_url``'s server (dropped afterwards), or a SQLite
    file in ``tmp`` when no server answers."""
    from bench_residents import _reachable, _temporary_postgres

    server = server_url or os.environ.get("SHEQUYUN_BENCH_DATABASE_URL") or DEFAULT_POSTGRES
    if not _reachable(server):
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    with _temporary_postgres(server) as url:
        yield url


def kernel_on(url: str, data_dir: Path) -> Any:
    """A migrated kernel with the default plugins (no inline worker) on ``url``."""
    from bench_residents import _kernel

    return _kernel(url, data_dir)


def tree(kernel: Any) -> list[Any]:
    """Shanghai's demo tree (6,077 committees) and its accounts; the committees."""
    from bench_residents import _tree

    return _tree(kernel)


def token_for(kernel: Any, username: str, *, unit: Any = None, role: str | None = None) -> str:
    """An API token for ``username``'s first grant; with ``unit`` and ``role`` the user is made
    first (a staff account with that one grant)."""
    from sqlmodel import Session, select

    from shequyun.identity.directory import create_token, create_user, grant_role
    from shequyun.identity.models import Grant, User

    with Session(kernel.engine, expire_on_commit=False) as session:
        if unit is not None and role is not None:
            user = create_user(
                session,
                username=username,
                display_name=f"压测{username[-4:]}",
                home_unit=unit,
                must_change_password=False,
            )
            grant = grant_role(session, kernel.permissions, user=user, role=role, unit=unit)
        else:
            user = session.exec(select(User).where(User.username == username)).one()
            grant = session.exec(select(Grant).where(Grant.user_id == user.id)).first()
            assert grant is not None
        _, token = create_token(session, grant=grant, name="性能基准", expires_at=None)
        session.commit()
    return token


def platform_admin(kernel: Any) -> Any:
    """The demo's platform admin (``admin``) as an actor."""
    from sqlmodel import Session, select

    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.username == "admin")).one()
        grant = session.exec(select(Grant).where(Grant.user_id == user.id)).one()
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "token")


def open_campaign(kernel: Any, targets: list[str], title: str, *, submitted: float = 0.0) -> int:
    """A campaign of :data:`SIMPLE_FORM` to ``targets`` (unit codes) by the platform admin; a
    share ``submitted`` of its tasks marked submitted (on time) straight in the table."""
    from sqlalchemy import text
    from sqlmodel import Session

    actor = platform_admin(kernel)
    with Session(kernel.engine, expire_on_commit=False) as session:
        form = kernel.collection.forms.create(session, actor, {"title": title, **SIMPLE_FORM})
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        campaign = kernel.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "targets": targets,
                "deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            },
        )
        session.commit()
        campaign_id: int = campaign.id
        if submitted:
            every = max(1, round(1 / submitted))
            session.execute(
                text(
                    "UPDATE kernel_task SET status = 'submitted', on_time = true "
                    "WHERE campaign_id = :c AND id % :every = 0"
                ),
                {"c": campaign_id, "every": every},
            )
            session.commit()
    return campaign_id


class Asgi:
    """Requests straight into the platform app over ASGI (no server, no HTTP parsing), on one
    event loop kept for all of them."""

    def __init__(self, kernel: Any) -> None:
        from shequyun.app import create_app

        self.app = create_app(kernel=kernel)
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def get(self, target: str, token: str) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._get(target, token))

    async def _get(self, target: str, token: str) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        status, body = 0, b""

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        await self.app(scope, receive, send)
        return status, body


@contextlib.contextmanager
def serve(url: str, data_dir: Path, workers: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The platform under uvicorn with ``workers`` workers on ``url`` (the kernel's plugins
    only, no inline worker, no access log), on a free port of 127.0.0.1 (``process.port``)."""
    port = free_port()
    env = clean_env(
        SHEQUYUN_DATABASE_URL=url,
        SHEQUYUN_DATA_DIR=str(data_dir),  # the same secret key, so the same data key
        SHEQUYUN_INLINE_WORKER="false",
        SHEQUYUN_PLUGINS_ALLOWED="",
        SHEQUYUN_LOG_LEVEL="WARNING",
        SHEQUYUN_ACCESS_LOG="false",
    )
    with log.open("ab") as output:
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
    server.port = port  # type: ignore[attr-defined]
    try:
        _wait_for(port, server, log)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def worker_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The processes serving requests: the server itself with one worker, else its children."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    try:
        found = [int(p) for p in children.read_text().split()]
    except OSError:
        found = []
    # uvicorn spawns its workers with multiprocessing (``spawn_main``); a resource tracker,
    # if any, is not one.
    workers = [p for p in found if b"spawn_main" in _cmdline(p)]
    return workers or [server.pid]


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak resident set) of ``pid`` in KiB; empty off Linux."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


def reset_peak(pid: int) -> bool:
    """Start ``VmHWM`` over from the current RSS (Linux ``clear_refs`` 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            message = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the server stopped: {message[-2000:]}")
        try:
            if http_get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start in 120 s")
