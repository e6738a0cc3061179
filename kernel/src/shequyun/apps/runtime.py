"""The open platform's parts, built once per kernel: ``kernel.openness``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shequyun_sdk.identity import Actor, UnitRef
from sqlmodel import Session, col, select

from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .feed import Feed
from .keys import KeyStore
from .oauth import ACCESS_PREFIX, OAuthServer
from .provider import LogoutEndpoint
from .service import AppService
from .tokens import AccessToken, resolve_access_token
from .webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["Openness"]


class Openness:
    """Apps, the OIDC provider and its keys, bound to one kernel."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        cipher = kernel.residents.cipher
        self.apps = AppService(kernel.permissions, cipher)
        self.keys = KeyStore(kernel.engine, cipher)
        self.server = OAuthServer(
            kernel.engine, self.apps, self.keys, f"http://{kernel.settings.host}"
        )
        self.server.register_endpoint(LogoutEndpoint)
        kernel.authenticator.bearer_resolvers[ACCESS_PREFIX] = self.actor_for_token
        self.feed = Feed(kernel.engine)
        self.webhooks = WebhookDispatcher(kernel.engine, self.apps)

    def start_background(self) -> None:
        """Send webhooks from a thread of this process (the worker, or the embedded web app)."""
        self.webhooks.start_background()

    def stop_background(self) -> None:
        self.webhooks.stop_background()

    def access_token(self, token: str) -> AccessToken | None:
        return resolve_access_token(self.kernel.engine, self.apps, self.kernel.authenticator, token)

    def actor_for_token(self, token: str) -> Actor | None:
        found = self.access_token(token)
        return found.actor if found is not None else None

    def units_by_paths(self, paths: Sequence[str]) -> list[UnitRef]:
        if not paths:
            return []
        with Session(self.kernel.engine) as session:
            rows = session.exec(select(OrgUnit).where(col(OrgUnit.path).in_(list(paths))))
            return [unit_ref(u) for u in rows]
