"""Resident accounts: sign up, verify against the resident database, codes from the committee."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from .conftest import API, PASSWORD, WEIFANG1, WEIFANG2


def test_a_resident_signs_up_and_verifies_with_name_id_number_and_phone(town):
    wang = town.resident("王秀英", building="12")
    app = town.account(wang.phone)
    me = app.get("/me").json()
    assert me["account"]["verified"] is False and me["resident"] is None
    done = app.post("/me/verify", {"name": "王秀英", "id_number": wang.id_number})
    assert done.status_code == 200, done.text
    resident = done.json()["resident"]
    assert resident["id"] == wang.id
    assert resident["committee"] == {"code": WEIFANG1, "name": "潍坊一村居委会"}
    assert resident["building"] == "12"
    # Only placement comes back: no ID number, phone or birth date.
    assert set(resident) == {"id", "name", "committee", "address", "building", "household_number"}


def test_verification_needs_all_three_to_match_and_says_nothing_more(town):
    wang = town.resident("王秀英")
    app = town.account(wang.phone)
    wrong_name = app.post("/me/verify", {"name": "王秀", "id_number": wang.id_number})
    assert wrong_name.status_code == 422
    other = town.resident("李建国")
    wrong_id = app.post("/me/verify", {"name": "王秀英", "id_number": other.id_number})
    assert wrong_id.status_code == 422
    assert wrong_name.json()["error"]["message"] == wrong_id.json()["error"]["message"]
    # A phone not on the record cannot verify even with the right name and ID number.
    stranger = town.account("13999999999")
    assert (
        stranger.post("/me/verify", {"name": "王秀英", "id_number": wang.id_number}).status_code
        == 422
    )
    assert app.get("/me").json()["resident"] is None


def test_verification_attempts_are_throttled(town):
    wang = town.resident("王秀英")
    app = town.account(wang.phone)
    for _ in range(5):
        assert (
            app.post("/me/verify", {"name": "错", "id_number": wang.id_number}).status_code == 422
        )
    locked = app.post("/me/verify", {"name": "王秀英", "id_number": wang.id_number})
    assert locked.status_code == 403
    assert locked.json()["error"]["code"] == "locked"


def test_a_cadre_issues_a_one_time_code_for_a_resident_whose_phone_differs(town):
    zhang = town.resident("张阿婆", phone="02158881234")
    app = town.account("13700000001")  # the daughter's phone, not on the record
    issued = town.client.post(
        f"{API}/manage/codes", headers=town.cadre().auth, json={"resident_id": zhang.id}
    )
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    assert len(code) == 8
    used = app.post("/me/verify", {"code": code, "name": "张阿婆"})
    assert used.status_code == 200, used.text
    assert used.json()["resident"]["name"] == "张阿婆"
    again = town.account("13700000002").post("/me/verify", {"code": code, "name": "张阿婆"})
    assert again.status_code == 422


def test_a_code_is_kept_under_the_data_key_so_the_table_does_not_give_it_away(
    town, shequyun_kernel
):
    """Eight digits hashed with plain SHA-256 are found again by trying all 10^8 of them: a
    reader of the table (a backup, a replica) learnt every live code. Kept under the data key,
    the stored hash says nothing without it. Codes issued before still redeem until they
    expire."""
    from datetime import timedelta

    from shequyun_interaction.models import VerificationCode
    from sqlmodel import select

    zhang = town.resident("张阿婆", phone="02158881234")
    issued = town.client.post(
        f"{API}/manage/codes", headers=town.cadre().auth, json={"resident_id": zhang.id}
    )
    code = issued.json()["code"]
    platform = shequyun_kernel.platform
    with platform.session() as session:
        row = session.exec(select(VerificationCode)).one()
        kept = row.code_hash
        unit_id, issuer = row.unit_id, row.issued_by_user_id
    for guess in (code, f"shequyun-interaction-code:{code}"):
        assert kept != hashlib.sha256(guess.encode()).hexdigest()
    assert (
        town.account("13700000001").post("/me/verify", {"code": code, "name": "张阿婆"}).status_code
        == 200
    )

    old_code = "12345678"  # issued before the change, kept as it was then
    wang = town.resident("王老伯", phone="02158881235")
    with platform.session() as session:
        session.add(
            VerificationCode(
                code_hash=hashlib.sha256(
                    f"shequyun-interaction-code:{old_code}".encode()
                ).hexdigest(),
                resident_id=wang.id,
                unit_id=unit_id,
                issued_by_user_id=issuer,
                issued_by="cadre",
                expires_at=datetime.now(UTC) + timedelta(days=3),
            )
        )
    used = town.account("13700000002").post("/me/verify", {"code": old_code, "name": "王老伯"})
    assert used.status_code == 200, used.text


def test_a_cadre_cannot_issue_codes_outside_their_committee(town):
    far = town.resident("赵先生", unit=WEIFANG2)
    issued = town.client.post(
        f"{API}/manage/codes", headers=town.cadre(WEIFANG1).auth, json={"resident_id": far.id}
    )
    assert issued.status_code == 404


def test_one_resident_links_to_one_account(town):
    wang = town.resident("王秀英")
    town.verified(wang)
    second = town.account("13700000009")
    code = town.client.post(
        f"{API}/manage/codes", headers=town.cadre().auth, json={"resident_id": wang.id}
    ).json()["code"]
    linked = second.post("/me/verify", {"code": code, "name": "王秀英"})
    assert linked.status_code == 409


def test_wrong_passwords_lock_the_account_for_a_while(town):
    town.account("13600000001")
    for _ in range(5):
        bad = town.client.post(
            f"{API}/auth/login", json={"phone": "13600000001", "password": "wrong-pass-1"}
        )
        assert bad.status_code == 422
    locked = town.client.post(
        f"{API}/auth/login", json={"phone": "13600000001", "password": PASSWORD}
    )
    assert locked.status_code == 403


def test_sign_up_refuses_bad_input_and_duplicates(town):
    bad = town.client.post(f"{API}/auth/signup", json={"phone": "123", "password": "short"})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"phone", "password"}
    town.account("13600000002")
    again = town.client.post(
        f"{API}/auth/signup", json={"phone": "13600000002", "password": PASSWORD}
    )
    assert again.status_code == 409


def test_resident_tokens_are_not_staff_tokens(town):
    app = town.account("13600000003")
    # The kernel's API does not know resident tokens, and resident routes want one.
    assert town.client.get("/api/v1/me", headers=app.headers).status_code == 401
    assert town.client.get(f"{API}/me").status_code == 401
    out = app.post("/auth/logout")
    assert out.status_code == 204
    assert app.get("/me").status_code == 401


def test_a_resident_cannot_sign_up_with_a_common_password_or_their_phone(shequyun_client):
    for password, reason in [
        ("12345678a", "密码过于常见"),
        ("pw13900001111", "密码不能包含用户名或手机号"),
        ("社区云-2026x", "密码不能包含平台名称"),
    ]:
        refused = shequyun_client.post(
            "/api/v1/plugins/interaction/auth/signup",
            json={"phone": "13900001111", "password": password},
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "password" and reason in error["message"], error


def test_the_code_list_names_residents_masked_not_by_their_internal_number(town):
    zhang = town.resident("张阿婆", phone="02158881234")
    cadre = town.cadre()
    issued = town.client.post(
        f"{API}/manage/codes", headers=cadre.auth, json={"resident_id": zhang.id}
    )
    assert issued.status_code == 201, issued.text
    page = cadre.portal().get("/plugins/interaction/manage/codes")
    assert page.status_code == 200
    recent = page.text.split("最近发放", 1)[1]
    assert "张**" in recent
    assert "张阿婆" not in recent and f">{zhang.id}<" not in recent
    assert "居民编号" not in recent


def test_the_code_list_names_who_issued_each_code_by_name(town):
    cadre = town.cadre()
    issued = town.client.post(
        f"{API}/manage/codes",
        headers=cadre.auth,
        json={"resident_id": town.resident("张阿婆", phone="02158881234").id},
    )
    assert issued.status_code == 201, issued.text
    recent = cadre.portal().get("/plugins/interaction/manage/codes").text.split("最近发放", 1)[1]
    assert f">{cadre.user.display_name}<" in recent
    assert f">{cadre.username}<" not in recent


def test_full_width_digits_are_the_same_phone_and_id_number_other_scripts_are_refused(town):
    """Sign-up and verification take what a Chinese input method types (０-９) as the ASCII
    digits, and refuse other scripts' digits as bad input before any attempt is counted."""
    wide = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    wang = town.resident("王秀英")
    app = town.account(wang.phone)
    again = town.client.post(
        f"{API}/auth/signup", json={"phone": wang.phone.translate(wide), "password": PASSWORD}
    )
    assert again.status_code == 409  # the same phone, already signed up
    refused = town.client.post(
        f"{API}/auth/signup", json={"phone": "13600000003".translate(arabic), "password": PASSWORD}
    )
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "phone"
    for _ in range(6):  # more than the account's daily tries: none of these is counted
        bad = app.post(
            "/me/verify", {"name": "王秀英", "id_number": wang.id_number.translate(arabic)}
        )
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "id_number"
    done = app.post("/me/verify", {"name": "王秀英", "id_number": wang.id_number.translate(wide)})
    assert done.status_code == 200, done.text
