"""Every call an app makes is written to the audit log as the app."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..identity import audit

__all__ = ["AppCallAudit"]


class AppCallAudit:
    """After each request authenticated with an app's token, one audit entry ``app.call``
    (method, path, status), whether the app acted on its own or for a signed-in person."""

    def __init__(self, app: ASGIApp, engine: Any) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        actor = scope.get("shequyun.actor") if scope["type"] == "http" else None
        if actor is None or not str(actor.via).startswith("app"):
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            detail = {"method": scope["method"], "path": scope["path"], "status": status}
            client = scope.get("client")
            await anyio.to_thread.run_sync(
                lambda: audit.record_now(
                    self.engine,
                    "app.call",
                    actor=actor,
                    outcome="ok" if status < 400 else "denied",
                    detail=detail,
                    client_ip=client[0] if client else None,
                )
            )
