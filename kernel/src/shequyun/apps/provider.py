"""HTTP endpoints of the OpenID Connect provider: discovery, JWKS, authorize, token, userinfo,
RP-initiated logout. They translate HTTP to :class:`~.oauth.OAuthServer` calls and back.

The sign-in is the portal's own login page (throttles, lockout, forced password change and
withdrawn grants all apply): an unauthenticated ``/oauth/authorize`` goes to ``/login`` and
comes back.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.rpinitiated import EndSessionEndpoint
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity import audit
from ..identity.auth import SESSION_COOKIE, cookie_header, request_actor
from .oauth import FormRequest, OAuthServer, PersonLogin
from .service import effective_unit

__all__ = ["ROUTES", "LogoutEndpoint"]


def _openness(request: Request) -> Any:
    return request.app.state.kernel.openness


def issuer_of(request: Request) -> str:
    """The issuer as this request reached the platform: ``https://host`` behind TLS."""
    kernel = request.app.state.kernel
    scheme = "https" if kernel.settings.https else request.url.scheme
    return f"{scheme}://{request.url.netloc}"


async def _oauth_request(request: Request) -> FormRequest:
    form: dict[str, str] = {}
    if request.method == "POST":
        data = await request.form()
        form = {k: str(v) for k, v in data.items()}
    built = FormRequest(
        request.method,
        str(request.url),
        dict(request.query_params),
        form,
        request.headers,
    )
    built.issuer = issuer_of(request)
    return built


def _respond(result: tuple[int, Any, Any]) -> Response:
    status, body, headers = result
    headers = dict(headers or [])
    if status in (301, 302, 303) and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=302)
    headers.setdefault("Cache-Control", "no-store")
    return JSONResponse(body, status_code=status, headers=headers)


async def discovery(request: Request) -> Response:
    issuer = issuer_of(request)
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "userinfo_endpoint": f"{issuer}/oauth/userinfo",
            "jwks_uri": f"{issuer}/oauth/jwks",
            "end_session_endpoint": f"{issuer}/oauth/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "grants", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "name",
                "preferred_username",
                "grants",
            ],
        }
    )


async def jwks(request: Request) -> Response:
    keys = await run_in_threadpool(_openness(request).keys.jwks)
    return JSONResponse(keys, headers={"Cache-Control": "public, max-age=300"})


async def authorize(request: Request) -> Response:
    openness = _openness(request)
    server: OAuthServer = openness.server
    actor = request_actor(request)
    if actor is None or actor.user_id is None:  # only a person signs in (no plugin actor)
        back = request.url.path + ("?" + request.url.query if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(back, safe='')}", status_code=303)
    oauth_request = await _oauth_request(request)
    person = PersonLogin(actor.user_id, actor.grant_id, int(time.time()))

    def run() -> tuple[int, Any, Any] | str:
        try:
            grant = server.get_consent_grant(request=oauth_request, end_user=person)
        except OAuth2Error as error:
            return str(error.description or error.error)
        client = grant.client
        units = openness.units_by_paths(client.unit_paths)
        if effective_unit(actor.unit, units) is None:
            return "该应用未在您所在的单位启用"
        result: tuple[int, Any, Any] = server.create_authorization_response(
            request=oauth_request, grant_user=person, grant=grant
        )
        return result

    outcome = await run_in_threadpool(run)
    if isinstance(outcome, str):
        return _error_page(request, outcome)
    return _respond(outcome)


async def token(request: Request) -> Response:
    server: OAuthServer = _openness(request).server
    oauth_request = await _oauth_request(request)
    result = await run_in_threadpool(server.create_token_response, oauth_request)
    return _respond(result)


async def userinfo(request: Request) -> Response:
    openness = _openness(request)
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    found = None
    if scheme.lower() == "bearer" and credential:
        found = await run_in_threadpool(openness.access_token, credential.strip())
    if found is None or found.row.user_id is None:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    info = await run_in_threadpool(openness.server.user_info, found.row.user_id, found.row.scope)
    return JSONResponse(info)


class LogoutEndpoint(EndSessionEndpoint):  # type: ignore[misc]
    """authlib's RP-initiated logout: the ID token hint is checked against our keys."""

    def get_server_jwks(self) -> dict[str, Any]:
        jwks: dict[str, Any] = self.server.keys.jwks()
        return jwks

    def end_session(self, end_session_request: Any) -> None:
        end_session_request.request.ended = True


async def logout(request: Request) -> Response:
    """End the portal session the app's user holds, then go back to the app if it asked and
    the address is registered (``post_logout_redirect_uris``)."""
    kernel = request.app.state.kernel
    server: OAuthServer = _openness(request).server
    oauth_request = await _oauth_request(request)
    actor = request_actor(request)

    def run() -> tuple[str | None, str | None, bool]:
        try:
            validated = server.validate_endpoint_request("end_session", oauth_request)
        except OAuth2Error as error:
            return None, str(error.description or error.error), False
        claims = validated.id_token_claims or {}
        if actor is None or claims.get("sub") != str(actor.user_id):
            # Without a hint naming the signed-in person, ending the session would let any
            # page log a cadre out: leave the session alone.
            return validated.redirect_uri, None, False
        server.create_endpoint_response("end_session", validated)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            kernel.authenticator.end_session(cookie)
        audit.record_now(
            kernel.engine,
            "logout",
            actor=actor,
            detail={"via": "oidc", "client_id": validated.client.get_client_id()}
            if validated.client
            else {"via": "oidc"},
        )
        return validated.redirect_uri, None, True

    redirect, problem, ended = await run_in_threadpool(run)
    if problem is not None:
        return _error_page(request, problem)
    response: Response = RedirectResponse(redirect or "/login", status_code=302)
    if ended:
        response.raw_headers.append(
            cookie_header(SESSION_COOKIE, "", secure=kernel.settings.https, max_age=0)
        )
    return response


def _error_page(request: Request, message: str) -> Response:
    platform = request.app.state.platform
    response: Response = platform.render(
        request, "apps/oauth_error.html", {"message": message}, status_code=400
    )
    return response


ROUTES: list[BaseRoute] = [
    Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
    Route("/oauth/jwks", jwks, methods=["GET"]),
    Route("/oauth/authorize", authorize, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/oauth/logout", logout, methods=["GET"]),
]
