"""The open platform's parts, built once per kernel: ``kernel.openness``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shequyun_sdk.identity import Actor, UnitRef
from shequyun_sdk.types import NavEntry
from sqlmodel import Session, col, select

from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .feed import Feed
from .keys import KeyStore
from .models import ExternalApp
from .oauth import ACCESS_PREFIX, OAuthServer
from .provider import LogoutEndpoint
from .service import AppService, effective_unit
from .tokens import AccessToken, resolve_access_token
from .webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["Openness"]

NAV_REFRESH_SECONDS = 5.0


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
        self._nav_cache: tuple[float, int, list[tuple[ExternalApp, list[UnitRef]]]] | None = None

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

    def nav_for(self, actor: Actor | None) -> list[NavEntry]:
        """The apps' navigation entries ``actor`` may open: the app is enabled where they work
        (or in the part of their subtree they oversee) and they hold the entry's permission."""
        if actor is None or actor.unit is None:
            return []
        entries: list[NavEntry] = []
        for app, units in self._launchers():
            if effective_unit(actor.unit, units) is None:
                continue
            base = str(app.manifest["base_url"]).rstrip("/")
            for item in app.manifest.get("nav", []):
                permission = item.get("permission")
                if permission and not actor.has(permission):
                    continue
                entries.append(
                    NavEntry(
                        label=item["label"],
                        label_en=item.get("label_en", ""),
                        href=base + item["path"],
                        permission=permission,
                        order=200,
                    )
                )
        return entries

    def _launchers(self) -> list[tuple[ExternalApp, list[UnitRef]]]:
        """Apps with navigation entries and their units: read again at once after a change
        made in this process, and every few seconds for changes made by other workers."""
        now = time.monotonic()
        generation = self.apps.generation
        if (
            self._nav_cache is not None
            and self._nav_cache[1] == generation
            and now - self._nav_cache[0] < NAV_REFRESH_SECONDS
        ):
            return self._nav_cache[2]
        with Session(self.kernel.engine, expire_on_commit=False) as session:
            found = [
                (app, self.apps.units(session, app.id))  # type: ignore[arg-type]
                for app in session.exec(
                    select(ExternalApp).where(col(ExternalApp.disabled_at).is_(None))
                )
                if app.manifest.get("nav")
            ]
        self._nav_cache = (now, generation, found)
        return found

    def units_by_paths(self, paths: Sequence[str]) -> list[UnitRef]:
        if not paths:
            return []
        with Session(self.kernel.engine) as session:
            rows = session.exec(select(OrgUnit).where(col(OrgUnit.path).in_(list(paths))))
            return [unit_ref(u) for u in rows]
