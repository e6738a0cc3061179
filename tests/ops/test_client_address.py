"""The client's address: forwarded headers are believed only from the configured proxies.

A direct request that writes ``X-Forwarded-For`` itself must be logged, audited and throttled
as the address it really comes from, or anyone picks the address the login limits count.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from shequyun import throttles
from shequyun.identity.accounts import ADDRESS_LIMIT
from shequyun.identity.models import AuditEntry
from shequyun.proxies import ForwardedHeadersMiddleware
from shequyun.settings import SettingsError, load_settings

from ..conftest import subprocess_env
from .servers import run, serving

SPOOFED = "203.0.113.66"


def _wrong_login(client: TestClient, username: str, **headers: str) -> int:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"username": username, "password": "wrong-Password-1", "csrf_token": token}
    return client.post("/login", data=form, headers=headers).status_code


def _login_addresses(kernel) -> list[str | None]:
    with Session(kernel.engine) as session:
        rows = session.exec(
            select(AuditEntry).where(col(AuditEntry.action).startswith("login"))
        ).all()
        return [row.client_ip for row in rows]


def test_a_direct_client_is_audited_and_throttled_as_itself(
    shequyun_app, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    client = TestClient(shequyun_app, client=("198.51.100.20", 40000))
    assert _wrong_login(client, cadre.username, **{"X-Forwarded-For": SPOOFED}) == 401
    assert _login_addresses(shequyun_kernel) == ["198.51.100.20"]
    # Its address's attempts are spent: another made-up address in the header does not help.
    for _ in range(ADDRESS_LIMIT.limit):
        throttles.hit(shequyun_kernel.engine, ADDRESS_LIMIT, "198.51.100.20")
    assert _wrong_login(client, cadre.username, **{"X-Forwarded-For": "192.0.2.99"}) == 429


@pytest.fixture
def shequyun_settings():
    """This module's platform sits behind load balancers in 10.0.0.0/8."""
    return {"forwarded_allow_ips": ("10.0.0.0/8",)}


def test_behind_a_configured_proxy_the_client_is_the_address_the_proxy_saw(
    shequyun_app, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    proxy = TestClient(shequyun_app, client=("10.0.3.7", 40000))
    # The client wrote 198.51.100.9 itself; the proxy appended the address it saw.
    forwarded = f"198.51.100.9, {SPOOFED}, 10.0.3.8"
    assert _wrong_login(proxy, cadre.username, **{"X-Forwarded-For": forwarded}) == 401
    assert _login_addresses(shequyun_kernel) == [SPOOFED]


async def _echo(scope, receive, send):
    body = f"{scope['client'][0]} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("peer", "headers", "https", "seen"),
    [
        (
            "192.0.2.1",
            {"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"},
            False,
            "192.0.2.1 http",
        ),
        (
            "10.1.2.3",
            {"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"},
            False,
            f"{SPOOFED} https",
        ),
        ("10.1.2.3", {"X-Forwarded-For": f"{SPOOFED}:5123"}, False, f"{SPOOFED} http"),
        ("10.1.2.3", {"X-Forwarded-For": "not-an-address"}, False, "10.1.2.3 http"),
        ("10.1.2.3", {"X-Forwarded-For": "10.9.9.9"}, False, "10.1.2.3 http"),
        ("192.0.2.1", {}, True, "192.0.2.1 https"),
        ("10.1.2.3", {"X-Forwarded-Proto": "http"}, True, "10.1.2.3 https"),
    ],
)
def test_the_middleware_believes_only_trusted_peers(peer, headers, https, seen):
    app = ForwardedHeadersMiddleware(_echo, trusted=["10.0.0.0/8"], https=https)
    assert TestClient(app, client=(peer, 1)).get("/", headers=headers).text == seen


def test_a_proxy_that_is_not_an_address_stops_start_up_naming_the_setting():
    with pytest.raises(SettingsError, match="forwarded_allow_ips"):
        load_settings(environ={"SHEQUYUN_FORWARDED_ALLOW_IPS": "10.0.0.1,proxy.local"})
    assert load_settings(
        environ={"SHEQUYUN_FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.0/8"}
    ).forwarded_allow_ips == ("127.0.0.1", "10.0.0.0/8")


def test_shequyun_serve_logs_a_local_client_that_forges_the_header_as_itself(tmp_path):
    env = subprocess_env(tmp_path)
    assert run("db", "upgrade", env=env).returncode == 0
    headers = {"X-Forwarded-For": SPOOFED, "X-Request-ID": "forged-forwarded-for"}
    with serving(env, tmp_path / "serve.log") as server:
        assert server.get("/healthz", headers=headers).status_code == 200
        (line,) = server.logged("[forged-forwarded-for] shequyun.access")
        log = server.log.read_text()
    assert line.endswith(" 127.0.0.1") and SPOOFED not in log
