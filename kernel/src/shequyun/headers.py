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

from collections.abc import Iterable

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


Pairs = tuple[tuple[bytes, bytes], ...]
_ALWAYS: Pairs = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_HTML: Pairs = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
)
_NO_STORE: Pairs = ((b"cache-control", b"no-store"),)


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
                message["headers"] = _with_defaults(message.get("headers") or [], static)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_defaults(raw: Iterable[tuple[bytes, bytes]], static: bool) -> list[tuple[bytes, bytes]]:
    """``raw`` (ASGI header pairs) with each header above the response did not set added: one
    pass over the headers, names compared lowercased as HTTP compares them."""
    headers = list(raw)
    present = {name.lower(): value for name, value in headers}
    wanted = _ALWAYS
    if present.get(b"content-type", b"").startswith(b"text/html"):
        wanted += _HTML
    if not static:
        wanted += _NO_STORE
    headers.extend(pair for pair in wanted if pair[0] not in present)
    return headers
