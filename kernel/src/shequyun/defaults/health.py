"""Default plugin ``health``: liveness (``/healthz``) and readiness (``/readyz``) probes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shequyun_sdk import PluginContext, hookimpl
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import json_error
from ..i18n import gettext
from ..release import VERSION
from ..residents.keycheck import KeyMismatch, check_data_key

MANIFEST = {
    "name": "health",
    "version": VERSION,
    "title": {"zh": "健康检查", "en": "Health checks"},
    "description": {"zh": "供负载均衡与运维探测", "en": "Probes for load balancers and operators"},
    "sdk": ">=1.0,<2",
}


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [Route("/healthz", healthz), Route("/readyz", readyz)]


async def healthz(request: Request) -> Response:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The database answers, every migration of the kernel and active plugins is applied, and
    the data key reads the database's encrypted values. Migrations of a newer release (a
    rolling upgrade under way) are listed as ``database_newer``, still with 200. With read
    replicas configured, each one's state is listed; a skipped replica makes the answer
    ``degraded`` (still 200: the primary answers its reads)."""
    kernel = request.app.state.kernel

    newer: list[str] = []

    def check() -> tuple[list[str], bool]:
        with kernel.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        pending: list[str] = kernel.migrations.pending(kernel.engine)
        if pending:
            return pending, True
        newer.extend(kernel.migrations.newer(kernel.engine))
        try:
            check_data_key(kernel.engine, kernel.residents.cipher, kernel.settings)
        except KeyMismatch:
            return [], False
        return [], True

    try:
        pending, key_fits = await run_in_threadpool(check)
    except Exception:
        return json_error(503, "database_unreachable", gettext("Database unreachable"))
    if pending:
        return json_error(
            503,
            "migrations_pending",
            gettext("Database migrations pending: {pending}", pending=", ".join(pending)),
        )
    if not key_fits:
        return json_error(
            503,
            "data_key_mismatch",
            gettext("The data key (data_key) cannot read this database's encrypted values"),
        )
    ready: dict[str, Any] = {"status": "ready"}
    if newer:
        # A newer release upgraded the database (a rolling upgrade): this worker still serves
        # until it is restarted onto the new code.
        ready["database_newer"] = newer
    if kernel.replicas is not None:
        states = await run_in_threadpool(lambda: kernel.replicas.states(fresh=True))
        if not all(s.healthy for s in states):
            ready["status"] = "degraded"
        ready["replicas"] = [s.view() for s in states]
    return JSONResponse(ready)
