"""The two ASGI apps ``bench_requests`` serves with uvicorn, as factories (``--factory``).

``make_kernel_app`` builds the platform on the migrated SQLite database in the directory named
by ``SHEQUYUN_BENCH_DATA_DIR``, with the kernel's default plugins only and no inline worker.
``make_bare_app`` is plain Starlette answering the same route with the same JSON.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DATA_DIR_VARIABLE = "SHEQUYUN_BENCH_DATA_DIR"


def make_kernel_app() -> Starlette:
    from shequyun.app import create_app
    from shequyun.settings import load_settings

    data_dir = Path(os.environ[DATA_DIR_VARIABLE])
    settings = load_settings(environ={}, data_dir=data_dir, inline_worker=False)
    return create_app(settings, discover=False)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def make_bare_app() -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz)])
