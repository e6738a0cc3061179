"""The OAuth 2.0 / OpenID Connect provider, built on authlib's authorization server.

Grants: authorization code with PKCE required (S256), refresh tokens (rotated on use), and
client credentials for an app's own machine-to-machine calls. ID tokens are RS256-signed with
the key store's current key and carry the person's name and grants (role, unit code, level).
Every client is a registered app, so there is no consent screen. Tokens are stored hashed.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..identity.models import Grant, OrgUnit, User
from .keys import KeyStore
from .manifest import OIDC_SCOPES
from .models import AppUnit, ExternalApp, OAuthCode, OAuthToken, aware
from .service import AppService, compare_secret, hash_secret

__all__ = ["ACCESS_PREFIX", "FormRequest", "OAuthServer", "PersonLogin"]

ACCESS_PREFIX = "sqa_"
REFRESH_PREFIX = "sqr_"
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=5)
ID_TOKEN_LIFETIME = 3600


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PersonLogin:
    """The signed-in person an authorization is for: their account and the grant in use."""

    user_id: int
    grant_id: int | None
    auth_time: int


class AppClient(ClientMixin):  # type: ignore[misc]
    """An :class:`ExternalApp` as authlib's client."""

    def __init__(self, app: ExternalApp, units: list[str]) -> None:
        self.app = app
        self.unit_paths = units

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.app.manifest.get("redirect_uris") or []
        return uris[0] if uris else None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(OIDC_SCOPES) | set(self.app.manifest.get("scopes", []))
        if not scope:
            return " ".join(sorted(s for s in allowed if s not in OIDC_SCOPES))
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.app.manifest.get("redirect_uris") or [])

    def check_client_secret(self, client_secret: str) -> bool:
        return compare_secret(client_secret, self.app.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials":
            return bool(self.unit_paths)
        return grant_type in ("authorization_code", "refresh_token")

    @property
    def client_metadata(self) -> dict[str, Any]:
        """What authlib's RP-initiated logout reads (``post_logout_redirect_uris``)."""
        return {"post_logout_redirect_uris": self.app.manifest.get("post_logout_redirect_uris", [])}


@dataclass
class CodeRecord:
    row: OAuthCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


class TokenRecord(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthToken) -> None:
        self.row = row

    def check_client(self, client: AppClient) -> bool:
        return self.row.app_id == client.app.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((aware(self.row.expires_at) - utcnow()).total_seconds())

    def is_expired(self) -> bool:
        until = self.row.refresh_expires_at
        return until is None or aware(until) <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """A Starlette request, already read, as authlib's request."""

    def __init__(
        self, method: str, url: str, query: dict[str, str], form: dict[str, str], headers: Any
    ) -> None:
        # The kernel decides whether the transport is secure (settings.https, the proxy), so
        # authlib's own check sees an https URL.
        parts = urlsplit(url)
        super().__init__(method, parts._replace(scheme="https").geturl(), headers=headers)
        self._query = query
        self._form = form
        #: The issuer as this request reached the platform (its scheme and host).
        self.issuer = ""
        self.unit_id: int | None = None
        self.payload = BasicOAuth2Payload({**query, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OAuthServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server bound to the kernel's tables."""

    def __init__(self, engine: Engine, apps: AppService, keys: KeyStore, issuer: str) -> None:
        super().__init__(scopes_supported=None)
        self.engine = engine
        self.apps = apps
        self.keys = keys
        self.issuer = issuer
        self.register_token_generator("default", self._generate_token)
        self.register_grant(AuthorizationCode, [RequiredPkce(required=True), IdTokens(self)])
        self.register_grant(RefreshToken)
        self.register_grant(ClientCredentials)

    # -- authlib's integration points -----------------------------------------------------

    def query_client(self, client_id: str) -> AppClient | None:
        with Session(self.engine) as session:
            app = session.exec(
                select(ExternalApp).where(ExternalApp.client_id == client_id)
            ).first()
            if app is None or app.disabled_at is not None:
                return None
            paths = list(session.exec(select(AppUnit.unit_path).where(AppUnit.app_id == app.id)))
            return AppClient(app, paths)

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        client: AppClient = request.client
        now = utcnow()
        person: PersonLogin | None = request.user if isinstance(request.user, PersonLogin) else None
        refresh = token.get("refresh_token")
        row = OAuthToken(
            access_hash=hash_secret(token["access_token"]),
            refresh_hash=hash_secret(refresh) if refresh else None,
            app_id=client.app.id,  # type: ignore[arg-type]
            user_id=person.user_id if person else None,
            grant_id=person.grant_id if person else None,
            unit_id=getattr(request, "unit_id", None),
            scope=token.get("scope", ""),
            issued_at=now,
            expires_at=now + ACCESS_LIFETIME,
            refresh_expires_at=now + REFRESH_LIFETIME if refresh else None,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def create_oauth2_request(self, request: Any) -> FormRequest:
        assert isinstance(request, FormRequest)
        return request

    # -- tokens ---------------------------------------------------------------------------

    def _generate_token(
        self,
        grant_type: str,
        client: AppClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        if grant_type == "client_credentials" or scope:
            # Only what the app declared; an app's own token without a scope gets them all.
            scope = client.get_allowed_scope(scope or "")
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": ACCESS_PREFIX + secrets.token_urlsafe(32),
            "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            "scope": scope or "",
        }
        if include_refresh_token and user is not None:
            token["refresh_token"] = REFRESH_PREFIX + secrets.token_urlsafe(32)
        return token

    def user_info(self, user_id: int, scope: str) -> dict[str, Any]:
        """The claims about a person: name always, grants with the ``grants`` scope."""
        with Session(self.engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            info: dict[str, Any] = {"sub": str(user.id)}
            scopes = scope.split()
            if "profile" in scopes or "grants" in scopes:
                info["name"] = user.display_name
                info["preferred_username"] = user.username
            if "grants" in scopes:
                rows = session.exec(
                    select(Grant, OrgUnit)
                    .join(OrgUnit, col(OrgUnit.id) == col(Grant.unit_id))
                    .where(Grant.user_id == user.id, col(Grant.revoked_at).is_(None))
                    .order_by(col(Grant.id))
                )
                roles = self.apps.registry.roles
                info["grants"] = [
                    {
                        "role": grant.role,
                        "role_name": roles[grant.role].title if grant.role in roles else grant.role,
                        "unit_code": unit.code,
                        "unit_name": unit.name,
                        "level": unit.level,
                    }
                    for grant, unit in rows
                ]
            return info

    def signing_key(self) -> RSAKey:
        return self.keys.signing_key()


class IdTokens(OpenIDCode):  # type: ignore[misc]
    def __init__(self, server: OAuthServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        with Session(self.server.engine) as session:
            return (
                session.exec(select(OAuthCode.id).where(OAuthCode.nonce == nonce)).first()
                is not None
            )

    def resolve_client_private_key(self, client: AppClient) -> RSAKey:
        return self.server.signing_key()

    def get_client_algorithm(self, client: AppClient) -> str:
        return "RS256"

    def get_encode_header(self, client: AppClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(self.server.signing_key().kid), "typ": "JWT"}

    def get_compatible_claims(self, request: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_compatible_claims(request)
        claims["iss"] = getattr(request, "issuer", None) or self.server.issuer
        return claims

    def get_client_claims(self, client: AppClient) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.server.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user: PersonLogin, scope: str) -> UserInfo:
        return UserInfo(self.server.user_info(user.user_id, scope))


class RequiredPkce(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, confidential ones too, and only S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCode(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    @property
    def engine(self) -> Engine:
        return self.server.engine  # type: ignore[no-any-return]

    def save_authorization_code(self, code: str, request: FormRequest) -> None:
        person: PersonLogin = request.user
        data = request.payload.data
        with Session(self.engine) as session:
            session.add(
                OAuthCode(
                    code_hash=hash_secret(code),
                    app_id=request.client.app.id,
                    user_id=person.user_id,
                    grant_id=person.grant_id,
                    redirect_uri=data.get("redirect_uri") or "",
                    scope=request.scope or "",
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge") or "",
                    code_challenge_method=data.get("code_challenge_method") or "plain",
                    auth_time=person.auth_time,
                    expires_at=utcnow() + CODE_LIFETIME,
                )
            )
            session.commit()

    def query_authorization_code(self, code: str, client: AppClient) -> CodeRecord | None:
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.exec(
                select(OAuthCode).where(OAuthCode.code_hash == hash_secret(code))
            ).first()
            if row is None or row.app_id != client.app.id or aware(row.expires_at) <= utcnow():
                return None
            return CodeRecord(row)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        with Session(self.engine) as session:
            row = session.get(OAuthCode, authorization_code.row.id)
            if row is not None:
                session.delete(row)
                session.commit()

    def authenticate_user(self, authorization_code: CodeRecord) -> PersonLogin | None:
        row = authorization_code.row
        return _person(self.engine, row.user_id, row.grant_id, row.auth_time)


class RefreshToken(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenRecord | None:
        with Session(self.server.engine, expire_on_commit=False) as session:
            row = session.exec(
                select(OAuthToken).where(OAuthToken.refresh_hash == hash_secret(refresh_token))
            ).first()
        if row is None:
            return None
        record = TokenRecord(row)
        if record.is_revoked() or record.is_expired():
            return None
        return record

    def authenticate_user(self, refresh_token: TokenRecord) -> PersonLogin:
        row = refresh_token.row
        if row.user_id is None:
            raise InvalidGrantError()
        person = _person(self.server.engine, row.user_id, row.grant_id, 0)
        if person is None:
            # The grant was withdrawn or the account deactivated: the app's session ends here.
            raise InvalidGrantError(description="The grant was withdrawn: sign in again.")
        return person

    def revoke_old_credential(self, refresh_token: TokenRecord) -> None:
        with Session(self.server.engine) as session:
            row = session.get(OAuthToken, refresh_token.row.id)
            if row is not None:
                row.revoked_at = utcnow()
                session.add(row)
                session.commit()


class ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """The app's own token, for one of the units where it is enabled (``unit=`` code, or the
    only one)."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: AppClient = self.request.client
        wanted = self.request.payload.data.get("unit")
        with Session(self.server.engine) as session:
            query = (
                select(OrgUnit.id, OrgUnit.code)
                .join(AppUnit, col(AppUnit.unit_id) == col(OrgUnit.id))
                .where(AppUnit.app_id == client.app.id)
            )
            units = list(session.exec(query))
        if wanted:
            chosen = [u for u in units if u[1] == wanted]
            if not chosen:
                raise InvalidRequestError(description="The app is not enabled at that unit.")
        elif len(units) == 1:
            chosen = units
        else:
            raise InvalidRequestError(
                description="The app is enabled at several units: name one with unit=<code>."
            )
        self.request.unit_id = chosen[0][0]


def _person(
    engine: Engine, user_id: int, grant_id: int | None, auth_time: int
) -> PersonLogin | None:
    """The person, if their account is active and their grant still stands."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        if grant_id is not None:
            grant = session.get(Grant, grant_id)
            if grant is None or grant.revoked_at is not None:
                return None
    return PersonLogin(user_id, grant_id, auth_time)
