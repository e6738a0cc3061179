"""Who a request's credential stands for: a portal session cookie or an API bearer token.

The :class:`Authenticator` turns either into an actor, and starts and ends sessions; the
middleware that calls it for every request is :mod:`.middleware`. A credential found valid is
remembered (:mod:`.credentials`) and forgotten as soon as anything it stands on changes in
any process (:mod:`.revocations`), so the middleware answers most requests, including a
committee token's first in hours, without a query or a hop to a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.requests import Request

from . import actors, credentials, revocations
from .models import Grant, OrgUnit, User, WebSession
from .permissions import PERSONAL_DATA, PermissionRegistry
from .token_uses import TokenLookup, TokenUses

__all__ = [
    "ANON_COOKIE",
    "SESSION_COOKIE",
    "Authenticated",
    "Authenticator",
    "cookie_header",
    "hash_token",
    "new_token",
    "unit_ref",
    "unit_ref_of_row",
]

SESSION_COOKIE = "shequyun_session"
ANON_COOKIE = "shequyun_anon"
TOKEN_PREFIX = "sqy_"
#: A token's last use is noted at most this often (seconds).
LAST_USED_GRANULARITY = timedelta(minutes=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """A fresh random secret for a cookie or an API token."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unit_ref_of_row(row: Any) -> UnitRef:
    """The unit of a plain row that carries its columns as ``unit_id``, ``unit_code``,
    ``unit_name``, ``unit_level``, ``unit_path``, ``unit_closed_on`` and ``unit_parent_id`` (a
    token's lookup, a submission's row): what :func:`unit_ref` makes of an ORM unit."""
    return UnitRef(
        id=row.unit_id,
        code=row.unit_code,
        name=row.unit_name,
        level=row.unit_level,
        path=row.unit_path,
        closed=row.unit_closed_on is not None,
        parent_id=row.unit_parent_id,
    )


def unit_ref(unit: OrgUnit) -> UnitRef:
    assert unit.id is not None
    return UnitRef(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        path=unit.path,
        closed=unit.closed_on is not None,
        parent_id=unit.parent_id,
    )


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    csrf_token: str | None  # None for bearer tokens: no CSRF check needed


class Authenticator:
    """Turns a cookie or a bearer token into an actor; creates and ends sessions."""

    def __init__(
        self,
        engine: Engine,
        registry: PermissionRegistry,
        secret_key: str,
        session_lifetime: timedelta = timedelta(hours=12),
        cache_seconds: float = credentials.AUTH_CACHE_SECONDS,
        cache_entries: int = credentials.MAX_ENTRIES,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.secret_key = secret_key.encode()
        self.session_lifetime = session_lifetime
        self.bearers: credentials.CredentialCache[Actor] = credentials.CredentialCache(
            cache_seconds, cache_entries
        )
        self.sessions: credentials.CredentialCache[Authenticated] = credentials.CredentialCache(
            cache_seconds, cache_entries
        )
        #: The permission registry's version the remembered actors were made under.
        self._registry_version = registry.version
        #: When tokens were last used, written in batches (see :class:`TokenUses`).
        self.token_uses = TokenUses(engine)
        self._token_lookup = TokenLookup(engine)
        #: Other kinds of bearer token, by prefix (the apps slice's OAuth access tokens).
        self.bearer_resolvers: dict[str, Callable[[str], Actor | None]] = {}
        revocations.watch()
        revocations.remember(self)
        #: Follows the credential changes of other processes (started by the web app), and
        #: writes the batched last uses of tokens.
        self.epoch = revocations.EpochWatch(engine, self, also=self.token_uses.flush_if_due)

    def forget_changes(self, changes: Iterable[revocations.Change]) -> None:
        """Forget the remembered credentials that ``changes`` touched (see
        :mod:`.revocations`)."""
        for kind, subject in changes:
            if kind == "token":
                self.bearers.forget(subject)
            elif kind == "session":
                self.sessions.forget(subject)
            elif kind == "user" and subject.isdigit():
                self.bearers.forget_user(int(subject))
                self.sessions.forget_user(int(subject))
            elif kind == "unit" and subject.isdigit():
                self.bearers.forget_unit(int(subject))
                self.sessions.forget_unit(int(subject))
            elif kind == "apps":
                self.bearers.forget_where(lambda entry: entry.value.via.startswith("app"))
            else:
                self.bearers.clear()
                self.sessions.clear()

    def _current(self) -> None:
        """Forget every remembered actor once a plugin's failure changed the roles' permissions."""
        version = self.registry.version
        if version != self._registry_version:
            self._registry_version = version
            self.bearers.clear()
            self.sessions.clear()

    def actor_for(
        self,
        user: User,
        grant: Grant | None,
        unit: OrgUnit | None,
        via: str,
        *,
        must_change_password: bool | None = None,
    ) -> Actor:
        """The issued actor of ``user`` under ``grant`` (see :mod:`.actors`)."""
        assert user.id is not None
        active_grant = grant if grant is not None and grant.revoked_at is None else None
        return self._issue(
            user.id,
            user.username,
            user.display_name,
            user.personal_data_hold is not None,
            active_grant.id if active_grant else None,
            active_grant.role if active_grant else None,
            unit_ref(unit) if active_grant and unit else None,
            via,
            user.must_change_password if must_change_password is None else must_change_password,
        )

    def _issue(
        self,
        user_id: int,
        username: str,
        display_name: str,
        held: bool,
        grant_id: int | None,
        role: str | None,
        unit: UnitRef | None,
        via: str,
        must_change_password: bool,
    ) -> Actor:
        """The one place an authenticated person's actor is made: the role's permissions, less
        personal data while the account's holder is unconfirmed (``held``, see the model)."""
        permissions = self.registry.permissions_of(role) if role is not None else frozenset()
        if held:
            permissions = permissions - PERSONAL_DATA
        actor = Actor(
            user_id=user_id,
            username=username,
            display_name=display_name,
            grant_id=grant_id,
            role=role,
            unit=unit,
            permissions=permissions,
            via=via,
            must_change_password=must_change_password,
        )
        return actors.issue(actor)

    def cached_session(self, cookie: str) -> Authenticated | None:
        """What ``cookie`` was found to stand for, if it is remembered."""
        self._current()
        return self.sessions.get(hash_token(cookie))

    def from_session(self, cookie: str) -> Authenticated | None:
        """Look the session cookie up in the database (and remember a valid one)."""
        now = utcnow()
        key = hash_token(cookie)
        found_under = self.sessions.forgettings
        with Session(self.engine) as session:
            row = session.exec(
                select(WebSession, User, Grant, OrgUnit)
                .join(User, User.id == WebSession.user_id)  # type: ignore[arg-type]
                .outerjoin(Grant, Grant.id == WebSession.grant_id)  # type: ignore[arg-type]
                .outerjoin(OrgUnit, OrgUnit.id == Grant.unit_id)  # type: ignore[arg-type]
                .where(WebSession.token_hash == key)
                .where(WebSession.expires_at > now)
                .where(User.is_active == True)  # noqa: E712 - SQL comparison
            ).first()
        if row is None:
            return None
        web_session, user, grant, unit = row
        found = Authenticated(self.actor_for(user, grant, unit, "session"), web_session.csrf_token)
        expires_in = (_aware(web_session.expires_at) - now).total_seconds()
        self.sessions.put(key, found, found_under, expires_in, **_whose(found.actor))
        return found

    def cached_bearer(self, token: str) -> Actor | None:
        """Who ``token`` was found to stand for, if it is remembered (its use is noted)."""
        self._current()
        entry = self.bearers.entry(hash_token(token))
        if entry is None:
            return None
        if entry.token_id is not None:
            moment = self.bearers.clock()
            if moment - entry.noted >= LAST_USED_GRANULARITY.total_seconds():
                entry.noted = moment
                self.token_uses.note(entry.token_id, utcnow())
        return entry.value

    def from_bearer(self, token: str) -> Actor | None:
        """Look the API token up in the database (and remember a valid one)."""
        key = hash_token(token)
        if not token.startswith(TOKEN_PREFIX):
            for prefix, resolve in self.bearer_resolvers.items():
                if token.startswith(prefix):
                    found_under = self.bearers.forgettings
                    resolved = resolve(token)
                    if resolved is not None:
                        self.bearers.put(key, resolved, found_under, None, **_whose(resolved))
                    return resolved
            return None
        now = utcnow()
        found_under = self.bearers.forgettings
        row = self._token_lookup.find(key)
        if row is None:
            return None
        expires_at = None if row.expires_at is None else _aware(row.expires_at)
        if expires_at is not None and expires_at <= now:
            return None
        if row.last_used_at is None or _aware(row.last_used_at) < now - LAST_USED_GRANULARITY:
            self.token_uses.note(row.token_id, now)
            self.token_uses.flush_if_due()
        unit = unit_ref_of_row(row)
        # Tokens are for programs: the first-password rule applies to people at the portal.
        actor = self._issue(
            row.user_id,
            row.username,
            row.display_name,
            row.personal_data_hold is not None,
            row.grant_id,
            row.role,
            unit,
            "token",
            False,
        )
        expires_in = None if expires_at is None else (expires_at - now).total_seconds()
        self.bearers.put(
            key, actor, found_under, expires_in, token_id=row.token_id, **_whose(actor)
        )
        return actor

    def start_session(
        self, session: Session, user: User, grant_id: int | None, client_ip: str | None
    ) -> str:
        """Create a session row in ``session``; return the cookie value."""
        assert user.id is not None
        cookie = new_token()
        session.add(
            WebSession(
                token_hash=hash_token(cookie),
                user_id=user.id,
                grant_id=grant_id,
                csrf_token=new_token(),
                expires_at=utcnow() + self.session_lifetime,
                client_ip=client_ip,
            )
        )
        return cookie

    def end_session(self, cookie: str) -> None:
        """Log out: the session's row goes (and with its commit, every process's memory of
        it, and only of it)."""
        with Session(self.engine) as session:
            row = session.exec(
                select(WebSession).where(WebSession.token_hash == hash_token(cookie))
            ).first()
            if row is not None:
                session.delete(row)
                session.commit()

    def anonymous_csrf(self, anon_cookie: str) -> str:
        """The CSRF token for a visitor who has not logged in yet (the login form)."""
        return hmac.new(self.secret_key, anon_cookie.encode(), hashlib.sha256).hexdigest()


def _whose(actor: Actor) -> dict[str, Any]:
    """Whose credential an actor's is, for the memory to forget it by."""
    return {"user_id": actor.user_id, "unit_path": actor.unit.path if actor.unit else None}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None
) -> tuple[bytes, bytes]:
    """A Set-Cookie header for the portal's cookies (HttpOnly, SameSite=Lax, Secure on HTTPS)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def request_actor(request: Request) -> Actor | None:
    actor: Any = request.scope.get("shequyun.actor")
    return actor  # type: ignore[no-any-return]
