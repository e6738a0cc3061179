"""Login, sessions, CSRF, the first-password rule, throttling and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from shequyun.identity.accounts import LOCK_AFTER, attempt_login
from shequyun.identity.models import ApiToken, AuditEntry, User


def audit_actions(kernel, action_prefix: str = "") -> list[tuple[str, str]]:
    with Session(kernel.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    return [(r.action, r.outcome) for r in rows if r.action.startswith(action_prefix)]


def test_a_cadre_logs_in_and_the_header_shows_their_committee(shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    portal = cadre.portal()
    page = portal.get("/")
    assert "测试用户" in page.text
    assert "潍坊一村居委会 · 居村干部" in page.text
    me = portal.get("/api/v1/me").json()
    assert me["grant"]["unit"]["code"] == "310115004001"
    assert "identity.org.view" in me["permissions"]


def test_wrong_password_is_refused_and_audited(shequyun_actors, shequyun_client, shequyun_kernel):
    cadre = shequyun_actors.cadre()
    page = shequyun_client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = shequyun_client.post(
        "/login", data={"username": cadre.username, "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    assert ("login.failed", "denied") in audit_actions(shequyun_kernel, "login")


def test_a_form_without_the_csrf_token_changes_nothing(shequyun_actors, shequyun_client):
    cadre = shequyun_actors.cadre()
    shequyun_client.get("/login")
    response = shequyun_client.post(
        "/login", data={"username": cadre.username, "password": cadre.password}
    )
    assert response.status_code == 403
    assert "CSRF" in response.text
    portal = cadre.portal()
    del portal.headers["X-CSRF-Token"]
    refused = portal.post("/logout")
    assert refused.status_code == 403
    assert portal.get("/api/v1/me").status_code == 200  # still logged in


def test_logout_ends_the_session(shequyun_actors):
    portal = shequyun_actors.cadre().portal()
    assert portal.post("/logout", follow_redirects=False).status_code == 303
    assert portal.get("/api/v1/me").status_code == 401


def test_a_first_password_must_be_changed_before_anything_else(shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre()
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.must_change_password = True
        session.add(user)
        session.commit()
    portal = cadre.portal()
    assert portal.get("/", follow_redirects=False).headers["location"] == "/account/password"
    assert portal.get("/api/v1/me").json()["error"]["code"] == "password_change_required"
    weak = portal.post(
        "/account/password",
        data={"current": cadre.password, "new": "12345678", "repeat": "12345678"},
    )
    assert weak.status_code == 422
    assert "至少两类" in weak.text
    changed = portal.post(
        "/account/password",
        data={"current": cadre.password, "new": "Xinmima-2026", "repeat": "Xinmima-2026"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert portal.get("/workbench", follow_redirects=False).status_code == 200


def test_a_login_burst_is_slowed_then_locked_and_audited(shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre()
    engine = shequyun_kernel.engine
    start = datetime.now(UTC)
    outcomes = [attempt_login(engine, cadre.username, "wrong", now=start).outcome for _ in range(5)]
    # Three free attempts, then the next must wait a second: the burst is refused unread.
    assert outcomes == ["bad_credentials"] * 3 + ["too_soon", "too_soon"]
    moment = start
    for _ in range(LOCK_AFTER - 3):
        moment += timedelta(minutes=6)  # longer than any delay
        result = attempt_login(engine, cadre.username, "wrong", now=moment)
    assert result.outcome == "bad_credentials"
    assert attempt_login(engine, cadre.username, cadre.password, now=moment).outcome == "locked"
    later = moment + timedelta(minutes=31)
    assert attempt_login(engine, cadre.username, cadre.password, now=later).ok
    actions = [a for a, _ in audit_actions(shequyun_kernel, "login")]
    assert actions.count("login.throttled") == 2
    assert "login.locked" in actions
    assert actions[-1] == "login.succeeded"


def test_api_tokens_are_stored_hashed_and_can_expire_or_be_revoked(
    shequyun_actors, shequyun_client, shequyun_kernel
):
    bureau = shequyun_actors.bureau()
    assert shequyun_client.get("/api/v1/me", headers=bureau.auth).json()["via"] == "token"
    with Session(shequyun_kernel.engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.grant_id == bureau.grant.id)).one()
        assert bureau.token not in (token.token_hash, token.prefix)
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(token)
        session.commit()
    expired = shequyun_client.get("/api/v1/me", headers=bureau.auth)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "invalid_token"
    garbage = shequyun_client.get("/api/v1/me", headers={"Authorization": "Bearer sqy_nonsense"})
    assert garbage.status_code == 401
    assert ("token.rejected", "denied") in audit_actions(shequyun_kernel, "token")


def test_audit_entries_cannot_be_changed_or_deleted(shequyun_actors, shequyun_kernel):
    import pytest
    from sqlalchemy.exc import DBAPIError

    shequyun_actors.cadre().portal()
    with Session(shequyun_kernel.engine) as session:
        entry = session.exec(select(AuditEntry)).first()
        entry.action = "forged"
        session.add(entry)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
    with Session(shequyun_kernel.engine) as session:
        entry = session.exec(select(AuditEntry)).first()
        session.delete(entry)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()


def test_bad_authorization_headers_are_counted_and_only_sampled_into_the_audit_log(
    shequyun_app, shequyun_kernel
):
    from starlette.testclient import TestClient

    from shequyun.identity.models import AuditEntry
    from shequyun.metrics import TOKEN_REJECTIONS

    before = TOKEN_REJECTIONS.labels("invalid")._value.get()
    scanner = TestClient(shequyun_app, client=("198.51.100.30", 1))
    for i in range(40):
        answer = scanner.get("/api/v1/me", headers={"Authorization": f"Bearer sqy_guess{i}"})
        assert answer.status_code == 401
    other = TestClient(shequyun_app, client=("198.51.100.31", 1))
    assert other.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}).status_code == 401
    with Session(shequyun_kernel.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "token.rejected")).all()
    assert sorted(r.client_ip for r in rows) == ["198.51.100.30", "198.51.100.31"]
    assert TOKEN_REJECTIONS.labels("invalid")._value.get() - before == 40


def test_the_sampler_writes_once_a_window_and_says_how_many_it_left_out():
    from shequyun.identity.rejections import Sampler

    sampler = Sampler(window=60, max_addresses=2)
    assert sampler.sample("a", now=0) == 0
    assert [sampler.sample("a", now=t) for t in (1, 2, 59)] == [None, None, None]
    assert sampler.sample("a", now=61) == 3
    assert sampler.sample("b", now=61) == 0
    assert sampler.sample("c", now=62) == 0  # memory is bounded: old windows are forgotten
