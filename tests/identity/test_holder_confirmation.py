"""Issue 14 point 7, the last path: a street administrator (no residents.reveal) who makes a
cadre, signs in with the first password and chooses "the cadre's" own password still reads no
personal data through the account; a second person who holds that right confirms the holder."""

from __future__ import annotations

from starlette.testclient import TestClient

from shequyun.testing import TEST_PASSWORD

from ..residents._data import resident

WEIFANG, WEIFANG_1, WEIFANG_2 = "310115004000", "310115004001", "310115004002"
CHOSEN = "Ziji-xuan-2026"


def sign_in_and_choose(app, username: str, first_password: str) -> TestClient:
    """Sign in with a first password and change it on the password page, as anyone holding
    the first password can: the holder, or the administrator who set it."""
    portal = TestClient(app)
    token = portal.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    portal.post(
        "/login",
        data={"username": username, "password": first_password, "csrf_token": token},
        follow_redirects=False,
    )
    page = portal.get("/account/password")
    portal.headers["X-CSRF-Token"] = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    changed = portal.post(
        "/account/password",
        data={"current": first_password, "new": CHOSEN, "repeat": CHOSEN},
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    return portal


def reveal(client: TestClient, resident_id: int):
    return client.post(
        f"/api/v1/residents/{resident_id}/reveal",
        json={"fields": ["id_number"], "reason": "上门核实"},
    )


def test_the_admin_who_set_the_password_reads_nothing_until_a_colleague_confirms(
    shequyun_actors, shequyun_app
):
    admin = shequyun_actors.street_admin(WEIFANG)
    colleague = shequyun_actors.cadre(WEIFANG_1)
    elsewhere = shequyun_actors.cadre(WEIFANG_2)
    made = admin.client().post(
        "/api/v1/users",
        json={
            "username": "xin.ganbu",
            "display_name": "新干部",
            "home_unit_code": WEIFANG_1,
            "role": "identity.cadre",
        },
    )
    assert made.status_code == 201, made.text
    new_id = made.json()["id"]
    someone = colleague.client().post("/api/v1/residents", json=resident()).json()["id"]

    # The administrator keeps the first password, signs in and picks "the holder's" password.
    taken = sign_in_and_choose(shequyun_app, "xin.ganbu", made.json()["password"])
    assert taken.get(f"/api/v1/residents/{someone}").status_code == 200  # masked work goes on
    assert reveal(taken, someone).status_code == 403
    export = taken.get("/api/v1/residents/export", params={"purpose": "核对名单"})
    assert export.status_code == 403
    assert admin.client().get(f"/api/v1/users/{new_id}").json()["awaiting_confirmation"] is True
    assert "待同事确认" in taken.get("/workbench").text  # the account says why

    # Neither the administrator, the account itself nor a cadre of another committee confirms.
    by_admin = admin.client().post(f"/api/v1/users/{new_id}/confirm-holder")
    assert by_admin.status_code == 422 and "另一位" in by_admin.json()["error"]["message"]
    assert taken.post(f"/api/v1/users/{new_id}/confirm-holder").status_code == 404
    assert elsewhere.client().post(f"/api/v1/users/{new_id}/confirm-holder").status_code == 404
    assert elsewhere.client().get("/api/v1/users/awaiting-confirmation").json() == {"items": []}

    # A colleague of the committee, who knows the new cadre in person, confirms; their
    # workbench tells them someone waits.
    assert "待确认的同事" in colleague.portal().get("/workbench").text
    waiting = colleague.client().get("/api/v1/users/awaiting-confirmation").json()["items"]
    assert [(w["username"], w["password_set_by"]) for w in waiting] == [
        ("xin.ganbu", admin.username)
    ]
    confirmed = colleague.client().post(f"/api/v1/users/{new_id}/confirm-holder")
    assert confirmed.status_code == 200, confirmed.text
    assert reveal(taken, someone).status_code == 200
    again = colleague.client().post(f"/api/v1/users/{new_id}/confirm-holder")
    assert again.status_code == 422 and again.json()["error"]["field"] == "user_id"


def test_a_reset_holds_the_account_again_and_confirming_waits_for_the_new_password(
    shequyun_actors, shequyun_app
):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    colleague = shequyun_actors.cadre(WEIFANG_1)
    reset = admin.client().post(f"/api/v1/users/{cadre.user.id}/reset-password")
    assert reset.json()["awaiting_confirmation"] is True
    early = colleague.client().post(f"/api/v1/users/{cadre.user.id}/confirm-holder")
    assert early.status_code == 422 and "尚未修改初始密码" in early.json()["error"]["message"]
    portal = sign_in_and_choose(shequyun_app, cadre.username, reset.json()["password"])
    someone = colleague.client().post("/api/v1/residents", json=resident()).json()["id"]
    assert reveal(portal, someone).status_code == 403
    assert colleague.client().post(f"/api/v1/users/{cadre.user.id}/confirm-holder").is_success
    assert reveal(portal, someone).status_code == 200


def test_an_administrator_holding_the_rights_sets_passwords_without_a_hold(shequyun_actors):
    platform_admin = shequyun_actors.platform_admin()
    cadre = shequyun_actors.cadre(WEIFANG_1)
    reset = platform_admin.client().post(
        f"/api/v1/users/{cadre.user.id}/reset-password", json={"password": TEST_PASSWORD + "x"}
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["awaiting_confirmation"] is False
