"""Turning an app's access token into an actor the kernel's scope filter understands."""

from __future__ import annotations

from datetime import UTC, datetime

from shequyun_sdk.identity import Actor
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..identity.auth import Authenticator, unit_ref
from ..identity.models import Grant, OrgUnit, User
from .models import AppUnit, ExternalApp, OAuthToken, aware
from .service import AppService, hash_secret

__all__ = ["AccessToken", "resolve_access_token"]


class AccessToken:
    """A valid access token: the app, and the actor it stands for."""

    def __init__(self, app: ExternalApp, row: OAuthToken, actor: Actor) -> None:
        self.app = app
        self.row = row
        self.actor = actor


def resolve_access_token(
    engine: Engine, apps: AppService, authenticator: Authenticator, token: str
) -> AccessToken | None:
    """The token's actor: a person through the app (their grant narrowed to the scopes the
    token was granted and to the app's units) or the app itself on one of its units. None
    when the token, the app, the grant or the unit no longer stands."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(
            select(OAuthToken, ExternalApp)
            .join(ExternalApp, col(ExternalApp.id) == col(OAuthToken.app_id))
            .where(OAuthToken.access_hash == hash_secret(token))
        ).first()
        if found is None:
            return None
        row, app = found
        if row.revoked_at is not None or aware(row.expires_at) <= now or app.disabled_at:
            return None
        assert app.id is not None
        enabled = apps.units(session, app.id)
        if row.user_id is not None:
            person = session.exec(
                select(User, Grant, OrgUnit)
                .join(Grant, col(Grant.user_id) == col(User.id))
                .join(OrgUnit, col(OrgUnit.id) == col(Grant.unit_id))
                .where(User.id == row.user_id, Grant.id == row.grant_id)
                .where(col(Grant.revoked_at).is_(None), col(User.is_active).is_(True))
            ).first()
            if person is None:
                return None
            user, grant, unit = person
            person_actor = authenticator.actor_for(user, grant, unit, "token")
            actor = apps.person_actor(app, person_actor, enabled, row.scope.split())
            return AccessToken(app, row, actor)
        still_enabled = session.exec(
            select(OrgUnit)
            .join(AppUnit, col(AppUnit.unit_id) == col(OrgUnit.id))
            .where(AppUnit.app_id == app.id, AppUnit.unit_id == row.unit_id)
        ).first()
        if still_enabled is None:
            return None
        actor = apps.app_actor(app, unit_ref(still_enabled), row.scope.split())
        return AccessToken(app, row, actor)
