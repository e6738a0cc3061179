"""/api/v1/users: listing and reading inside the admin's subtree, creating, editing, unlocking
and resetting passwords, with every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry, Grant, User, WebSession

CITY, PUDONG, XUHUI = "310000000000", "310115000000", "310104000000"
WEIFANG, LUJIAZUI, TIANPING = "310115004000", "310115005000", "310104003000"
WEIFANG_1, WEIFANG_2, MEIYUAN = "310115004001", "310115004002", "310115005001"


def count(kernel, model, *where):
    with Session(kernel.engine) as session:
        return len(session.exec(select(model).where(*where)).all())


def audit_actions(kernel):
    with Session(kernel.engine) as session:
        return [
            (e.action, e.outcome) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))
        ]


def new_user(client, username="zhangsan", home=WEIFANG_1, **extra):
    body = {"username": username, "display_name": "张三", "home_unit_code": home, **extra}
    return client.post("/api/v1/users", json=body)


# -- listing and reading --------------------------------------------------------------------


def test_a_street_admin_lists_only_users_of_their_street(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    mine = [shequyun_actors.cadre(WEIFANG_1), shequyun_actors.cadre(WEIFANG_2)]
    others = [shequyun_actors.cadre(MEIYUAN), shequyun_actors.street_admin(LUJIAZUI)]
    items = admin.client().get("/api/v1/users").json()["items"]
    names = {item["username"] for item in items}
    assert names == {admin.username, *(a.username for a in mine)}
    assert not names & {a.username for a in others}
    cadre = next(i for i in items if i["username"] == mine[0].username)
    assert cadre["home_unit"] == {"code": WEIFANG_1, "name": "潍坊一村居委会", "level": "committee"}
    assert cadre["is_active"] is True and cadre["locked"] is False
    assert [(g["role"], g["role_title"], g["unit"]["code"]) for g in cadre["grants"]] == [
        ("identity.cadre", "居村干部", WEIFANG_1)
    ]


def test_within_narrows_to_a_subtree_and_q_searches_names(shequyun_actors):
    admin = shequyun_actors.district_admin(PUDONG)
    one = shequyun_actors.make("identity.cadre", WEIFANG_1, username="wangwu")
    shequyun_actors.cadre(MEIYUAN)
    client = admin.client()
    within = client.get("/api/v1/users", params={"within": WEIFANG}).json()["items"]
    assert [i["username"] for i in within] == [one.username]
    found = client.get("/api/v1/users", params={"q": "WANG"}).json()["items"]
    assert [i["username"] for i in found] == ["wangwu"]
    assert client.get("/api/v1/users", params={"q": "100%_"}).json()["items"] == []


def test_within_a_sibling_street_is_not_found(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    response = admin.client().get("/api/v1/users", params={"within": LUJIAZUI})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "within"
    unknown = admin.client().get("/api/v1/users", params={"within": "319999999999"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"].replace(
        LUJIAZUI, "319999999999"
    )


def test_pages_follow_the_cursor_and_a_limit_too_large_is_refused(shequyun_actors):
    admin = shequyun_actors.platform_admin()
    made = {shequyun_actors.cadre(WEIFANG_1).username for _ in range(4)}
    client = admin.client()
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/users", params=params).json()
        seen += [i["username"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 5 and len(set(seen)) == 5
    assert made <= set(seen)
    for params in ({"limit": 501}, {"limit": 0}, {"limit": "x"}, {"cursor": "abc"}):
        refused = client.get("/api/v1/users", params=params)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["field"] in {"limit", "cursor"}
    assert len(client.get("/api/v1/users", params={"limit": 500}).json()["items"]) == 5


def test_reading_a_user_of_a_sibling_street_is_not_found_and_audited(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.street_admin(WEIFANG)
    sibling = shequyun_actors.cadre(MEIYUAN)
    own = shequyun_actors.cadre(WEIFANG_2)
    client = admin.client()
    assert client.get(f"/api/v1/users/{own.user.id}").json()["username"] == own.username
    hidden = client.get(f"/api/v1/users/{sibling.user.id}")
    missing = client.get("/api/v1/users/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert ("access.denied", "denied") in audit_actions(shequyun_kernel)


def test_cadres_and_bureaus_cannot_list_users(shequyun_actors, shequyun_client):
    for actor in (shequyun_actors.cadre(), shequyun_actors.bureau()):
        assert actor.client().get("/api/v1/users").status_code == 403
    assert shequyun_client.get("/api/v1/users").status_code == 401


class Hr:
    """A plugin role that may view users but not manage them."""

    MANIFEST = {
        "name": "hr",
        "version": "0.1",
        "title": {"zh": "人事"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "roles": [
            {
                "name": "hr.viewer",
                "title": {"zh": "人事查阅"},
                "permissions": ["identity.users.view"],
            }
        ],
    }


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_phones_are_masked_for_those_who_may_not_manage_the_user(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    viewer = shequyun_actors.make("hr.viewer", WEIFANG)
    created = new_user(admin.client(), phone="13812345678").json()
    assert created["phone"] == "13812345678"
    seen = viewer.client().get(f"/api/v1/users/{created['id']}").json()
    assert seen["phone"] == "138****5678"
    assert viewer.client().post(f"/api/v1/users/{created['id']}/unlock").status_code == 403


# -- creating -------------------------------------------------------------------------------


def test_an_admin_creates_a_user_with_a_generated_first_password(
    shequyun_actors, shequyun_client, shequyun_kernel
):
    admin = shequyun_actors.street_admin(WEIFANG)
    response = new_user(admin.client(), role="identity.cadre")
    assert response.status_code == 201, response.text
    body = response.json()
    password = body["password"]
    assert len(password) >= 12
    assert body["must_change_password"] is True
    assert [(g["role"], g["unit"]["code"]) for g in body["grants"]] == [
        ("identity.cadre", WEIFANG_1)
    ]
    with Session(shequyun_kernel.engine) as session:
        user = session.exec(select(User).where(User.username == "zhangsan")).one()
        assert password not in (user.password_hash or "")
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.target_type == "user", AuditEntry.target_id == str(user.id)
            )
        ).all()
        assert [(e.action, e.actor_user_id) for e in entries] == [("user.created", admin.user.id)]
    # The first password works once, and must be changed at once.
    page = shequyun_client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    login = shequyun_client.post(
        "/login",
        data={"username": "zhangsan", "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert login.headers["location"] == "/account/password"
    assert shequyun_client.get("/api/v1/me").json()["error"]["code"] == "password_change_required"


def test_an_admin_may_choose_the_first_password_and_it_is_not_echoed(shequyun_actors):
    admin = shequyun_actors.district_admin(PUDONG)
    response = new_user(
        admin.client(), password="Chushi-mima-1", unit_code=WEIFANG, role="identity.social_worker"
    )
    assert response.status_code == 201, response.text
    assert "password" not in response.json()
    assert response.json()["grants"][0]["unit"]["code"] == WEIFANG
    weak = new_user(admin.client(), username="lisi", password="12345678")
    assert weak.status_code == 422
    assert weak.json()["error"]["field"] == "password"


def test_a_duplicate_username_is_a_conflict_and_writes_nothing(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    client = admin.client()
    assert new_user(client).status_code == 201
    users, grants, entries = (
        count(shequyun_kernel, User),
        count(shequyun_kernel, Grant),
        count(shequyun_kernel, AuditEntry),
    )
    again = new_user(client, username="ZhangSan", role="identity.cadre")
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "username"
    assert (count(shequyun_kernel, User), count(shequyun_kernel, Grant)) == (users, grants)
    assert count(shequyun_kernel, AuditEntry) == entries


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "1bad"}, 422, "username"),
        ({"display_name": ""}, 422, "display_name"),
        ({"phone": "12345"}, 422, "phone"),
        ({"home_unit_code": MEIYUAN}, 404, "home_unit_code"),
        ({"home_unit_code": "319999999999"}, 404, "home_unit_code"),
        ({"role": "identity.nobody"}, 422, "role"),
        ({"role": "identity.cadre", "unit_code": WEIFANG}, 422, "unit"),
        ({"role": "identity.cadre", "unit_code": MEIYUAN}, 404, "unit_code"),
        ({"unit_code": WEIFANG_1}, 422, "role"),
        ({"role": "identity.district_admin", "unit_code": PUDONG}, 404, "unit_code"),
        ({"role": "identity.platform_admin", "unit_code": CITY}, 404, "unit_code"),
        ({"role": "identity.street_admin", "unit_code": WEIFANG_1}, 422, "unit"),
        ({"surname": "张"}, 422, "surname"),
        ({"username": 7}, 422, "username"),
    ],
)
def test_bad_user_input_is_refused_and_writes_nothing(
    shequyun_actors, shequyun_kernel, body, status, field
):
    admin = shequyun_actors.street_admin(WEIFANG)
    before = count(shequyun_kernel, User)
    response = new_user(admin.client(), **body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert count(shequyun_kernel, User) == before


def test_a_body_that_is_not_a_json_object_is_refused(shequyun_actors):
    client = shequyun_actors.street_admin(WEIFANG).client()
    assert client.post("/api/v1/users", content=b"[1]").status_code == 422
    assert client.post("/api/v1/users", content=b"{").json()["error"]["code"] == "invalid_json"


def test_a_portal_admin_needs_the_csrf_token(shequyun_actors):
    portal = shequyun_actors.street_admin(WEIFANG).portal()
    assert new_user(portal).status_code == 201
    del portal.headers["X-CSRF-Token"]
    assert new_user(portal, username="lisi").status_code == 403


# -- editing --------------------------------------------------------------------------------


def test_editing_checks_the_version_and_answers_a_conflict_with_current_values(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.street_admin(WEIFANG)
    client = admin.client()
    user = new_user(client, phone="13812345678").json()
    path = f"/api/v1/users/{user['id']}"
    changed = client.patch(path, json={"version": 1, "display_name": "张三丰", "phone": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["display_name"], changed.json()["phone"], changed.json()["version"]) == (
        "张三丰",
        None,
        2,
    )
    stale = client.patch(path, json={"version": 1, "display_name": "张三"})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert (error["code"], error["field"]) == ("version_conflict", "version")
    assert error["current"]["display_name"] == "张三丰" and error["current"]["version"] == 2
    assert client.get(path).json()["display_name"] == "张三丰"
    assert ("user.updated", "ok") in audit_actions(shequyun_kernel)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "x"}, "version"),
        ({"version": "1", "display_name": "x"}, "version"),
        ({"version": 1}, None),
        ({"version": 1, "display_name": "  "}, "display_name"),
        ({"version": 1, "phone": "555"}, "phone"),
        ({"version": 1, "is_active": "no"}, "is_active"),
        ({"version": 1, "username": "other"}, "username"),
    ],
)
def test_bad_edits_are_refused(shequyun_actors, body, field):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    response = admin.client().patch(f"/api/v1/users/{cadre.user.id}", json=body)
    assert response.status_code == 422
    assert response.json()["error"].get("field") == field


def test_deactivating_a_user_ends_their_sessions_and_tokens(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    portal = cadre.portal()
    response = admin.client().patch(
        f"/api/v1/users/{cadre.user.id}", json={"version": 1, "is_active": False}
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert portal.get("/api/v1/me").status_code == 401
    assert cadre.client().get("/api/v1/me").status_code == 401
    assert count(shequyun_kernel, WebSession, WebSession.user_id == cadre.user.id) == 0
    own = admin.client().patch(
        f"/api/v1/users/{admin.user.id}", json={"version": 1, "is_active": False}
    )
    assert own.status_code == 422


def test_a_sibling_streets_user_cannot_be_edited_unlocked_or_reset(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    sibling = shequyun_actors.cadre(MEIYUAN)
    client = admin.client()
    path = f"/api/v1/users/{sibling.user.id}"
    assert client.patch(path, json={"version": 1, "display_name": "x"}).status_code == 404
    assert client.post(f"{path}/unlock").status_code == 404
    assert client.post(f"{path}/reset-password").status_code == 404
    assert client.get(f"{path}/grants").status_code == 404


def test_a_street_admin_cannot_take_over_a_higher_admin_homed_in_their_street(
    shequyun_actors, shequyun_kernel
):
    """Resetting the password of a district admin would hand the street admin that grant."""
    admin = shequyun_actors.street_admin(WEIFANG)
    boss = shequyun_actors.district_admin(PUDONG)
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, boss.user.id)
        user.home_unit_id = shequyun_actors.units[WEIFANG].id
        session.add(user)
        session.commit()
    client = admin.client()
    path = f"/api/v1/users/{boss.user.id}"
    assert client.get(path).status_code == 200
    for response in (
        client.post(f"{path}/reset-password"),
        client.post(f"{path}/unlock"),
        client.patch(path, json={"version": 1, "is_active": False}),
    ):
        assert response.status_code == 403, response.text
    assert boss.client().get("/api/v1/me").status_code == 200


# -- unlocking and resetting ----------------------------------------------------------------


def test_unlocking_lifts_a_lockout(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.locked_until = datetime.now(UTC) + timedelta(minutes=20)
        user.failed_logins = 4
        session.add(user)
        session.commit()
    client = admin.client()
    assert client.get(f"/api/v1/users/{cadre.user.id}").json()["locked"] is True
    unlocked = client.post(f"/api/v1/users/{cadre.user.id}/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    cadre.portal()  # logs in again
    assert ("user.unlocked", "ok") in audit_actions(shequyun_kernel)


def test_resetting_a_password_forces_a_change_and_ends_sessions(
    shequyun_actors, shequyun_kernel, shequyun_client
):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    portal = cadre.portal()
    response = admin.client().post(f"/api/v1/users/{cadre.user.id}/reset-password")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["must_change_password"] is True and body["version"] == 2
    assert portal.get("/api/v1/me").status_code == 401
    cadre.password = body["password"]
    relogged = cadre.portal()
    assert relogged.get("/api/v1/me").json()["error"]["code"] == "password_change_required"
    chosen = admin.client().post(
        f"/api/v1/users/{cadre.user.id}/reset-password", json={"password": "Lingyige-mima-2"}
    )
    assert chosen.status_code == 200 and "password" not in chosen.json()
    weak = admin.client().post(
        f"/api/v1/users/{cadre.user.id}/reset-password", json={"password": "short"}
    )
    assert weak.status_code == 422 and weak.json()["error"]["field"] == "password"
    with Session(shequyun_kernel.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "user.password_reset")
        ).all()
    assert len(entries) == 2
    assert all(body["password"] not in str(e.detail) for e in entries)
