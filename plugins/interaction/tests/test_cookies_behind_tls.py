"""Behind a proxy that ends TLS (``https = true``), resident cookies are ``Secure``.

The proxy talks plain HTTP to the platform, so a cookie marked from the request's own scheme
would travel unencrypted the next time the resident's phone used an ``http://`` address.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import PASSWORD
from .test_pages import BASE, csrf


@pytest.fixture
def shequyun_settings() -> dict[str, Any]:
    return {"https": True}


def _set_cookies(response: Any) -> list[str]:
    return [v for k, v in response.headers.multi_items() if k == "set-cookie"]


def test_the_resident_session_cookie_is_secure_behind_tls(town):
    wang = town.resident("王秀英")
    proxy = TestClient(town.client.app)  # http://testserver: what the TLS proxy forwards
    page = proxy.get(f"{BASE}/signup")
    # The browser (on https) sends its Secure cookies back; the test client would not.
    jar = "; ".join(c.split(";", 1)[0] for c in _set_cookies(page))
    form = {"phone": wang.phone, "password": PASSWORD, "password2": PASSWORD}
    signed = proxy.post(
        f"{BASE}/signup",
        data={**form, "csrf_token": csrf(page.text)},
        headers={"cookie": jar},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    cookies = _set_cookies(page) + _set_cookies(signed)
    assert any(c.startswith("shequyun_resident=") for c in _set_cookies(signed)), cookies
    assert all("Secure" in c for c in cookies), cookies
