"""忘记密码 by SMS, where the plugin proves phones by SMS (``phone_proof = "sms"``): a code goes
to the account's phone, with the sign-up codes' limits, and sets a new password once."""

from __future__ import annotations

from starlette.testclient import TestClient

from . import test_phone_proof as sms
from .conftest import API, PASSWORD
from .test_audit_trail import PASSWORD_SMS_ROUTES, trail_for
from .test_pages import BASE, submit
from .test_phone_proof import SENT, Gateway, sign_up, wrong

# The SMS setting, its stand-in gateway and the helpers that read what it sent.
shequyun_plugins = sms.shequyun_plugins
shequyun_settings = sms.shequyun_settings
inbox = sms.inbox
clock = sms.clock

NEW = "Xin-mima-2026"
RESET = ("interaction.password_reset", "interaction_account")


def send(town, phone):
    return town.client.post(f"{API}/auth/password/sms", json={"phone": phone})


def reset(town, phone, code, password=NEW, password2=NEW):
    return town.client.post(
        f"{API}/auth/password/reset-sms",
        json={"phone": phone, "code": code, "password": password, "password2": password2},
    )


def log_in(town, phone, password):
    return town.client.post(f"{API}/auth/login", json={"phone": phone, "password": password})


def test_a_resident_resets_the_password_with_a_code_sent_to_their_phone(town, inbox, clock):
    _, app = sign_up(town, "13812340001")
    clock.back("13812340001", 61)  # past the sign-up code's cool-down
    sent = send(town, "13812340001")
    assert sent.status_code == 202, sent.text
    assert sent.json()["sent_to"] == "138****0001"
    code = inbox("13812340001")
    message = Gateway.sent[-1]
    assert message["purpose"] == "reset" and "重置居社互动的登录密码" in message["text"]

    assert reset(town, "13812340001", wrong(code)).status_code == 422
    assert log_in(town, "13812340001", PASSWORD).status_code == 200  # nothing changed yet
    done = reset(town, "13812340001", code)
    assert done.status_code == 204, done.text
    assert log_in(town, "13812340001", NEW).status_code == 200
    assert app.get("/me").status_code == 401  # the old sessions ended
    assert reset(town, "13812340001", code).status_code == 422  # used up


def test_a_sign_up_code_does_not_reset_a_password(town, inbox):
    """The codes are kept apart by purpose: the code that confirmed the phone at sign-up (or
    any sign-up code) is not a reset code."""
    sign_up(town, "13812340002")
    signup_code = inbox("13812340002")
    refused = reset(town, "13812340002", signup_code)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "no_code"


def test_an_unregistered_phone_is_told_so_and_sent_nothing(town, inbox):
    before = len(Gateway.sent)
    refused = send(town, "13812340999")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "phone"
    assert len(Gateway.sent) == before


def test_reset_codes_share_the_phones_cool_down(town, inbox):
    sign_up(town, "13812340003")  # sign-up sent a code just now
    soon = send(town, "13812340003")
    assert soon.status_code == 429
    assert soon.json()["error"]["code"] == "sms_cool_down"


def test_the_pages_send_the_code_then_take_it_with_the_new_password(town, inbox, clock):
    sign_up(town, "13812340004")
    clock.back("13812340004", 61)
    browser = TestClient(town.client.app)
    choice = browser.get(f"{BASE}/password")
    assert f'href="{BASE}/password/sms"' in choice.text
    sent = submit(browser, f"{BASE}/password/sms", {"action": "send", "phone": "13812340004"})
    assert sent.status_code == 200, sent.text
    assert "验证码已发送至 138****0004" in sent.text
    assert 'name="code"' in sent.text
    done = submit(
        browser,
        f"{BASE}/password/sms",
        {
            "action": "reset",
            "phone": "13812340004",
            "code": inbox("13812340004"),
            "password": NEW,
            "password2": NEW,
        },
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("/login?reset=1")
    assert log_in(town, "13812340004", NEW).status_code == 200


def test_sms_resets_are_audited_through_both_doors(town, inbox, clock):
    sign_up(town, "13812340005")
    sign_up(town, "13812340006")
    clock.back("13812340005", 61)
    clock.back("13812340006", 61)
    trail = trail_for(town)
    trail.step(
        f"POST {API}/auth/password/sms",
        send(town, "13812340005"),
        status=202,
        audit=[(*SENT, {"purpose": "reset", "phone": "138****0005"})],
    )
    trail.step(
        f"POST {API}/auth/password/reset-sms",
        reset(town, "13812340005", inbox("13812340005")),
        status=204,
        audit=[(*RESET, {"via": "sms", "phone": "138****0005"})],
    )
    browser = TestClient(town.client.app)
    trail.step(
        f"POST {BASE}/password/sms",
        submit(browser, f"{BASE}/password/sms", {"action": "send", "phone": "13812340006"}),
        audit=[(*SENT, {"purpose": "reset", "phone": "138****0006"})],
    )
    trail.check_walked(PASSWORD_SMS_ROUTES)
