"""用户与授权 and 访问令牌 in-process: scope, escalation, bad input, secrets shown once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from shequyun.identity.models import ApiToken, AuditEntry, Grant, User


class Helpdesk:
    """A plugin whose role carries an administrative permission street admins lack."""

    MANIFEST = {
        "name": "helpdesk",
        "version": "0.1.0",
        "title": {"zh": "接口对接"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "roles": [
            {
                "name": "helpdesk.token_keeper",
                "title": {"zh": "令牌管理员"},
                "permissions": ["identity.tokens.manage"],
                "levels": ["street", "committee"],
            }
        ],
    }


@pytest.fixture
def shequyun_plugins():
    return [Helpdesk()]


def count(kernel, model, *where):
    with Session(kernel.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def user_named(kernel, username):
    with Session(kernel.engine) as session:
        return session.exec(select(User).where(User.username == username)).first()


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}-error">([^<]*)<', html)
    assert match, f"no error next to {field}"
    return match.group(1)


def shown_secret(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]+)<', html)
    assert match, f"no secret {element_id}"
    return match.group(1)


def log_in(app, username, password):
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


# -- the list and one user -------------------------------------------------------------------


def test_a_street_admin_sees_only_the_users_of_their_street(shequyun_actors):
    mine = shequyun_actors.cadre("310115004001")
    theirs = shequyun_actors.cadre("310115005001")
    street = shequyun_actors.street_admin("310115004000").portal()
    listing = street.get("/admin/users")
    assert listing.status_code == 200
    assert mine.username in listing.text and theirs.username not in listing.text
    assert street.get(f"/admin/users/{mine.user.id}").status_code == 200
    assert street.get(f"/admin/users/{theirs.user.id}").status_code == 404
    assert street.get("/admin/users/999999").status_code == 404
    found = street.get("/admin/users", params={"q": mine.username})
    assert mine.username in found.text
    outside = street.get("/admin/users", params={"within": "310115005000"})
    assert outside.status_code == 422
    assert field_error(outside.text, "within")


def test_changes_to_a_sibling_streets_users_answer_not_found(shequyun_actors, shequyun_kernel):
    theirs = shequyun_actors.cadre("310115005001")
    street = shequyun_actors.street_admin("310115004000").portal()
    before = count(shequyun_kernel, Grant)
    uid = theirs.user.id
    assert street.post(f"/admin/users/{uid}/reset-password").status_code == 404
    assert street.post(f"/admin/users/{uid}/unlock").status_code == 404
    assert (
        street.post(
            f"/admin/users/{uid}/grants",
            data={"role": "identity.cadre", "unit_code": "310115004001"},
        ).status_code
        == 404
    )
    assert street.post(f"/admin/users/{uid}/grants/{theirs.grant.id}/revoke").status_code == 404
    assert count(shequyun_kernel, Grant) == before
    assert log_in(street.app, theirs.username, theirs.password).status_code == 303


# -- creating a user -----------------------------------------------------------------------


def test_a_user_is_created_and_the_password_shown_once(shequyun_actors, shequyun_app):
    street = shequyun_actors.street_admin("310115004000").portal()
    form = street.get("/admin/users/new")
    roles = re.findall(r'<option value="(identity\.[a-z_]+)"', form.text)
    assert "identity.cadre" in roles and "identity.social_worker" in roles
    assert "identity.district_admin" not in roles and "identity.platform_admin" not in roles
    assert "helpdesk.token_keeper" not in form.text
    created = street.post(
        "/admin/users/new",
        data={
            "username": "li.na",
            "display_name": "李娜",
            "phone": "13800001111",
            "home_unit_code": "310115004001",
            "role": "identity.cadre",
            "unit_code": "",
        },
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert "只显示一次" in created.text
    password = shown_secret(created.text, "new-password")
    assert "潍坊一村居委会 · 居村干部" in created.text
    login = log_in(shequyun_app, "li.na", password)
    assert login.status_code == 303 and login.headers["location"] == "/account/password"


def test_bad_input_creates_nobody(shequyun_actors, shequyun_kernel):
    street = shequyun_actors.street_admin("310115004000").portal()
    before = count(shequyun_kernel, User)
    base = {"username": "li.na", "display_name": "李娜", "home_unit_code": "310115004001"}
    missing = street.post("/admin/users/new", data={**base, "display_name": ""})
    assert missing.status_code == 422
    assert field_error(missing.text, "display_name") == "请填写姓名"
    bad_name = street.post("/admin/users/new", data={**base, "username": "Li Na"})
    assert bad_name.status_code == 422
    assert "用户名应为" in field_error(bad_name.text, "username")
    bad_phone = street.post("/admin/users/new", data={**base, "phone": "12345"})
    assert bad_phone.status_code == 422
    assert field_error(bad_phone.text, "phone") == "电话号码格式不正确"
    sibling = street.post("/admin/users/new", data={**base, "home_unit_code": "310115005001"})
    assert sibling.status_code == 422
    assert "找不到编码为 310115005001 的单位" in field_error(sibling.text, "home_unit_code")
    wrong_level = street.post("/admin/users/new", data={**base, "role": "identity.street_admin"})
    assert wrong_level.status_code == 422
    assert "不能授予在" in field_error(wrong_level.text, "home_unit_code")
    escalation = street.post("/admin/users/new", data={**base, "role": "helpdesk.token_keeper"})
    assert escalation.status_code == 403
    assert "该角色含有您自己没有的权限" in field_error(escalation.text, "role")
    assert count(shequyun_kernel, User) == before
    assert user_named(shequyun_kernel, "li.na") is None


# -- grants -----------------------------------------------------------------------------------


def test_grant_and_revoke_a_role(shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre("310115004001")
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get(f"/admin/users/{cadre.user.id}")
    assert "潍坊一村居委会" in page.text and "授予角色" in page.text
    granted = street.post(
        f"/admin/users/{cadre.user.id}/grants",
        data={"role": "identity.social_worker", "unit_code": "310115004002"},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    page = street.get(granted.headers["location"])
    assert "已授予该角色" in page.text and "潍坊二村居委会" in page.text
    with Session(shequyun_kernel.engine) as session:
        grant = session.exec(
            select(Grant).where(
                Grant.user_id == cadre.user.id, Grant.role == "identity.social_worker"
            )
        ).one()
    revoked = street.post(
        f"/admin/users/{cadre.user.id}/grants/{grant.id}/revoke", follow_redirects=False
    )
    assert revoked.status_code == 303
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Grant, grant.id).revoked_at is not None


def test_a_grant_beyond_the_admins_power_is_refused_next_to_the_role(
    shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre("310115004001")
    street = shequyun_actors.street_admin("310115004000").portal()
    before = count(shequyun_kernel, Grant)
    escalation = street.post(
        f"/admin/users/{cadre.user.id}/grants",
        data={"role": "helpdesk.token_keeper", "unit_code": "310115004001"},
    )
    assert escalation.status_code == 403
    assert "该角色含有您自己没有的权限" in field_error(escalation.text, "role")
    wrong_level = street.post(
        f"/admin/users/{cadre.user.id}/grants",
        data={"role": "identity.district_admin", "unit_code": "310115004000"},
    )
    assert wrong_level.status_code == 422
    assert "不能授予在" in field_error(wrong_level.text, "unit_code")
    sibling = street.post(
        f"/admin/users/{cadre.user.id}/grants",
        data={"role": "identity.cadre", "unit_code": "310115005001"},
    )
    assert sibling.status_code == 422
    assert "找不到编码为 310115005001 的单位" in field_error(sibling.text, "unit_code")
    duplicate = street.post(
        f"/admin/users/{cadre.user.id}/grants",
        data={"role": "identity.cadre", "unit_code": "310115004001"},
    )
    assert duplicate.status_code == 409
    assert "已在此单位拥有此角色" in field_error(duplicate.text, "role")
    no_role = street.post(f"/admin/users/{cadre.user.id}/grants", data={"unit_code": ""})
    assert no_role.status_code == 422
    assert field_error(no_role.text, "role") == "请选择角色"
    assert count(shequyun_kernel, Grant) == before


def test_an_admin_cannot_take_over_a_stronger_account(shequyun_actors, shequyun_kernel):
    district = shequyun_actors.district_admin("310115000000")
    # A district admin whose home unit is the street: the street admin sees them, no more.
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, district.user.id)
        user.home_unit_id = shequyun_actors.units["310115004000"].id
        session.add(user)
        session.commit()
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get(f"/admin/users/{district.user.id}")
    assert "持有超出您管理范围或权限的授权" in page.text
    assert "/reset-password" not in page.text
    refused = street.post(f"/admin/users/{district.user.id}/reset-password")
    assert refused.status_code == 403
    assert "持有超出您管理范围" in refused.text


# -- unlock and reset -----------------------------------------------------------------------


def test_unlock_and_reset_password(shequyun_actors, shequyun_kernel, shequyun_app):
    from datetime import UTC, datetime, timedelta

    cadre = shequyun_actors.cadre("310115004001")
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.locked_until = datetime.now(UTC) + timedelta(minutes=30)
        user.failed_logins = 10
        session.add(user)
        session.commit()
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get(f"/admin/users/{cadre.user.id}")
    assert "已锁定" in page.text
    unlocked = street.post(f"/admin/users/{cadre.user.id}/unlock", follow_redirects=False)
    assert unlocked.status_code == 303
    assert "已解锁" in street.get(unlocked.headers["location"]).text
    reset = street.post(f"/admin/users/{cadre.user.id}/reset-password")
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    password = shown_secret(reset.text, "new-password")
    assert log_in(shequyun_app, cadre.username, cadre.password).status_code == 401
    assert log_in(shequyun_app, cadre.username, password).status_code == 303
    with Session(shequyun_kernel.engine) as session:
        entries = session.exec(select(AuditEntry.action, AuditEntry.detail)).all()
    assert ("user.unlocked", {"was_locked": True}) in entries
    assert all(password not in str(detail) for _, detail in entries)


# -- bulk import ------------------------------------------------------------------------------


def _upload(client, content: str):
    return client.post(
        "/admin/users/import", files={"file": ("users.csv", content.encode(), "text/csv")}
    )


def test_users_are_imported_after_a_dry_run(shequyun_actors, shequyun_kernel, shequyun_app):
    street = shequyun_actors.street_admin("310115004000").portal()
    before = count(shequyun_kernel, User)
    bad = _upload(
        street,
        "用户名,姓名,所属单位编码,角色\n"
        "wang.fang,王芳,310115004001,居村干部\n"
        "zhao.lei,赵磊,310115005001,居村干部\n",
    )
    assert "文件中有 1 处问题" in bad.text and "不在您的管辖范围内" in bad.text
    assert "/admin/users/import/confirm" not in bad.text
    good = _upload(
        street,
        "用户名,姓名,所属单位编码,角色\n"
        "wang.fang,王芳,310115004001,居村干部\n"
        "zhao.lei,赵磊,310115004002,居村干部\n",
    )
    assert "检查通过：将新建 2 个用户" in good.text
    assert count(shequyun_kernel, User) == before
    token = re.search(r'name="token" value="([^"]+)"', good.text).group(1)
    done = street.post("/admin/users/import/confirm", data={"token": token})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    assert "只显示一次" in done.text and "已导入 2 个用户" in done.text
    assert count(shequyun_kernel, User) == before + 2
    passwords = dict(
        re.findall(
            r'class="mono">([a-z.]+)</td>.*?<code class="secret-value">([^<]+)</code>', done.text
        )
    )
    assert set(passwords) == {"wang.fang", "zhao.lei"}
    assert 'href="data:text/csv;charset=utf-8,' in done.text
    assert log_in(shequyun_app, "zhao.lei", passwords["zhao.lei"]).status_code == 303


# -- tokens -----------------------------------------------------------------------------------


def test_a_token_is_issued_shown_once_and_revoked(shequyun_actors, shequyun_kernel, shequyun_app):
    cadre = shequyun_actors.social_worker("310115004001")
    district = shequyun_actors.district_admin("310115000000").portal()
    form = district.get(f"/admin/tokens/new?grant_id={cadre.grant.id}")
    assert form.status_code == 200 and "潍坊一村居委会 · 社工" in form.text
    bad = district.post(
        "/admin/tokens/new",
        data={"grant_id": str(cadre.grant.id), "name": "", "expires_in_days": "400"},
    )
    assert bad.status_code == 422
    assert field_error(bad.text, "name") and field_error(bad.text, "expires_in_days")
    # A cadre sees full ID numbers, the district admin does not: no token for the cadre's grant.
    reveal = shequyun_actors.cadre("310115004001")
    refused = district.post(
        "/admin/tokens/new",
        data={"grant_id": str(reveal.grant.id), "name": "对接", "expires_in_days": "30"},
    )
    assert refused.status_code in (403, 422) and "令牌只能由持有人本人创建" in refused.text
    tokens_before = count(shequyun_kernel, ApiToken)
    made = district.post(
        "/admin/tokens/new",
        data={"grant_id": str(cadre.grant.id), "name": "民政局数据对接", "expires_in_days": "30"},
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = shown_secret(made.text, "token-secret")
    assert count(shequyun_kernel, ApiToken) == tokens_before + 1
    api = TestClient(shequyun_app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/me").status_code == 200
    listing = district.get(f"/admin/tokens?user_id={cadre.user.id}")
    assert "民政局数据对接" in listing.text and secret not in listing.text
    with Session(shequyun_kernel.engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.name == "民政局数据对接")).one()
    revoked = district.post(f"/admin/tokens/{token.id}/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    assert api.get("/api/v1/me").status_code == 401


def test_tokens_outside_the_scope_are_not_found(shequyun_actors):
    xuhui = shequyun_actors.cadre("310104003001")
    pudong = shequyun_actors.district_admin("310115000000").portal()
    assert pudong.get(f"/admin/tokens/new?grant_id={xuhui.grant.id}").status_code == 404
    assert f"/admin/users/{xuhui.user.id}" not in pudong.get("/admin/tokens").text
    street = shequyun_actors.street_admin("310115004000").portal()
    assert street.get("/admin/tokens").status_code == 403  # street admins hold no tokens.manage
