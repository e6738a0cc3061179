"""The development adapter writes the 居社互动 plugin's SMS codes to the log."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("shequyun_interaction")

API = "/api/v1/plugins/interaction"


@pytest.fixture
def shequyun_settings():
    return {"plugin_settings": {"interaction": {"phone_proof": "sms"}}}


def test_a_signup_code_appears_in_the_log(shequyun_client, drain_events, caplog):
    caplog.set_level(logging.WARNING, logger="shequyun.plugin.sms_console")
    signed = shequyun_client.post(
        f"{API}/auth/signup", json={"phone": "13812345678", "password": "Resident-pass-1"}
    )
    assert signed.status_code == 201, signed.text
    drain_events()
    [line] = [r.getMessage() for r in caplog.records if "未发出" in r.getMessage()]
    assert "13812345678" in line and "验证码" in line
    code = line.split("验证码 ", 1)[1][:6]
    login = shequyun_client.post(
        f"{API}/auth/login", json={"phone": "13812345678", "password": "Resident-pass-1"}
    )
    headers = {"X-Resident-Token": login.json()["token"]}
    confirmed = shequyun_client.post(
        f"{API}/auth/phone/confirm", headers=headers, json={"code": code}
    )
    assert confirmed.status_code == 200, confirmed.text


def test_it_warns_at_start_up_that_it_is_not_for_production(shequyun_kernel, caplog):
    from shequyun_sms_console import WARNING

    record = shequyun_kernel.host.records["sms_console"]
    assert record.active, record.reason
    caplog.set_level(logging.WARNING, logger="shequyun.plugin.sms_console")
    shequyun_kernel.host.call(record, "on_startup", platform=shequyun_kernel.platform)
    assert WARNING in caplog.text
