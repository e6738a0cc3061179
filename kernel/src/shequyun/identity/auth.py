"""Authentication of every request: portal session cookie or API bearer token, plus CSRF.

The middleware attaches an :class:`~shequyun_sdk.identity.Actor` (or nothing, for anonymous
requests) to ``scope["shequyun.actor"]``. State-changing requests that ride on a cookie must
carry the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); bearer-token
requests are exempt because browsers never send those on their own.

A credential found valid is remembered for a few seconds (:mod:`.credentials`, which also says
how revocation still takes effect at once), so the middleware answers most requests of a busy
client without a query or a hop to a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import error_response
from ..metrics import TOKEN_REJECTIONS
from . import actors, audit, credentials
from .models import Grant, OrgUnit, User, WebSession
from .permissions import PERSONAL_DATA, PermissionRegistry
from .rejections import Sampler
from .token_uses import TokenUses, token_lookup

__all__ = [
    "ANON_COOKIE",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "Authenticator",
    "hash_token",
    "new_token",
    "unit_ref",
]

SESSION_COOKIE = "shequyun_session"
ANON_COOKIE = "shequyun_anon"
CSRF_HEADER = b"x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "sqy_"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Paths a user who must change their password may still reach.
PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/static/", "/healthz", "/readyz")
LAST_USED_GRANULARITY = timedelta(minutes=1)
#: Endpoints that authenticate their caller themselves (OAuth clients with HTTP Basic, access
#: tokens of other kinds): no session, no CSRF, their Authorization header is theirs to read.
SELF_AUTHENTICATED_PATHS = frozenset({"/oauth/token", "/oauth/userinfo"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """A fresh random secret for a cookie or an API token."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.secret_key = secret_key.encode()
        self.session_lifetime = session_lifetime
        self.bearers: credentials.CredentialCache[Actor] = credentials.CredentialCache(
            cache_seconds
        )
        self.sessions: credentials.CredentialCache[Authenticated] = credentials.CredentialCache(
            cache_seconds
        )
        #: When tokens were last used, written in batches (see :class:`TokenUses`).
        self.token_uses = TokenUses(engine)
        #: Other kinds of bearer token, by prefix (the apps slice's OAuth access tokens).
        self.bearer_resolvers: dict[str, Callable[[str], Actor | None]] = {}
        credentials.watch()
        #: Follows the credential changes of other processes (started by the web app).
        self.epoch = credentials.EpochWatch(engine)

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
        """What ``cookie`` was found to stand for in the last few seconds, if anything."""
        return self.sessions.get(hash_token(cookie))

    def from_session(self, cookie: str) -> Authenticated | None:
        """Look the session cookie up in the database (and remember a valid one)."""
        now = utcnow()
        key = hash_token(cookie)
        found_under = credentials.generation.value
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
        self.sessions.put(key, found, found_under, expires_in)
        return found

    def cached_bearer(self, token: str) -> Actor | None:
        """Who ``token`` was found to stand for in the last few seconds, if anyone."""
        return self.bearers.get(hash_token(token))

    def from_bearer(self, token: str) -> Actor | None:
        """Look the API token up in the database (and remember a valid one)."""
        if not token.startswith(TOKEN_PREFIX):
            for prefix, resolve in self.bearer_resolvers.items():
                if token.startswith(prefix):
                    found_under = credentials.generation.value
                    resolved = resolve(token)
                    if resolved is not None:
                        self.bearers.put(hash_token(token), resolved, found_under, None)
                    return resolved
            return None
        now = utcnow()
        key = hash_token(token)
        found_under = credentials.generation.value
        with self.engine.connect() as connection:
            row = connection.execute(token_lookup(), {"key": key}).first()
        if row is None:
            return None
        expires_at = None if row.expires_at is None else _aware(row.expires_at)
        if expires_at is not None and expires_at <= now:
            return None
        if row.last_used_at is None or _aware(row.last_used_at) < now - LAST_USED_GRANULARITY:
            self.token_uses.note(row.token_id, now)
        unit = UnitRef(
            id=row.unit_id,
            code=row.unit_code,
            name=row.unit_name,
            level=row.unit_level,
            path=row.unit_path,
            closed=row.unit_closed_on is not None,
            parent_id=row.unit_parent_id,
        )
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
        self.bearers.put(key, actor, found_under, expires_in)
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
        self.sessions.forget(hash_token(cookie))
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is treated as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


class AuthMiddleware:
    """Authenticates each request and enforces CSRF and the first-password rule."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Callable[[], Authenticator],
        max_body_bytes: int,
        secure_cookies: bool,
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.secure_cookies = secure_cookies
        self.rejections = Sampler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in SELF_AUTHENTICATED_PATHS:
            scope["shequyun.actor"] = None
            scope["shequyun.csrf"] = None
            await self.app(scope, receive, send)
            return
        auth = self._authenticator()
        headers = dict(scope.get("headers") or [])
        cookies = _cookies(headers)
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        expected_csrf: str | None = None
        new_anon: str | None = None
        actor: Actor | None = None
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                await self._refuse_token(scope, receive, send, auth, "malformed")
                return
            credential = credential.strip()
            actor = auth.cached_bearer(credential)
            if actor is None:
                actor = await anyio.to_thread.run_sync(auth.from_bearer, credential)
            if actor is None:
                await self._refuse_token(scope, receive, send, auth, "invalid")
                return
        elif SESSION_COOKIE in cookies:
            session_cookie = cookies[SESSION_COOKIE]
            found = auth.cached_session(session_cookie)
            if found is None:
                found = await anyio.to_thread.run_sync(auth.from_session, session_cookie)
            if found is not None:
                actor, expected_csrf = found.actor, found.csrf_token
        if actor is None and not authorization and _is_portal_page(str(scope["path"])):
            anon = cookies.get(ANON_COOKIE)
            if anon is None or len(anon) < 20:
                anon = new_anon = new_token()
            expected_csrf = auth.anonymous_csrf(anon)
        scope["shequyun.actor"] = actor
        scope["shequyun.csrf"] = expected_csrf

        # A session cookie carries authority, so every change riding on it needs the token.
        # Anonymous portal forms (login) need it too; anonymous API calls carry no authority.
        needs_csrf = actor is not None or not str(scope["path"]).startswith("/api/")
        if scope["method"] in UNSAFE_METHODS and expected_csrf is not None and needs_csrf:
            receive, presented = await self._presented_csrf(scope, receive, headers)
            if presented is None or not hmac.compare_digest(presented, expected_csrf):
                response = error_response(
                    scope, 403, "csrf_failed", "页面已过期或来源不明（CSRF 校验失败），请刷新后重试"
                )
                await response(scope, receive, send)
                return

        if actor is not None and actor.must_change_password:
            path = str(scope["path"])
            if not path.startswith(PASSWORD_CHANGE_PATHS):
                if path.startswith("/api/"):
                    response = error_response(
                        scope, 403, "password_change_required", "首次登录请先修改密码"
                    )
                else:
                    response = RedirectResponse("/account/password", status_code=303)
                await response(scope, receive, send)
                return

        if new_anon is None:
            await self.app(scope, receive, send)
            return

        cookie = _cookie_header(ANON_COOKIE, new_anon, secure=self.secure_cookies)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), cookie]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _presented_csrf(
        self, scope: Scope, receive: Receive, headers: dict[bytes, bytes]
    ) -> tuple[Receive, str | None]:
        header = headers.get(CSRF_HEADER)
        if header:
            return receive, header.decode("latin-1")
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if not content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            return receive, None
        # Read the form once, then replay the same bytes to the endpoint.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                return receive, None
            chunks.append(body)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if content_type.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD)
            return replay, values[0] if values else None
        form_request = Request(scope, _single_message(body))
        form = await form_request.form()
        value = form.get(CSRF_FIELD)
        await form.close()
        return replay, value if isinstance(value, str) else None

    async def _refuse_token(
        self, scope: Scope, receive: Receive, send: Send, auth: Authenticator, why: str
    ) -> None:
        client = scope.get("client")
        address = client[0] if client else None
        TOKEN_REJECTIONS.labels(why).inc()
        repeated = self.rejections.sample(address)
        if repeated is not None:  # counted always, written once a minute per address
            await anyio.to_thread.run_sync(
                lambda: audit.record_now(
                    auth.engine,
                    "token.rejected",
                    outcome="denied",
                    detail={"reason": why, "path": scope.get("path"), "repeated": repeated},
                    client_ip=address,
                )
            )
        response = error_response(scope, 401, "invalid_token", "访问令牌无效、已过期或已被撤销")
        await response(scope, receive, send)


def _is_portal_page(path: str) -> bool:
    """Paths where an anonymous visitor may fill a form (login): not the API, probes or assets."""
    return not path.startswith(("/api/", "/static/", "/healthz", "/readyz"))


def _single_message(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None
) -> tuple[bytes, bytes]:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None
) -> tuple[bytes, bytes]:
    """A Set-Cookie header for the portal's cookies (HttpOnly, SameSite=Lax, Secure on HTTPS)."""
    return _cookie_header(name, value, secure=secure, max_age=max_age)


def request_actor(request: Request) -> Actor | None:
    actor: Any = request.scope.get("shequyun.actor")
    return actor  # type: ignore[no-any-return]
