"""系统管理 in-process: the landing page, org units (browse, search, change, import), scope, CSRF."""

from __future__ import annotations

import re

from sqlmodel import Session, func, select

from shequyun.identity.models import AuditEntry, OrgUnit, OrgUnitChange


def unit(kernel, code):
    with Session(kernel.engine) as session:
        return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def count(kernel, model):
    with Session(kernel.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def field_error(html: str, field: str) -> str:
    """The error shown next to the form field ``field`` (its id is f-<field>-error)."""
    match = re.search(rf'id="f-{field}-error">([^<]*)<', html)
    assert match, f"no error next to {field}"
    return match.group(1)


# -- the landing page ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(shequyun_client, shequyun_units):
    for path in ("/admin", "/admin/org", "/admin/org/310115000000", "/admin/users", "/admin/audit"):
        response = shequyun_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_the_landing_page_offers_what_each_admin_may_use(shequyun_actors):
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get("/admin")
    assert page.status_code == 200
    for area in ("组织架构", "用户与授权", "审计日志"):
        assert area in page.text
    assert "/admin/plugins" not in page.text and "/admin/tokens" not in page.text
    assert 'href="/admin"' in page.text  # the nav entry 系统管理

    platform = shequyun_actors.platform_admin().portal().get("/admin")
    assert "/admin/plugins" in platform.text and "/admin/tokens" in platform.text


def test_a_cadre_has_no_admin_entry_and_is_refused(shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre("310115004001").portal()
    assert 'href="/admin"' not in cadre.get("/").text
    assert cadre.get("/admin").status_code == 403
    assert cadre.get("/admin/users").status_code == 403
    with Session(shequyun_kernel.engine) as session:
        denied = session.exec(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
    assert any(e.detail.get("path") == "/admin" for e in denied)


# -- browsing -------------------------------------------------------------------------------


def test_a_district_admin_browses_from_their_district(shequyun_actors):
    admin = shequyun_actors.district_admin("310115000000").portal()
    page = admin.get("/admin/org")
    assert page.status_code == 200
    assert "<h1>浦东新区" in page.text
    assert "潍坊新村街道" in page.text and "陆家嘴街道" in page.text
    assert "徐汇区" not in page.text  # the breadcrumbs stop at the admin's own unit
    street = admin.get("/admin/org/310115004000")
    assert 'href="/admin/org/310115000000">浦东新区</a>' in street.text  # way up
    assert "潍坊一村居委会" in street.text and "潍坊二村居委会" in street.text
    assert "设立：潍坊新村街道" in street.text  # history


def test_search_finds_units_by_name_within_the_subtree(shequyun_actors):
    admin = shequyun_actors.district_admin("310115000000").portal()
    found = admin.get("/admin/org/310115000000", params={"q": "二村"})
    assert "潍坊二村居委会" in found.text and "潍坊一村居委会" not in found.text
    assert "查找结果" in found.text
    too_long = admin.get("/admin/org/310115000000", params={"q": "长" * 41})
    assert too_long.status_code == 422
    assert field_error(too_long.text, "q")


def test_a_street_admin_cannot_see_a_sibling_street(shequyun_actors):
    street = shequyun_actors.street_admin("310115004000").portal()
    assert street.get("/admin/org/310115004001").status_code == 200
    for code in ("310115005000", "310115005001", "310104000000", "999999999999", "abc"):
        assert street.get(f"/admin/org/{code}").status_code == 404, code
    # Street admins do not manage org units at all.
    assert street.get("/admin/org/310115004001/rename").status_code == 403


def test_changes_outside_the_subtree_answer_not_found(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    response = admin.post("/admin/org/310104003000/rename", data={"name": "改名", "version": "1"})
    assert response.status_code == 404
    assert unit(shequyun_kernel, "310104003000").name == "天平路街道"


# -- changing units -------------------------------------------------------------------------


def test_an_admin_creates_a_committee(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    form = admin.get("/admin/org/310115004000/new")
    assert "将在潍坊新村街道之下设立一个居村委级单位" in form.text
    response = admin.post(
        "/admin/org/310115004000/new",
        data={"code": "310115004003", "name": "潍坊三村居委会", "opened_on": "2025-01-01"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/org/310115004003?done=created"
    created = unit(shequyun_kernel, "310115004003")
    assert created.level == "committee" and created.opened_on.isoformat() == "2025-01-01"
    assert "已设立该单位" in admin.get(response.headers["location"]).text


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_written(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.district_admin("310115000000").portal()
    before = count(shequyun_kernel, OrgUnit)
    bad_code = admin.post(
        "/admin/org/310115004000/new", data={"code": "31011500400", "name": "潍坊三村居委会"}
    )
    assert bad_code.status_code == 422
    assert field_error(bad_code.text, "code") == "组织编码应为 12 位数字"
    assert 'aria-invalid="true"' in bad_code.text
    assert 'value="潍坊三村居委会"' in bad_code.text  # what was typed is kept
    bad_date = admin.post(
        "/admin/org/310115004000/new",
        data={"code": "310115004003", "name": "潍坊三村居委会", "opened_on": "2025-13-01"},
    )
    assert bad_date.status_code == 422
    assert field_error(bad_date.text, "opened_on")
    taken = admin.post("/admin/org/310115004000/new", data={"code": "310115004001", "name": "重复"})
    assert taken.status_code == 409
    assert "已被使用" in field_error(taken.text, "code")
    no_date = admin.post("/admin/org/310115004001/close", data={"version": "1"})
    assert no_date.status_code == 422
    assert field_error(no_date.text, "closed_on") == "请填写日期"
    assert count(shequyun_kernel, OrgUnit) == before


def test_rename_checks_the_version_it_was_opened_with(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    form = admin.get("/admin/org/310115004001/rename")
    assert 'name="version" value="1"' in form.text
    done = admin.post(
        "/admin/org/310115004001/rename",
        data={"name": "潍坊一村第一居委会", "version": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    stale = admin.post(
        "/admin/org/310115004001/rename", data={"name": "又一个名字", "version": "1"}
    )
    assert stale.status_code == 409
    assert "已被他人修改（当前版本 2）" in stale.text
    assert 'name="version" value="2"' in stale.text  # a second try goes through
    assert unit(shequyun_kernel, "310115004001").name == "潍坊一村第一居委会"
    history = admin.get("/admin/org/310115004001").text
    assert "更名：潍坊一村居委会 → 潍坊一村第一居委会" in history


def test_move_and_close(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    moved = admin.post(
        "/admin/org/310115004002/move",
        data={"parent": "310115005000", "version": "1", "on": "2025-03-01"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert (
        unit(shequyun_kernel, "310115004002").parent_id == unit(shequyun_kernel, "310115005000").id
    )
    wrong_level = admin.post(
        "/admin/org/310115005001/move", data={"parent": "310115000000", "version": "1"}
    )
    assert wrong_level.status_code == 422
    assert "上级应为街镇级单位" in field_error(wrong_level.text, "parent")
    still_open = admin.post(
        "/admin/org/310115005000/close", data={"closed_on": "2025-06-30", "version": "1"}
    )
    assert still_open.status_code == 422
    assert "仍有 2 个下级" in field_error(still_open.text, "closed_on")
    closed = admin.post(
        "/admin/org/310115005001/close",
        data={"closed_on": "2025-06-30", "version": "1"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert unit(shequyun_kernel, "310115005001").closed_on.isoformat() == "2025-06-30"
    street = admin.get("/admin/org/310115005000").text
    assert "梅园一村居委会" not in street  # closed units are left out by default
    assert "梅园一村居委会" in admin.get("/admin/org/310115005000?status=all").text


def test_forms_need_the_csrf_token(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    del admin.headers["X-CSRF-Token"]
    refused = admin.post(
        "/admin/org/310115004000/new", data={"code": "310115004003", "name": "潍坊三村居委会"}
    )
    assert refused.status_code == 403
    assert unit(shequyun_kernel, "310115004003") is None
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin").text).group(1)
    accepted = admin.post(
        "/admin/org/310115004000/new",
        data={"code": "310115004003", "name": "潍坊三村居委会", "csrf_token": token},
        follow_redirects=False,
    )
    assert accepted.status_code == 303


# -- importing a roster ---------------------------------------------------------------------


def _upload(client, content: str, filename: str = "roster.csv"):
    return client.post(
        "/admin/org/import",
        files={"file": (filename, content.encode("utf-8"), "text/csv")},
    )


def test_a_roster_is_checked_then_imported(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin("310115000000").portal()
    before = count(shequyun_kernel, OrgUnit)
    bad = _upload(
        admin,
        "编码,名称,层级,上级编码\n"
        "310115006000,花木街道,街道,310115000000\n"
        "310115006001,,居委会,310115006000\n"
        "310104003009,越界居委会,居委会,310104003000\n",
    )
    assert bad.status_code == 200
    assert "文件中有 2 处问题" in bad.text
    assert "名称不能为空" in bad.text and "310104003000 不存在" in bad.text
    assert "/admin/org/import/confirm" not in bad.text
    assert count(shequyun_kernel, OrgUnit) == before

    good = _upload(
        admin,
        "编码,名称,层级,上级编码\n"
        "310115006000,花木街道,街道,310115000000\n"
        "310115006001,花木一居委会,居委会,310115006000\n",
    )
    assert "检查通过：将新建 2 个单位" in good.text
    assert count(shequyun_kernel, OrgUnit) == before  # a dry run writes nothing
    token = re.search(r'name="token" value="([^"]+)"', good.text).group(1)
    done = admin.post("/admin/org/import/confirm", data={"token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert count(shequyun_kernel, OrgUnit) == before + 2
    assert "已导入 2 个单位" in admin.get(done.headers["location"]).text
    again = admin.post("/admin/org/import/confirm", data={"token": token})
    assert again.status_code == 422  # a token is used once
    assert count(shequyun_kernel, OrgUnit) == before + 2
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "org.units.imported")
        ).one()
        assert (
            session.exec(
                select(func.count())
                .select_from(OrgUnitChange)
                .where(OrgUnitChange.action == "created")
            ).one()
            >= before + 2
        )


def test_an_unreadable_roster_is_refused_with_the_reason(shequyun_actors):
    admin = shequyun_actors.district_admin("310115000000").portal()
    empty = admin.post("/admin/org/import", files={"file": ("r.csv", b"", "text/csv")})
    assert empty.status_code == 422
    assert field_error(empty.text, "file")
    headers = _upload(admin, "a,b\n1,2\n")
    assert headers.status_code == 422
    assert "缺少列" in field_error(headers.text, "file")


def test_another_admin_cannot_confirm_my_upload(shequyun_actors, shequyun_kernel):
    mine = shequyun_actors.district_admin("310115000000").portal()
    good = _upload(mine, "编码,名称,层级,上级编码\n310115006000,花木街道,街道,310115000000\n")
    token = re.search(r'name="token" value="([^"]+)"', good.text).group(1)
    other = shequyun_actors.district_admin("310115000000").portal()
    assert other.post("/admin/org/import/confirm", data={"token": token}).status_code == 422
    assert unit(shequyun_kernel, "310115006000") is None


def test_the_pages_speak_english_when_asked(shequyun_actors):
    admin = shequyun_actors.district_admin("310115000000").portal()
    admin.cookies.set("shequyun_lang", "en")
    landing = admin.get("/admin")
    assert "<h1>Administration</h1>" in landing.text
    assert "Org units" in landing.text and "You administer 浦东新区." in landing.text
    unit_page = admin.get("/admin/org/310115004000")
    assert "Units below" in unit_page.text and "Find below 潍坊新村街道" in unit_page.text
