"""The authentication middleware: every request's cookie or bearer token turned into an actor,
CSRF checked on changes that ride on a cookie, and the first-password rule.

The middleware attaches an :class:`~shequyun_sdk.identity.Actor` (or nothing, for anonymous
requests) to ``scope["shequyun.actor"]``. State-changing requests that ride on a cookie must
carry the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); bearer-token
requests are exempt because browsers never send those on their own. Who a credential stands
for is the :class:`~.auth.Authenticator`'s to say: from its memory on the event loop, or from
the database in a worker thread.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import anyio.to_thread
from shequyun_sdk.identity import Actor
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import error_response
from ..metrics import TOKEN_REJECTIONS
from . import audit
from .auth import ANON_COOKIE, SESSION_COOKIE, Authenticator, cookie_header, new_token
from .rejections import Sampler

__all__ = ["AuthMiddleware"]

CSRF_HEADER = b"x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Paths a user who must change their password may still reach.
PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/static/", "/healthz", "/readyz")
#: Endpoints that authenticate their caller themselves (OAuth clients with HTTP Basic, access
#: tokens of other kinds): no session, no CSRF, their Authorization header is theirs to read.
SELF_AUTHENTICATED_PATHS = frozenset({"/oauth/token", "/oauth/userinfo"})
#: Where no anonymous visitor fills a form (the API, probes, assets); everywhere else one may
#: (login), so an anonymous visitor there gets a CSRF token of their own.
NOT_PORTAL_PAGES = ("/api/", "/static/", "/healthz", "/readyz")


def _cookies(raw: str) -> dict[str, str]:
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
        for_actors: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> None:
        """``for_actors`` wraps ``app`` for the requests that come with an actor (the
        app-call audit): an anonymous request, most of them, skips the layer."""
        self.app = app
        self.with_actor = app if for_actors is None else for_actors(app)
        self._authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.secure_cookies = secure_cookies
        self.rejections = Sampler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        if path in SELF_AUTHENTICATED_PATHS:
            scope["shequyun.actor"] = None
            scope["shequyun.csrf"] = None
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_cookie = headers.get(b"cookie")
        cookies = _cookies(raw_cookie.decode("latin-1")) if raw_cookie else {}
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        expected_csrf: str | None = None
        new_anon: str | None = None
        actor: Actor | None = None
        if authorization:
            auth = self._authenticator()
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
            auth = self._authenticator()
            session_cookie = cookies[SESSION_COOKIE]
            found = auth.cached_session(session_cookie)
            if found is None:
                found = await anyio.to_thread.run_sync(auth.from_session, session_cookie)
            if found is not None:
                actor, expected_csrf = found.actor, found.csrf_token
        if actor is None and not authorization and not path.startswith(NOT_PORTAL_PAGES):
            anon = cookies.get(ANON_COOKIE)
            if anon is None or len(anon) < 20:
                anon = new_anon = new_token()
            expected_csrf = self._authenticator().anonymous_csrf(anon)
        scope["shequyun.actor"] = actor
        scope["shequyun.csrf"] = expected_csrf

        # A session cookie carries authority, so every change riding on it needs the token.
        # Anonymous portal forms (login) need it too; anonymous API calls carry no authority.
        if (
            expected_csrf is not None
            and scope["method"] in UNSAFE_METHODS
            and (actor is not None or not path.startswith("/api/"))
        ):
            receive, presented = await self._presented_csrf(scope, receive, headers)
            if presented is None or not hmac.compare_digest(presented, expected_csrf):
                response = error_response(
                    scope, 403, "csrf_failed", "页面已过期或来源不明（CSRF 校验失败），请刷新后重试"
                )
                await response(scope, receive, send)
                return

        if (
            actor is not None
            and actor.must_change_password
            and not path.startswith(PASSWORD_CHANGE_PATHS)
        ):
            if path.startswith("/api/"):
                response = error_response(
                    scope, 403, "password_change_required", "首次登录请先修改密码"
                )
            else:
                response = RedirectResponse("/account/password", status_code=303)
            await response(scope, receive, send)
            return

        if new_anon is None:
            await (self.app if actor is None else self.with_actor)(scope, receive, send)
            return

        cookie = cookie_header(ANON_COOKIE, new_anon, secure=self.secure_cookies)

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


def _single_message(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
