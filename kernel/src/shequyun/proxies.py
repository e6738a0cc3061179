"""Who the client is and how it reached us, established once for every request.

A client that talks to the platform directly could write ``X-Forwarded-For: 203.0.113.66`` and
be audited, throttled and logged as that address. So forwarded headers are believed only when
the connection comes from one of the configured reverse proxies (setting
``forwarded_allow_ips``: addresses or networks; empty, the default, believes nobody). The
client is then the right-most address in ``X-Forwarded-For`` that is not itself one of those
proxies (each proxy appends the address it saw, so anything left of that was written by the
client), and ``X-Forwarded-Proto`` gives the scheme.

With ``https = true`` (TLS ends at a proxy in front of the platform), every request's scheme is
``https`` whatever the proxy said, so ``request.url`` and cookies set from it (``Secure``) agree
with what the browser sees.

Everything after it (the access log, metrics, the audit log, the attempt limits,
plugins' ``request.client.host``) reads the result from the ASGI scope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ForwardedHeaders", "ForwardedHeadersMiddleware", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``values`` (``10.0.0.5``, ``10.0.0.0/8``, ``::1``) as networks; ``ValueError`` names the
    first one that is neither an address nor a network."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


class ForwardedHeaders:
    """Sets a scope's ``client`` and ``scheme`` from forwarded headers of trusted proxies."""

    def __init__(self, trusted: Iterable[str] = (), *, https: bool = False) -> None:
        self.trusted = parse_networks(trusted)
        self.https = https
        #: Whether :meth:`apply` may change anything (with the defaults it does not).
        self.active = bool(self.trusted) or https

    def apply(self, scope: Scope) -> None:
        """Rewrite ``scope`` (``http`` or ``websocket``) as the rules above say."""
        if self.trusted:
            client = scope.get("client")
            if client and self._trusts(client[0]):
                self._apply(scope)
        if self.https:
            scope["scheme"] = "wss" if scope["type"] == "websocket" else "https"

    def _trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def _apply(self, scope: Scope) -> None:
        forwarded_for: list[str] = []
        proto = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for += [h.strip() for h in value.decode("latin-1").split(",")]
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto.replace("http", "ws") if scope["type"] == "websocket" else proto
        for host in reversed([h for h in forwarded_for if h]):
            host = _without_port(host)
            if not self._trusts(host):
                if _is_address(host):
                    scope["client"] = (host, 0)
                return


class ForwardedHeadersMiddleware:
    """:class:`ForwardedHeaders` as an ASGI middleware of its own, for any app. (The
    platform's app applies it in :class:`~shequyun.gate.Gate`, before everything else.)"""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str] = (), https: bool = False) -> None:
        self.app = app
        self.forwarded = ForwardedHeaders(trusted, https=https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.forwarded.apply(scope)
        await self.app(scope, receive, send)


def _without_port(value: str) -> str:
    if value.startswith("["):  # [2001:db8::1]:443
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:  # 203.0.113.66:51234
        return value.split(":", 1)[0]
    return value


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
