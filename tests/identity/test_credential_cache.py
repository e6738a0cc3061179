"""Credentials found valid are remembered long, yet revocation, logout, a withdrawn grant and a
deactivated user take effect at once in the process that makes them, in the other processes
(workers, the CLI) as soon as they next read the shared epoch (every half second), and a
change made straight in the database within AUTH_CACHE_SECONDS (or at once, with the epoch
moved by hand). Each change forgets only the credentials it touches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from shequyun.identity.auth import hash_token
from shequyun.identity.credentials import AUTH_CACHE_SECONDS, CredentialCache
from shequyun.identity.models import ApiToken, User
from shequyun.identity.permissions import PERSONAL_DATA
from shequyun.kernel import Kernel

PUDONG = "310115000000"


def me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def a_token(shequyun_actors, days=30):
    admin = shequyun_actors.district_admin(PUDONG)
    bureau = shequyun_actors.bureau(PUDONG)
    client = admin.client()
    made = client.post(
        "/api/v1/tokens",
        json={"grant_id": bureau.grant.id, "name": "同步", "expires_in_days": days},
    ).json()
    return client, bureau, made


def test_a_valid_token_is_remembered_and_an_invalid_one_never(shequyun_actors, shequyun_kernel):
    client, bureau, made = a_token(shequyun_actors)
    auth = shequyun_kernel.authenticator
    assert auth.cached_bearer(made["secret"]) is None
    assert me(client, made["secret"]).status_code == 200
    remembered = auth.cached_bearer(made["secret"])
    assert remembered is not None and remembered.grant_id == bureau.grant.id
    assert me(client, "sqy_not-a-token").status_code == 401
    assert auth.cached_bearer("sqy_not-a-token") is None


def test_a_token_revoked_through_the_api_stops_at_once(shequyun_actors):
    client, _, made = a_token(shequyun_actors)
    assert me(client, made["secret"]).status_code == 200  # now remembered
    assert client.delete(f"/api/v1/tokens/{made['id']}").status_code == 200
    answer = me(client, made["secret"])
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_token"


def test_a_withdrawn_grant_stops_its_tokens_and_sessions_at_once(shequyun_actors):
    admin = shequyun_actors.district_admin(PUDONG)
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    api = cadre.client()
    assert portal.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/me").status_code == 200
    assert admin.client().delete(f"/api/v1/grants/{cadre.grant.id}").status_code == 200
    assert api.get("/api/v1/me").status_code == 401
    assert portal.get("/api/v1/me").status_code == 401


def test_a_deactivated_user_is_refused_at_once(shequyun_actors):
    admin = shequyun_actors.district_admin(PUDONG)
    cadre = shequyun_actors.cadre()
    api = cadre.client()
    assert api.get("/api/v1/me").status_code == 200
    changed = admin.client().patch(
        f"/api/v1/users/{cadre.user.id}", json={"version": 1, "is_active": False}
    )
    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/me").status_code == 401


def test_logging_out_ends_the_session_at_once(shequyun_actors):
    portal = shequyun_actors.cadre().portal()
    assert portal.get("/api/v1/me").status_code == 200
    assert portal.post("/logout", follow_redirects=False).status_code == 303
    assert portal.get("/api/v1/me").status_code == 401


def test_using_a_token_does_not_forget_the_others(shequyun_actors, shequyun_kernel):
    """Recording a token's last use changes nothing about who it stands for."""
    first, second = shequyun_actors.cadre(), shequyun_actors.bureau(PUDONG)
    assert first.client().get("/api/v1/me").status_code == 200
    assert second.client().get("/api/v1/me").status_code == 200
    auth = shequyun_kernel.authenticator
    assert auth.cached_bearer(first.token) is not None
    assert auth.cached_bearer(second.token) is not None


def test_a_revocation_by_another_process_is_seen_at_its_next_epoch_read(
    shequyun_actors, shequyun_kernel, auth
):
    client, _, made = a_token(shequyun_actors)
    auth.epoch.check()
    assert me(client, made["secret"]).status_code == 200
    assert auth.cached_bearer(made["secret"]) is not None
    # Another process: its own kernel, engine and sessions on the same database.
    other = Kernel(shequyun_kernel.settings, plugins=[], discover=False)
    try:
        with Session(other.engine) as session:
            token = session.get(ApiToken, made["id"])
            token.revoked_at = datetime.now(UTC)
            session.add(token)
            session.commit()
    finally:
        other.close()
    auth.epoch.check()  # what this process's watcher does every half second
    assert auth.cached_bearer(made["secret"]) is None
    assert me(client, made["secret"]).status_code == 401


def test_a_change_made_straight_in_the_database_is_seen_within_the_bound(
    shequyun_actors, shequyun_kernel
):
    """SQL run by hand moves no epoch: the remembered entry runs out instead."""
    client, _, made = a_token(shequyun_actors)
    auth = shequyun_kernel.authenticator
    now = [1000.0]
    auth.bearers.clock = lambda: now[0]
    assert me(client, made["secret"]).status_code == 200
    # As another worker would: straight to the database, not through this process's sessions.
    with shequyun_kernel.engine.begin() as connection:
        connection.execute(
            text("UPDATE kernel_api_token SET revoked_at = :now WHERE id = :id"),
            {"now": datetime.now(UTC), "id": made["id"]},
        )
    now[0] += AUTH_CACHE_SECONDS - 0.5
    assert me(client, made["secret"]).status_code == 200
    now[0] += 1
    assert me(client, made["secret"]).status_code == 401


def test_a_remembered_token_does_not_outlive_its_expiry(shequyun_actors, shequyun_kernel):
    client, _, made = a_token(shequyun_actors)
    with Session(shequyun_kernel.engine) as session:
        row = session.get(ApiToken, made["id"])
        row.expires_at = datetime.now(UTC) + timedelta(seconds=2)
        session.add(row)
        session.commit()
    auth = shequyun_kernel.authenticator
    assert me(client, made["secret"]).status_code == 200
    entry = auth.bearers.entry(hash_token(made["secret"]))
    assert entry is not None and entry.until <= auth.bearers.clock() + 2


def test_a_tokens_last_use_is_written_with_the_next_batch(shequyun_actors, shequyun_kernel):
    client, _, made = a_token(shequyun_actors)
    assert me(client, made["secret"]).status_code == 200

    def last_used():
        with Session(shequyun_kernel.engine) as session:
            return session.get(ApiToken, made["id"]).last_used_at

    assert last_used() is None  # noted, not yet written: no commit of its own per request
    shequyun_kernel.authenticator.token_uses.flush()  # every 10 s, and when the app stops
    assert last_used() is not None
    listed = client.get("/api/v1/tokens").json()["items"]
    assert next(t for t in listed if t["id"] == made["id"])["last_used_at"] is not None


def test_a_tokens_actor_is_the_one_its_user_grant_and_unit_make(shequyun_actors, shequyun_kernel):
    """The token lookup reads plain columns, not the ORM objects: the actor it issues is still
    the one actor_for makes of them, personal data left out while the holder is unconfirmed."""
    auth = shequyun_kernel.authenticator
    cadre = shequyun_actors.cadre()
    expected = auth.actor_for(cadre.user, cadre.grant, cadre.unit, "token")
    found = auth.from_bearer(cadre.token)
    assert found is not None and found == replace(expected, must_change_password=False)
    assert "residents.reveal" in found.permissions
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.personal_data_hold = 1
        session.add(user)
        session.commit()
    held = auth.from_bearer(cadre.token)
    assert held is not None and "residents.reveal" not in held.permissions
    assert held.permissions == found.permissions - PERSONAL_DATA


@pytest.fixture
def auth(shequyun_kernel, shequyun_actors):
    """The test kernel's authenticator, whose epoch only the test reads: the app's watcher
    thread (started with the app) is stopped, so that it cannot read an epoch first."""
    authenticator = shequyun_kernel.authenticator
    authenticator.epoch.stop()
    return authenticator


def remembered(auth, *actors):
    """Whether each actor's token is in ``auth``'s memory."""
    return [auth.cached_bearer(actor.token) is not None for actor in actors]


def another_process(kernel):
    """Another process on the same database: its own kernel, engine and sessions."""
    return Kernel(kernel.settings, plugins=[], discover=False)


def test_revoking_one_token_forgets_no_other(shequyun_actors, shequyun_kernel):
    auth = shequyun_kernel.authenticator
    client, _, made = a_token(shequyun_actors)
    others = [shequyun_actors.cadre("310115004001"), shequyun_actors.cadre("310115004002")]
    for actor in others:
        assert actor.client().get("/api/v1/me").status_code == 200
    assert me(client, made["secret"]).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made['id']}").status_code == 200
    assert auth.cached_bearer(made["secret"]) is None
    assert remembered(auth, *others) == [True, True]
    assert me(client, made["secret"]).status_code == 401


def test_a_revocation_by_another_process_forgets_that_token_only(
    shequyun_actors, shequyun_kernel, auth
):
    auth.epoch.check()
    client, _, made = a_token(shequyun_actors)
    bystander = shequyun_actors.cadre()
    assert me(client, made["secret"]).status_code == 200
    assert bystander.client().get("/api/v1/me").status_code == 200
    other = another_process(shequyun_kernel)
    try:
        with Session(other.engine) as session:
            token = session.get(ApiToken, made["id"])
            token.revoked_at = datetime.now(UTC)
            session.add(token)
            session.commit()
    finally:
        other.close()
    assert auth.epoch.check()
    assert auth.cached_bearer(made["secret"]) is None
    assert remembered(auth, bystander) == [True]


def test_a_grant_withdrawn_for_one_user_forgets_that_users_credentials_only(
    shequyun_actors, shequyun_kernel, auth
):
    auth.epoch.check()
    admin = shequyun_actors.district_admin(PUDONG)
    first, second = shequyun_actors.cadre(), shequyun_actors.cadre()
    portal = second.portal()
    for actor in (first, second):
        assert actor.client().get("/api/v1/me").status_code == 200
    assert portal.get("/api/v1/me").status_code == 200
    # The withdrawal is made by another process: this one learns of it from the database.
    other = another_process(shequyun_kernel)
    try:
        with Session(other.engine) as session:
            grant = session.get(type(first.grant), first.grant.id)
            grant.revoked_at = datetime.now(UTC)
            session.add(grant)
            session.commit()
    finally:
        other.close()
    auth.epoch.check()
    assert remembered(auth, first, second) == [False, True]
    assert len(auth.sessions) == 1  # the other user's session stays remembered
    assert first.client().get("/api/v1/me").status_code == 401
    # Through the API (bulk statements that say whose credentials they touch), in this one.
    assert admin.client().delete(f"/api/v1/grants/{second.grant.id}").status_code == 200
    assert remembered(auth, second) == [False]
    assert remembered(auth, admin) == [True]
    assert portal.get("/api/v1/me").status_code == 401


def test_a_logout_forgets_no_token(shequyun_actors, shequyun_kernel):
    auth = shequyun_kernel.authenticator
    cadre, bureau = shequyun_actors.cadre(), shequyun_actors.bureau(PUDONG)
    portal = cadre.portal()
    assert portal.get("/api/v1/me").status_code == 200
    assert bureau.client().get("/api/v1/me").status_code == 200
    assert cadre.client().get("/api/v1/me").status_code == 200
    assert portal.post("/logout", follow_redirects=False).status_code == 303
    assert remembered(auth, cadre, bureau) == [True, True]
    assert portal.get("/api/v1/me").status_code == 401


def test_an_org_unit_changed_forgets_the_credentials_of_its_subtree(
    shequyun_actors, shequyun_kernel
):
    auth = shequyun_kernel.authenticator
    inside, outside = shequyun_actors.cadre("310115004001"), shequyun_actors.bureau()
    for actor in (inside, outside):
        assert actor.client().get("/api/v1/me").status_code == 200
    with Session(shequyun_kernel.engine) as session:
        street = session.get(type(inside.unit), inside.unit.parent_id)
        street.name = "新名称街道"
        session.add(street)
        session.commit()
    assert remembered(auth, inside, outside) == [False, True]


def test_an_epoch_moved_by_hand_forgets_everything(shequyun_actors, shequyun_kernel, auth):
    """The operator's way to make every worker forget what a change made in SQL touched."""
    auth.epoch.check()
    cadre = shequyun_actors.cadre()
    assert cadre.client().get("/api/v1/me").status_code == 200
    with shequyun_kernel.engine.begin() as connection:
        connection.execute(text("UPDATE kernel_credential_epoch SET epoch = epoch + 1"))
    assert auth.epoch.check()
    assert remembered(auth, cadre) == [False]


def test_a_restarted_worker_starts_empty_and_follows_changes_from_then(
    shequyun_actors, shequyun_kernel
):
    cadre, bureau = shequyun_actors.cadre(), shequyun_actors.bureau(PUDONG)
    restarted = another_process(shequyun_kernel)
    try:
        auth = restarted.authenticator
        auth.epoch.check()  # what its watcher does first: the epoch as it finds it
        assert remembered(auth, cadre, bureau) == [False, False]
        assert auth.from_bearer(cadre.token) is not None
        assert auth.from_bearer(bureau.token) is not None
        # A revocation by this test's process, after the restart.
        admin = shequyun_actors.district_admin(PUDONG)
        assert admin.client().delete(f"/api/v1/grants/{cadre.grant.id}").status_code == 200
        assert auth.epoch.check()
        assert remembered(auth, cadre, bureau) == [False, True]
        assert auth.from_bearer(cadre.token) is None
    finally:
        restarted.close()


def test_the_memory_holds_at_most_its_bound_least_recently_used_out_first():
    now = [0.0]
    cache: CredentialCache[str] = CredentialCache(60, max_entries=3, clock=lambda: now[0])
    for name in "abc":
        cache.put(name, name.upper(), cache.forgettings, user_id=1)
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("d", "D", cache.forgettings, user_id=2)
    assert len(cache) == 3
    assert list(cache.keys()) == ["c", "a", "d"]
    assert cache.get("b") is None
    cache.forget_user(1)
    assert list(cache.keys()) == ["d"]
    now[0] += 60
    assert cache.get("d") is None


def test_a_lookup_that_raced_a_change_is_not_remembered():
    cache: CredentialCache[str] = CredentialCache(60)
    found_under = cache.forgettings  # the lookup begins, reads the database...
    cache.forget_user(7)  # ...while a change it may not have seen is forgotten
    cache.put("k", "stale", found_under, user_id=7)
    assert cache.get("k") is None


def test_a_token_answered_from_memory_still_has_its_use_recorded(shequyun_actors, shequyun_kernel):
    auth = shequyun_kernel.authenticator
    client, _, made = a_token(shequyun_actors)
    now = [1000.0]
    auth.bearers.clock = lambda: now[0]
    assert me(client, made["secret"]).status_code == 200  # looked up: noted
    auth.token_uses.flush()
    now[0] += 61
    assert me(client, made["secret"]).status_code == 200  # from memory: noted again
    assert auth.token_uses._pending.keys() == {made["id"]}


def test_a_login_forgets_no_credential(shequyun_actors, shequyun_kernel, auth):
    """A login writes its bookkeeping (last login, failures) to the user's row: that changes
    nobody's credentials, so no worker forgets any, and no change is written for them."""
    cadre, bureau = shequyun_actors.cadre(), shequyun_actors.bureau(PUDONG)
    auth.epoch.check()
    assert bureau.client().get("/api/v1/me").status_code == 200
    assert cadre.client().get("/api/v1/me").status_code == 200
    assert cadre.portal().get("/api/v1/me").status_code == 200  # logged in through the form
    assert remembered(auth, cadre, bureau) == [True, True]
    assert not auth.epoch.check()
