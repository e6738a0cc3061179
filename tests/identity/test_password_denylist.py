"""Passwords people pick first are refused, for staff and for residents, in Chinese."""

from __future__ import annotations

import pytest
from shequyun_sdk.passwords import is_common_password, weak_password_reason

from shequyun.identity.passwords import check_policy


@pytest.mark.parametrize(
    "password",
    ["Password", "password1", "Aa123456", "P@ssw0rd", "Qwerty123", "woaini1314", "Ａａ123456"],
)
def test_common_passwords_are_refused_for_staff(password):
    assert check_policy(password, "wang.fang") == "密码过于常见，容易被猜中，请换一个"


@pytest.mark.parametrize("password", ["Shequyun1", "my-SHEQUYUN-2026", "社区云Abc123"])
def test_the_platforms_name_is_refused(password):
    assert check_policy(password, "wang.fang") == "密码不能包含平台名称（社区云、shequyun）"


def test_the_username_inside_the_password_is_refused():
    assert check_policy("Wang.Fang-2026", "wang.fang") == "密码不能包含用户名或手机号"
    assert (
        weak_password_reason("x13812345678!", names=["13812345678"]) == "密码不能包含用户名或手机号"
    )
    # A two-letter name is not looked for inside a password.
    assert check_policy("Lu-7f3k-Rq9z", "lu") is None


def test_a_password_of_ones_own_passes():
    assert check_policy("Huangpu-Jiang-47", "wang.fang") is None
    assert not is_common_password("Huangpu-Jiang-47")


def test_the_list_holds_thousands_of_passwords():
    from shequyun_sdk.passwords import _common

    assert len(_common()) > 3000


def test_a_staff_member_cannot_choose_a_common_password_at_the_portal(shequyun_actors):
    from shequyun.testing import TEST_PASSWORD

    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    page = portal.get("/account/password")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = portal.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": TEST_PASSWORD,
            "new": "Shequyun1",
            "repeat": "Shequyun1",
        },
    )
    assert answer.status_code == 422 and "密码不能包含平台名称" in answer.text
