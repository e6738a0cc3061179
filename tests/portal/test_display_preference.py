"""大字模式 follows a signed-in staff user to any browser; a visitor's browser keeps its own."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from shequyun.display import DisplayPreference


def large(html: str) -> bool:
    return bool(re.search(r'<html lang="[^"]+" class="large-text"', html))


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_a_cadres_choice_follows_them_to_another_browser(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    office = cadre.portal()
    assert not large(office.get("/workbench").text)
    chose = office.post(
        "/display/large", data={"next": "/residents?sort=name"}, follow_redirects=False
    )
    assert chose.status_code == 303 and chose.headers["location"] == "/residents?sort=name"
    assert large(office.get("/workbench").text)
    with Session(shequyun_kernel.engine) as session:
        kept = session.exec(select(DisplayPreference)).one()
    assert (kept.account_key, kept.mode) == (f"user:{cadre.user.id}", "large")

    phone = cadre.portal()  # another browser: no cookie of its own
    assert large(phone.get("/workbench").text)
    phone.post("/display/normal", data={"next": "/workbench"})
    # the account's choice wins over the office browser's year-long cookie
    assert office.cookies.get("shequyun_display") == "large"
    assert not large(office.get("/workbench").text)


def test_an_anonymous_visitor_is_remembered_by_their_browser_only(shequyun_kernel, shequyun_app):
    browser = TestClient(shequyun_app)
    home = browser.get("/")
    assert not large(home.text) and 'action="/display/large"' in home.text
    done = browser.post(
        "/display/large", data={"csrf_token": token(home.text), "next": "/"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert large(browser.get("/").text)
    assert not large(TestClient(shequyun_app).get("/").text)
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(DisplayPreference)).all() == []


def test_an_old_link_sets_the_cookie_but_never_the_account(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    portal = cadre.portal()
    old = portal.get("/display/large?next=/workbench", follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"] == "/workbench"
    assert large(portal.get("/workbench").text)  # this browser
    assert not large(cadre.portal().get("/workbench").text)  # not the account
    del portal.headers["X-CSRF-Token"]
    assert portal.post("/display/normal", data={"next": "/"}).status_code == 403
    assert portal.post("/display/huge", data={"next": "/"}).status_code in (403, 404)
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(DisplayPreference)).all() == []
