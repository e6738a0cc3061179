"""Response headers that keep the portal's pages and personal data where they belong.

Every HTML page (the kernel's and every plugin's, error pages too) carries a
Content-Security-Policy that allows scripts, styles, images and fonts from the platform itself
only — no inline script, no ``style`` attribute, no other site — and may not be shown inside
another site's frame (``frame-ancestors 'none'`` and, for older browsers, ``X-Frame-Options:
DENY``), so a one-click admin form cannot be clickjacked.

Every answer that is not a static file is ``Cache-Control: no-store`` unless its handler chose
otherwise: resident lists, detail pages, the reveal answer and exports hold personal data, and a
shared office computer's browser cache or a proxy must keep none of it.

A handler that sets one of these headers itself (attachments send their own sandboxing policy)
keeps its own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)

_STATIC_PREFIX = "/static/"


class SecurityHeadersMiddleware:
    """Adds the headers above to each HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(_STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    headers.setdefault("X-Frame-Options", "DENY")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
