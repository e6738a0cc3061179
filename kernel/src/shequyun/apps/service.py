"""Registered external apps: registration from a manifest, units, secrets, and the app actor.

Every rule about apps lives here; the admin pages and the API only translate. An app acts
through the kernel's ordinary scope filter as an :class:`~shequyun_sdk.identity.Actor` whose
unit is one of the units where it is enabled and whose permissions are its declared scopes,
so an app enabled for 徐汇区 cannot reach 浦东新区 by construction, wherever it calls.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk import Conflict, Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import event
from sqlmodel import Session, col, select

from ..identity import actors, audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit, User
from ..identity.permissions import PermissionRegistry
from ..residents.crypto import FieldCipher
from .manifest import OIDC_SCOPES, validate_manifest
from .models import AppUnit, ExternalApp, aware

__all__ = [
    "MANAGE",
    "AppService",
    "Registered",
    "hash_secret",
]

MANAGE = "apps.manage"
CLIENT_SECRET_PREFIX = "sqcs_"
#: While a webhook secret rotates, the old one keeps signing (a second signature) this long.
WEBHOOK_ROTATION_OVERLAP = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Registered:
    """A new app and the secrets shown once: the client secret and the webhook secret."""

    app: ExternalApp
    client_secret: str
    webhook_secret: str | None


class AppService:
    """The use cases of external apps."""

    def __init__(self, registry: PermissionRegistry, cipher: FieldCipher) -> None:
        self.registry = registry
        self.cipher = cipher
        #: Bumped when a change to an app (manifest, units, disabled) commits in this process,
        #: so what is kept from the table (the navigation entries) is read again at once.
        self.generation = 0

    def _changed(self, session: Session) -> None:
        """Count a change once ``session`` commits (not before: a reader in between would
        keep the old rows under the new generation)."""

        def bump(_session: Session) -> None:
            self.generation += 1

        event.listen(session, "after_commit", bump, once=True)

    # -- registration ---------------------------------------------------------------------

    def register(self, session: Session, actor: Actor | None, manifest: Any) -> Registered:
        """Register an app from its manifest; the actor must manage apps at every unit named."""
        manifest = validate_manifest(manifest)
        self._require(actor)
        assert actor is not None
        if session.exec(select(ExternalApp).where(ExternalApp.slug == manifest["slug"])).first():
            raise Conflict(f"已有标识为 {manifest['slug']} 的应用", field="slug")
        self._check_scopes(manifest)
        units = self._units(session, actor, manifest.get("units", []))
        home = units[0] if units else session.get(OrgUnit, actor.unit.id)  # type: ignore[union-attr]
        assert home is not None and home.id is not None
        user = User(
            username=f"app.{manifest['slug']}"[:64],
            display_name=f"应用·{manifest['name']}"[:80],
            home_unit_id=home.id,
            password_hash=None,
            must_change_password=False,
        )
        session.add(user)
        session.flush()
        assert user.id is not None
        client_secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        webhook_secret = new_webhook_secret() if manifest.get("webhook") else None
        app = ExternalApp(
            slug=manifest["slug"],
            name=manifest["name"],
            manifest=manifest,
            client_id=manifest["slug"],
            secret_hash=hash_secret(client_secret),
            secret_prefix=client_secret[:12],
            user_id=user.id,
            webhook_secret=self.cipher.encrypt(webhook_secret) if webhook_secret else None,
            created_by=actor.user_id,
        )
        session.add(app)
        session.flush()
        self._set_units(session, app, units)
        self._changed(session)
        audit.record(
            session,
            "app.registered",
            actor=actor,
            target_type="app",
            target_id=app.id,
            detail={"slug": app.slug, "units": [u.code for u in units]},
        )
        return Registered(app, client_secret, webhook_secret)

    def update_manifest(
        self, session: Session, actor: Actor | None, app_id: int, manifest: Any
    ) -> ExternalApp:
        """Replace the manifest (same slug); units follow the manifest's ``units``."""
        manifest = validate_manifest(manifest)
        app = self.get(session, actor, app_id)
        if manifest["slug"] != app.slug:
            raise ValidationFailed("应用标识不可更改", field="slug")
        self._check_scopes(manifest)
        units = self._units(session, actor, manifest.get("units", []))
        app.manifest = manifest
        app.name = manifest["name"]
        if manifest.get("webhook") and app.webhook_secret is None:
            app.webhook_secret = self.cipher.encrypt(new_webhook_secret())
        app.version += 1
        session.add(app)
        self._set_units(session, app, units)
        self._changed(session)
        audit.record(
            session, "app.updated", actor=actor, target_type="app", target_id=app.id, detail={}
        )
        return app

    def set_units(
        self, session: Session, actor: Actor | None, app_id: int, codes: Sequence[str]
    ) -> ExternalApp:
        """Enable the app exactly at the units ``codes`` (and below)."""
        app = self.get(session, actor, app_id)
        units = self._units(session, actor, list(dict.fromkeys(codes)))
        app.manifest = {**app.manifest, "units": [u.code for u in units]}
        app.version += 1
        session.add(app)
        self._set_units(session, app, units)
        self._changed(session)
        audit.record(
            session,
            "app.units_changed",
            actor=actor,
            target_type="app",
            target_id=app.id,
            detail={"units": [u.code for u in units]},
        )
        return app

    def rotate_client_secret(self, session: Session, actor: Actor | None, app_id: int) -> str:
        """A new client secret, shown once; the old one stops working at once."""
        app = self.get(session, actor, app_id)
        secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        app.secret_hash = hash_secret(secret)
        app.secret_prefix = secret[:12]
        app.version += 1
        session.add(app)
        audit.record(
            session, "app.secret_rotated", actor=actor, target_type="app", target_id=app.id
        )
        return secret

    def rotate_webhook_secret(self, session: Session, actor: Actor | None, app_id: int) -> str:
        """A new webhook secret, shown once; for a day both sign every webhook."""
        app = self.get(session, actor, app_id)
        secret = new_webhook_secret()
        app.webhook_previous_secret = app.webhook_secret
        app.webhook_previous_until = utcnow() + WEBHOOK_ROTATION_OVERLAP
        app.webhook_secret = self.cipher.encrypt(secret)
        app.version += 1
        session.add(app)
        audit.record(
            session, "app.webhook_secret_rotated", actor=actor, target_type="app", target_id=app.id
        )
        return secret

    def set_disabled(
        self, session: Session, actor: Actor | None, app_id: int, disabled: bool
    ) -> ExternalApp:
        """Disable (every token stops working, nothing is sent) or re-enable an app."""
        app = self.get(session, actor, app_id)
        app.disabled_at = utcnow() if disabled else None
        app.version += 1
        session.add(app)
        self._changed(session)
        audit.record(
            session,
            "app.disabled" if disabled else "app.enabled",
            actor=actor,
            target_type="app",
            target_id=app.id,
        )
        return app

    # -- reading --------------------------------------------------------------------------

    def listing(self, session: Session, actor: Actor | None) -> list[ExternalApp]:
        self._require(actor)
        return list(session.exec(select(ExternalApp).order_by(col(ExternalApp.slug))))

    def get(self, session: Session, actor: Actor | None, app_id: int) -> ExternalApp:
        self._require(actor)
        app = session.get(ExternalApp, app_id)
        if app is None:
            raise NotFound("找不到该应用", field="app_id")
        return app

    def units(self, session: Session, app_id: int) -> list[UnitRef]:
        """The units where the app is enabled."""
        rows = session.exec(
            select(OrgUnit)
            .join(AppUnit, col(AppUnit.unit_id) == col(OrgUnit.id))
            .where(AppUnit.app_id == app_id)
            .order_by(col(OrgUnit.path))
        )
        return [unit_ref(u) for u in rows]

    def webhook_secrets(self, app: ExternalApp, now: datetime | None = None) -> list[str]:
        """The secrets that sign the app's webhooks now: the current one, and the previous one
        while a rotation is under way."""
        found = [self.cipher.decrypt(app.webhook_secret)] if app.webhook_secret else []
        until = app.webhook_previous_until
        previous = app.webhook_previous_secret
        if previous and until is not None and aware(until) > (now or utcnow()):
            found.append(self.cipher.decrypt(previous))
        return found

    # -- the app as an actor --------------------------------------------------------------

    def scopes_of(self, app: ExternalApp) -> frozenset[str]:
        """The app's declared scopes that name a permission of an active plugin."""
        declared = set(app.manifest.get("scopes", []))
        return frozenset(p for p in declared if p in self.registry.permissions)

    def app_actor(self, app: ExternalApp, unit: UnitRef, scopes: Iterable[str]) -> Actor:
        """The app acting on its own (client credentials) at one of its units."""
        return actors.issue(
            Actor(
                user_id=app.user_id,
                username=f"app.{app.slug}",
                display_name=app.name,
                grant_id=None,
                role="apps.app",
                unit=unit,
                permissions=frozenset(scopes) & self.scopes_of(app),
                via="app",
            )
        )

    def person_actor(
        self, app: ExternalApp, person: Actor, enabled: Sequence[UnitRef], scopes: Iterable[str]
    ) -> Actor:
        """A person acting through the app: their grant, narrowed to the scopes their token
        was granted (of the app's declared ones) and to the part of their grant's subtree
        where the app is enabled (no unit: nothing). A sign-in that asked only for ``openid
        profile`` reads no record, however much the person and the app may."""
        unit = effective_unit(person.unit, enabled)
        return actors.issue(
            dataclasses.replace(
                person,
                unit=unit,
                permissions=person.permissions & frozenset(scopes) & self.scopes_of(app),
                via=f"app:{app.slug}",
                must_change_password=False,
            )
        )

    # -- helpers --------------------------------------------------------------------------

    def _require(self, actor: Actor | None) -> None:
        if actor is None or not actor.has(MANAGE):
            raise Forbidden("您没有管理外部应用的权限", code="forbidden")

    def _check_scopes(self, manifest: dict[str, Any]) -> None:
        for index, name in enumerate(manifest.get("scopes", [])):
            if name not in self.registry.permissions and name not in OIDC_SCOPES:
                raise ValidationFailed(f"未知的权限范围 {name}", field=f"scopes.{index}")
        for index, entry in enumerate(manifest.get("nav", [])):
            permission = entry.get("permission")
            if permission and permission not in self.registry.permissions:
                raise ValidationFailed(f"未知的权限 {permission}", field=f"nav.{index}.permission")

    def _units(self, session: Session, actor: Actor | None, codes: list[str]) -> list[OrgUnit]:
        found: list[OrgUnit] = []
        for index, code in enumerate(codes):
            unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
            if unit is None or not scope.can(actor, MANAGE, unit_ref(unit)):
                raise ValidationFailed(f"找不到单位 {code}", field=f"units.{index}")
            found.append(unit)
        return found

    def _set_units(self, session: Session, app: ExternalApp, units: list[OrgUnit]) -> None:
        assert app.id is not None
        for row in session.exec(select(AppUnit).where(AppUnit.app_id == app.id)):
            session.delete(row)
        session.flush()
        for unit in units:
            assert unit.id is not None
            session.add(AppUnit(app_id=app.id, unit_id=unit.id, unit_path=unit.path))
        session.flush()


def effective_unit(unit: UnitRef | None, enabled: Sequence[UnitRef]) -> UnitRef | None:
    """Where a person with a grant on ``unit`` may act through an app enabled at ``enabled``:
    their own unit when it lies inside an enabled unit; else the one enabled unit inside their
    subtree (a district overseeing a street's app); else nowhere."""
    if unit is None:
        return None
    if any(e.contains(unit) for e in enabled):
        return unit
    inside = [e for e in enabled if unit.contains(e)]
    return inside[0] if len(inside) == 1 else None


def within(paths: Iterable[str], unit_path: str | None) -> bool:
    """Whether a record at ``unit_path`` lies inside one of ``paths`` (None: city-wide record,
    visible only to an app enabled for the whole city)."""
    if unit_path is None:
        return any(p.count("/") <= 2 for p in paths)
    return any(unit_path.startswith(p) for p in paths)


def compare_secret(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
