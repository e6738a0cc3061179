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


def test_a_reminder_to_a_cadre_with_a_phone_appears_in_the_log(
    shequyun_client, shequyun_actors, shequyun_kernel, drain_events, caplog
):
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session

    from shequyun.identity.models import User

    caplog.set_level(logging.WARNING, logger="shequyun.plugin.sms_console")
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310115004001")
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.phone = "13900000005"
        session.add(user)
        session.commit()
    form = {
        "title": "走访",
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
        "ui": {"fields": {"n": {"label": "户数"}}},
    }
    form_id = shequyun_client.post("/api/v1/forms", headers=bureau.auth, json=form).json()["id"]
    shequyun_client.post(f"/api/v1/forms/{form_id}/versions/1/publish", headers=bureau.auth)
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    campaign = shequyun_client.post(
        "/api/v1/campaigns",
        headers=bureau.auth,
        json={"form_id": form_id, "version": 1, "deadline": deadline, "targets": ["310115004001"]},
    ).json()
    shequyun_client.post(f"/api/v1/campaigns/{campaign['id']}/remind", headers=bureau.auth)
    drain_events()
    lines = [r.getMessage() for r in caplog.records if "未发出" in r.getMessage()]
    assert any("13900000005" in line and "催报提醒：走访" in line for line in lines), lines
