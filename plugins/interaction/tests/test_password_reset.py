"""忘记密码: a verified resident who forgot their password gets a 核验码 at the committee and sets
a new one, on the pages or through the app's API. Every session of the account ends, a login
lock is lifted, and whatever was wrong (phone, name, code) is refused alike."""

from __future__ import annotations

from starlette.testclient import TestClient

from .conftest import API, PASSWORD, WEIFANG1, WEIFANG2
from .test_audit_trail import PASSWORD_ROUTES, trail_for
from .test_pages import BASE, submit

RESET = ("interaction.password_reset", "interaction_account")
NEW = "Xin-mima-2026"


def issue(town, resident, unit=WEIFANG1):
    issued = town.client.post(
        f"{API}/manage/codes", headers=town.cadre(unit).auth, json={"resident_id": resident.id}
    )
    assert issued.status_code == 201, issued.text
    return issued.json()["code"]


def log_in(town, phone, password):
    return town.client.post(f"{API}/auth/login", json={"phone": phone, "password": password})


def reset(town, **body):
    return town.client.post(f"{API}/auth/password/reset", json=body)


def test_a_verified_resident_sets_a_new_password_with_a_code_from_the_committee(town):
    wang = town.resident("王秀英")
    phone_app = town.verified(wang)  # signed in on their old phone
    code = issue(town, wang)

    done = reset(town, phone=wang.phone, name="王秀英", code=code, password=NEW, password2=NEW)
    assert done.status_code == 204, done.text

    assert log_in(town, wang.phone, PASSWORD).status_code == 422  # the old password is gone
    assert log_in(town, wang.phone, NEW).status_code == 200
    assert phone_app.get("/me").status_code == 401  # every old session ended
    # The code is used up.
    again = reset(town, phone=wang.phone, name="王秀英", code=code, password=NEW, password2=NEW)
    assert again.status_code == 422


def test_a_wrong_phone_name_or_code_is_refused_alike_and_changes_nothing(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    li = town.resident("李建国")
    town.verified(li)
    code = issue(town, wang)
    base = {"phone": wang.phone, "name": "王秀英", "code": code, "password": NEW, "password2": NEW}
    wrong_name = reset(town, **{**base, "name": "王秀"})
    # The code is Wang's: Li's account cannot be taken with it, even with Wang's name.
    other_account = reset(town, **{**base, "phone": li.phone})
    wrong_code = reset(town, **{**base, "code": "00000000" if code != "00000000" else "11111111"})
    refusals = (wrong_name, other_account, wrong_code)
    assert [r.status_code for r in refusals] == [422] * 3
    assert len({r.json()["error"]["message"] for r in refusals}) == 1
    assert {r.json()["error"]["field"] for r in refusals} == {"code"}
    assert log_in(town, wang.phone, PASSWORD).status_code == 200
    assert log_in(town, li.phone, PASSWORD).status_code == 200
    # Three wrong tries of one code spend it (CODE_TRIES), whoever tried: two above, one here.
    assert reset(town, **{**base, "name": "王秀兰"}).status_code == 422
    spent = reset(town, **base)
    assert spent.status_code == 422


def test_the_new_password_follows_the_sign_up_rules_and_nothing_is_spent_on_a_bad_one(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    code = issue(town, wang)
    weak = reset(
        town, phone=wang.phone, name="王秀英", code=code, password="12345678", password2="12345678"
    )
    assert weak.status_code == 422
    assert {d["field"] for d in weak.json()["error"]["details"]} == {"password"}
    mismatch = reset(
        town, phone=wang.phone, name="王秀英", code=code, password=NEW, password2=NEW + "x"
    )
    assert {d["field"] for d in mismatch.json()["error"]["details"]} == {"password2"}
    # Neither counted a try of the code: it still works.
    done = reset(town, phone=wang.phone, name="王秀英", code=code, password=NEW, password2=NEW)
    assert done.status_code == 204, done.text


def test_an_account_not_linked_to_the_codes_resident_is_not_reset(town):
    """A code proves who the person is; only the account linked to them may be reset by it.
    An unverified account (no resident yet) is not, whatever its phone."""
    zhang = town.resident("张阿婆", phone="02158881234")
    town.account("13700000001")  # signed up, never verified
    code = issue(town, zhang)
    taken = reset(town, phone="13700000001", name="张阿婆", code=code, password=NEW, password2=NEW)
    assert taken.status_code == 422
    assert log_in(town, "13700000001", PASSWORD).status_code == 200


def test_a_reset_lifts_a_login_lock(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    for _ in range(5):
        log_in(town, wang.phone, "wrong-password-1")
    assert log_in(town, wang.phone, PASSWORD).json()["error"]["code"] == "locked"
    code = issue(town, wang)
    assert (
        reset(
            town, phone=wang.phone, name="王秀英", code=code, password=NEW, password2=NEW
        ).status_code
        == 204
    )
    assert log_in(town, wang.phone, NEW).status_code == 200


def test_a_reset_is_audited_through_both_doors_without_the_code_or_the_password(town):
    """The entry's detail is exactly the declared via and masked phone (the trail refuses any
    other key), so neither the code nor the password can be in it."""
    wang = town.resident("王秀英")
    town.verified(wang)
    li = town.resident("李建国")
    town.verified(li)
    wang_code, li_code = issue(town, wang), issue(town, li)
    trail = trail_for(town)
    masked = f"{wang.phone[:3]}****{wang.phone[-4:]}"
    done = trail.step(
        f"POST {API}/auth/password/reset",
        reset(town, phone=wang.phone, name="王秀英", code=wang_code, password=NEW, password2=NEW),
        status=204,
        audit=[(*RESET, {"via": "code", "phone": masked})],
    )
    assert done.content == b""
    browser = TestClient(town.client.app)
    trail.step(
        f"POST {BASE}/password",
        submit(
            browser,
            f"{BASE}/password",
            {
                "phone": li.phone,
                "name": "李建国",
                "code": li_code,
                "password": NEW,
                "password2": NEW,
            },
        ),
        status=303,
        audit=[(*RESET, {"via": "code", "phone": f"{li.phone[:3]}****{li.phone[-4:]}"})],
    )
    trail.check_walked(PASSWORD_ROUTES)


def test_the_sms_way_is_off_where_the_plugin_sends_no_sms(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    sms = town.client.post(f"{API}/auth/password/sms", json={"phone": wang.phone})
    assert sms.status_code == 409
    browser = TestClient(town.client.app)
    page = browser.get(f"{BASE}/password")
    assert "短信验证码" not in page.text
    assert browser.get(f"{BASE}/password/sms", follow_redirects=False).status_code == 303


def test_on_the_pages_the_login_page_leads_to_the_reset_and_back(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    browser = TestClient(town.client.app)
    login = browser.get(f"{BASE}/login")
    assert f'href="{BASE}/password"' in login.text and "忘记密码？" in login.text

    code = issue(town, wang)
    bad = submit(
        browser,
        f"{BASE}/password",
        {"phone": wang.phone, "name": "王秀英", "code": code, "password": NEW, "password2": "x"},
    )
    assert bad.status_code == 422
    assert "两次输入的密码不一致" in bad.text
    assert NEW not in bad.text and code not in bad.text  # secrets are not sent back
    assert wang.phone in bad.text  # the rest stays filled in

    done = submit(
        browser,
        f"{BASE}/password",
        {"phone": wang.phone, "name": "王秀英", "code": code, "password": NEW, "password2": NEW},
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("/login?reset=1")
    assert "密码已重置，请用新密码登录。" in browser.get(done.headers["location"]).text
    signed = submit(browser, f"{BASE}/login", {"phone": wang.phone, "password": NEW})
    assert signed.status_code == 303


def test_a_cadre_of_another_committee_cannot_issue_the_code(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    refused = town.client.post(
        f"{API}/manage/codes", headers=town.cadre(WEIFANG2).auth, json={"resident_id": wang.id}
    )
    assert refused.status_code == 404
