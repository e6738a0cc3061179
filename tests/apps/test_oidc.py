"""The OpenID Connect provider, checked by an independent OIDC library (pyoidc, ``oic``)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from oic.oic.message import AccessTokenResponse, ProviderConfigurationResponse
from oic.utils.keyio import KeyBundle, KeyJar
from sqlmodel import Session, select
from starlette.testclient import TestClient

from shequyun.identity.models import AuditEntry, Grant

from .conftest import PUDONG_COMMITTEE, XUHUI_COMMITTEE, resident_in

ISSUER = "https://testserver"
CALLBACK = "http://127.0.0.1:9/app/callback"


@pytest.fixture
def shequyun_settings() -> dict[str, Any]:
    # Behind TLS, as in production: the issuer is https, which pyoidc insists on.
    return {"https": True}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def signed_in(app: Any, actor: Any) -> TestClient:
    """A browser that signed in at the portal's own login page."""
    client = TestClient(app, base_url=ISSUER)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": actor.username, "password": actor.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def authorize(browser: TestClient, client_id: str, **extra: str) -> Any:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile grants",
        "state": "s-1",
        "nonce": "n-1",
        **extra,
    }
    return browser.get(f"/oauth/authorize?{urlencode(params)}", follow_redirects=False)


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def exchange(client: TestClient, registered: dict[str, Any], **form: str) -> Any:
    return client.post(
        "/oauth/token",
        data=form,
        auth=(registered["client_id"], registered["client_secret"]),
    )


def key_jar(client: TestClient) -> KeyJar:
    jar = KeyJar()
    jar.add_kb(ISSUER, KeyBundle(client.get("/oauth/jwks").json()["keys"]))
    return jar


def sign_in_through_app(shequyun_app: Any, registered: dict[str, Any], person: Any) -> dict:
    browser = signed_in(shequyun_app, person)
    verifier, challenge = pkce()
    code = code_from(
        authorize(
            browser,
            registered["client_id"],
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    response = exchange(
        browser,
        registered,
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert response.status_code == 200, response.text
    return {"browser": browser, **response.json()}


def test_the_discovery_document_validates_with_pyoidc(shequyun_client):
    shequyun_client.base_url = ISSUER
    document = shequyun_client.get("/.well-known/openid-configuration").json()
    config = ProviderConfigurationResponse(**document)
    assert config.verify()
    assert config["issuer"] == ISSUER
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]


def test_a_cadre_signs_in_and_pyoidc_validates_the_id_token(
    shequyun_app, shequyun_actors, registered
):
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    tokens = sign_in_through_app(shequyun_app, registered, cadre)
    browser = tokens.pop("browser")
    response = AccessTokenResponse(**tokens)
    # Signature against our JWKS, iss, aud, exp and at_hash: all checked by pyoidc.
    assert response.verify(
        keyjar=key_jar(browser), iss=ISSUER, client_id="xuhui-garbage", check_hash=True
    )
    claims = response["id_token"]
    assert claims["nonce"] == "n-1"
    assert claims["sub"] == str(cadre.user.id)
    assert claims["name"] == cadre.user.display_name
    assert claims["grants"] == [
        {
            "role": "identity.cadre",
            "role_name": "居村干部",
            "unit_code": XUHUI_COMMITTEE,
            "unit_name": "宛平南路居委会",
            "level": "committee",
        }
    ]
    info = browser.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["sub"] == str(cadre.user.id)


def sign_in_for(shequyun_app: Any, registered: dict[str, Any], person: Any, scope: str) -> dict:
    browser = signed_in(shequyun_app, person)
    verifier, challenge = pkce()
    code = code_from(
        authorize(
            browser,
            registered["client_id"],
            scope=scope,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    grant = {"code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}
    response = exchange(browser, registered, grant_type="authorization_code", **grant)
    assert response.status_code == 200, response.text
    return {"browser": browser, **response.json()}


def test_a_persons_token_carries_only_the_scopes_the_sign_in_asked_for(
    shequyun_app, shequyun_client, shequyun_actors, registered
):
    # The app declares residents.read; a sign-in that asked for no more than who the person is
    # gets a token that reads nothing else, however much the person and the app may.
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    mine = resident_in(shequyun_client, cadre, serial="111")
    signed = sign_in_for(shequyun_app, registered, cadre, "openid profile grants")
    browser, token = signed["browser"], signed["access_token"]
    assert signed["scope"] == "openid profile grants"
    auth = {"Authorization": f"Bearer {token}"}
    assert browser.get("/oauth/userinfo", headers=auth).status_code == 200
    assert browser.get(f"/api/v1/residents/{mine['id']}", headers=auth).status_code == 403
    assert browser.get("/api/v1/residents", headers=auth).status_code == 403
    refreshed = exchange(
        browser, registered, grant_type="refresh_token", refresh_token=signed["refresh_token"]
    ).json()
    again = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert browser.get("/api/v1/residents", headers=again).status_code == 403

    asked = sign_in_for(shequyun_app, registered, cadre, "openid residents.read")
    auth = {"Authorization": f"Bearer {asked['access_token']}"}
    read = asked["browser"].get(f"/api/v1/residents/{mine['id']}", headers=auth)
    assert read.status_code == 200, read.text
    me = asked["browser"].get("/api/v1/me", headers=auth).json()
    assert me["permissions"] == ["residents.read"]


def test_pkce_is_required(shequyun_app, shequyun_actors, registered):
    browser = signed_in(shequyun_app, shequyun_actors.cadre(XUHUI_COMMITTEE))
    for missing_or_plain in ({}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}):
        refused = authorize(browser, registered["client_id"], **missing_or_plain)
        assert refused.status_code == 400 and "location" not in refused.headers
        assert "PKCE is required" in refused.text or "S256" in refused.text
    _verifier, challenge = pkce()
    code = code_from(
        authorize(
            browser, registered["client_id"], code_challenge=challenge, code_challenge_method="S256"
        )
    )
    wrong = exchange(
        browser,
        registered,
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=pkce()[0],
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_a_person_outside_the_apps_units_cannot_sign_in(shequyun_app, shequyun_actors, registered):
    browser = signed_in(shequyun_app, shequyun_actors.cadre(PUDONG_COMMITTEE))
    _verifier, challenge = pkce()
    response = authorize(
        browser, registered["client_id"], code_challenge=challenge, code_challenge_method="S256"
    )
    assert response.status_code == 400
    assert "未在您所在的单位启用" in response.text


def test_an_anonymous_visitor_goes_through_the_portal_login(shequyun_app, registered):
    browser = TestClient(shequyun_app, base_url=ISSUER)
    response = authorize(browser, registered["client_id"], code_challenge="x" * 43)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Foauth%2Fauthorize")


def test_refresh_rotates_and_a_revoked_grant_ends_it(
    shequyun_app, shequyun_kernel, shequyun_actors, registered
):
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    tokens = sign_in_through_app(shequyun_app, registered, cadre)
    browser = tokens["browser"]
    first = exchange(
        browser, registered, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert first.status_code == 200, first.text
    again = exchange(
        browser, registered, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert again.status_code == 400  # a used refresh token is spent
    with Session(shequyun_kernel.engine) as session:
        grant = session.get(Grant, cadre.grant.id)
        grant.revoked_at = grant.granted_at
        session.add(grant)
        session.commit()
    ended = exchange(
        browser, registered, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]
    )
    assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
    call = browser.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert call.status_code == 401


def test_jwks_rotation_keeps_old_tokens_verifiable(
    shequyun_app, shequyun_kernel, shequyun_actors, registered
):
    tokens = sign_in_through_app(shequyun_app, registered, shequyun_actors.cadre(XUHUI_COMMITTEE))
    browser = tokens.pop("browser")
    old_kid = browser.get("/oauth/jwks").json()["keys"][0]["kid"]
    new_kid = shequyun_kernel.openness.keys.rotate()
    kids = [k["kid"] for k in browser.get("/oauth/jwks").json()["keys"]]
    assert kids == [new_kid, old_kid]
    assert AccessTokenResponse(**tokens).verify(
        keyjar=key_jar(browser), iss=ISSUER, client_id="xuhui-garbage"
    )
    fresh = sign_in_through_app(shequyun_app, registered, shequyun_actors.cadre(XUHUI_COMMITTEE))
    assert fresh["id_token"].split(".")[0]  # signed by the new key:
    header = base64.urlsafe_b64decode(fresh["id_token"].split(".")[0] + "==")
    assert new_kid in header.decode()


def test_rp_initiated_logout_ends_the_portal_session(shequyun_app, shequyun_actors, registered):
    tokens = sign_in_through_app(shequyun_app, registered, shequyun_actors.cadre(XUHUI_COMMITTEE))
    browser = tokens["browser"]
    params = urlencode(
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://127.0.0.1:9/app/bye",
            "state": "b-1",
        }
    )
    response = browser.get(f"/oauth/logout?{params}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "http://127.0.0.1:9/app/bye?state=b-1"
    assert browser.get("/account/grant", follow_redirects=False).status_code == 303


def test_client_credentials_reach_only_the_apps_units(
    shequyun_client, shequyun_kernel, shequyun_actors, registered
):
    xuhui = resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    pudong = resident_in(shequyun_client, shequyun_actors.cadre(PUDONG_COMMITTEE), serial="222")
    shequyun_client.base_url = ISSUER
    token = exchange(shequyun_client, registered, grant_type="client_credentials")
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "residents.read"
    assert "refresh_token" not in token.json()
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert shequyun_client.get(f"/api/v1/residents/{xuhui['id']}", headers=auth).status_code == 200
    assert shequyun_client.get(f"/api/v1/residents/{pudong['id']}", headers=auth).status_code == 404
    listed = shequyun_client.get("/api/v1/residents", headers=auth).json()["items"]
    assert [r["id"] for r in listed] == [xuhui["id"]]
    # Only its scopes: no writing.
    assert shequyun_client.post("/api/v1/residents", json={}, headers=auth).status_code == 403
    with Session(shequyun_kernel.engine) as session:
        calls = session.exec(
            select(AuditEntry).where(AuditEntry.actor_username == "app.xuhui-garbage")
        ).all()
    assert {c.action for c in calls} >= {"app.call"}


def test_secrets_are_shown_once_stored_hashed_and_rotatable(
    shequyun_client, shequyun_kernel, admin, registered
):
    secret = registered["client_secret"]
    assert secret.startswith("sqcs_") and registered["webhook_secret"].startswith("whsec_")
    shown = shequyun_client.get(f"/api/v1/apps/{registered['id']}", headers=admin.auth).json()
    assert "client_secret" not in shown and secret not in str(shown)
    with shequyun_kernel.engine.connect() as connection:
        assert secret not in str(connection.exec_driver_sql("SELECT * FROM kernel_app").all())
    rotated = shequyun_client.post(
        f"/api/v1/apps/{registered['id']}/client-secret", headers=admin.auth
    ).json()["secret"]
    shequyun_client.base_url = ISSUER
    old = exchange(shequyun_client, registered, grant_type="client_credentials")
    assert old.status_code == 401
    new = exchange(
        shequyun_client, {**registered, "client_secret": rotated}, grant_type="client_credentials"
    )
    assert new.status_code == 200


def test_a_bad_manifest_names_the_field(shequyun_client, admin):
    from .conftest import manifest

    bad = manifest(webhook={"url": "ftp://x", "events": ["resident.*"]})
    response = shequyun_client.post("/api/v1/apps", json=bad, headers=admin.auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "webhook.url"
    unknown = manifest(scopes=["residents.fly"])
    response = shequyun_client.post("/api/v1/apps", json=unknown, headers=admin.auth)
    assert response.json()["error"]["field"] == "scopes.0"


def test_a_disabled_app_loses_its_tokens_at_once(shequyun_client, admin, registered):
    shequyun_client.base_url = ISSUER
    token = exchange(shequyun_client, registered, grant_type="client_credentials").json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert shequyun_client.get("/api/v1/residents", headers=auth).status_code == 200
    off = shequyun_client.put(
        f"/api/v1/apps/{registered['id']}/state", json={"disabled": True}, headers=admin.auth
    )
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert shequyun_client.get("/api/v1/residents", headers=auth).status_code == 401
    refused = exchange(shequyun_client, registered, grant_type="client_credentials")
    assert refused.status_code == 401
    bad = shequyun_client.put(
        f"/api/v1/apps/{registered['id']}/state", json={"disabled": "yes"}, headers=admin.auth
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "disabled"
