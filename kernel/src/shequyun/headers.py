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

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_PREFIX", "with_security_headers"]

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

#: Where static files are served: their answers may be cached.
STATIC_PREFIX = "/static/"


Pairs = tuple[tuple[bytes, bytes], ...]
_ALWAYS: Pairs = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_HTML: Pairs = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
)
_NO_STORE: Pairs = ((b"cache-control", b"no-store"),)
_DYNAMIC = _ALWAYS + _NO_STORE
_HTML_STATIC = _ALWAYS + _HTML
_HTML_DYNAMIC = _ALWAYS + _HTML + _NO_STORE
_NAMES = frozenset(name for name, _ in _HTML_DYNAMIC)


def with_security_headers(
    raw: Iterable[tuple[bytes, bytes]], *, static: bool
) -> list[tuple[bytes, bytes]]:
    """``raw`` (a response's ASGI header pairs) with each header above it did not set added;
    ``static``: the response is a static file's, which may be cached. Names are compared
    lowercased, as HTTP compares them."""
    headers = list(raw)
    html = False
    own = False  # the response set one of these headers itself
    for name, value in headers:
        name = name.lower()
        if name == b"content-type":
            html = value.startswith(b"text/html")
        elif name in _NAMES:
            own = True
    if html:
        wanted = _HTML_STATIC if static else _HTML_DYNAMIC
    else:
        wanted = _ALWAYS if static else _DYNAMIC
    if own:
        present = {name.lower() for name, _ in headers}
        headers.extend(pair for pair in wanted if pair[0] not in present)
    else:
        headers.extend(wanted)
    return headers
