"""Login throttling holds under parallel requests: per account and per client address.

Each attempt is counted in the database before its password is checked, so a burst of
parallel attempts cannot all read "no failures yet". The tests count how many passwords were
actually checked (each check costs an attacker one guess).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import AttemptLimit, TooManyAttempts
from sqlmodel import Session

from shequyun import throttles
from shequyun.identity import accounts, own_account
from shequyun.identity.accounts import ADDRESS_LIMIT, FREE_ATTEMPTS, LOCK_AFTER, attempt_login
from shequyun.identity.models import User


def in_parallel(count: int, attempt: Callable[[int], str]) -> list[str]:
    """Run ``attempt(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = [""] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = attempt(i)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return outcomes


@pytest.fixture
def checked_passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the login code checks, in order."""
    checked: list[str] = []
    lock = threading.Lock()
    real = accounts.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return checked


def test_thirty_parallel_logins_check_only_the_free_attempts(
    shequyun_actors, shequyun_kernel, checked_passwords
):
    cadre = shequyun_actors.cadre()
    engine = shequyun_kernel.engine
    outcomes = in_parallel(
        30, lambda i: attempt_login(engine, cadre.username, f"wrong-{i}", client_ip=None).outcome
    )
    assert len(checked_passwords) == FREE_ATTEMPTS
    assert outcomes.count("bad_credentials") == FREE_ATTEMPTS
    assert outcomes.count("too_soon") == 30 - FREE_ATTEMPTS
    with Session(engine) as session:
        assert session.get(User, cadre.user.id).failed_logins == FREE_ATTEMPTS


def test_bursts_that_wait_out_each_delay_are_locked_after_ten(
    shequyun_actors, shequyun_kernel, checked_passwords
):
    cadre = shequyun_actors.cadre()
    engine = shequyun_kernel.engine
    moment = datetime.now(UTC)
    for _ in range(LOCK_AFTER + 1):  # each burst comes after the previous delay has passed
        in_parallel(
            8,
            lambda i, at=moment: attempt_login(engine, cadre.username, "wrong", now=at).outcome,
        )
        moment += timedelta(minutes=6)
    # Ten checked passwords lock the account for 30 minutes; the bursts after that check none.
    assert len(checked_passwords) == LOCK_AFTER
    assert attempt_login(engine, cadre.username, cadre.password, now=moment).outcome == "locked"


def test_one_address_may_fail_only_so_often_whatever_the_accounts(
    shequyun_actors, shequyun_kernel, checked_passwords
):
    engine = shequyun_kernel.engine
    outcomes = in_parallel(  # a password sprayed over many usernames
        ADDRESS_LIMIT.limit + 10,
        lambda i: attempt_login(engine, f"user{i}", "Spring2026!", client_ip="203.0.113.7").outcome,
    )
    assert len(checked_passwords) == ADDRESS_LIMIT.limit
    assert outcomes.count("too_soon") == 10
    # Another address is not held back by that one.
    other = shequyun_actors.cadre()
    assert attempt_login(engine, other.username, other.password, client_ip="198.51.100.2").ok


def test_a_right_password_takes_its_count_back_from_the_address(shequyun_actors, shequyun_kernel):
    engine = shequyun_kernel.engine
    cadre = shequyun_actors.cadre()
    for _ in range(ADDRESS_LIMIT.limit + 5):  # a busy office behind one address, all typing well
        assert attempt_login(engine, cadre.username, cadre.password, client_ip="192.0.2.1").ok


def test_the_login_form_answers_429_with_retry_after_when_the_address_is_spent(
    shequyun_actors, shequyun_client, shequyun_kernel
):
    cadre = shequyun_actors.cadre()
    for _ in range(ADDRESS_LIMIT.limit):
        throttles.hit(shequyun_kernel.engine, ADDRESS_LIMIT, "testclient")
    page = shequyun_client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = shequyun_client.post(
        "/login", data={"username": cadre.username, "password": cadre.password, "csrf_token": token}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_counters_are_shared_through_the_database(shequyun_kernel):
    limit = AttemptLimit("test.bucket", 3, timedelta(minutes=1))
    start = datetime.now(UTC)
    verdicts = [throttles.hit(shequyun_kernel.engine, limit, "k", now=start) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert verdicts[-1].retry_after == 60
    later = start + timedelta(minutes=1, seconds=1)
    assert throttles.hit(shequyun_kernel.engine, limit, "k", now=later).count == 1
    throttles.forgive(shequyun_kernel.engine, limit, "k")
    assert throttles.hit(shequyun_kernel.engine, limit, "k", now=later).count == 1
    outcomes = in_parallel(
        20,
        lambda i: str(throttles.hit(shequyun_kernel.engine, limit, "p", now=later).count),
    )
    assert sorted(int(c) for c in outcomes) == list(range(1, 21))


def test_thirty_parallel_current_passwords_check_only_the_limit(
    shequyun_actors, shequyun_kernel, monkeypatch
):
    """The password page's current password is a password check too: someone at a signed-in
    browser may not try passwords there without end (and then set their own)."""
    checked: list[str] = []
    lock = threading.Lock()
    real = own_account.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(own_account, "verify_password", counting)
    cadre = shequyun_actors.cadre()
    engine = shequyun_kernel.engine
    new = "Qz7!kite-harbour"

    def change(current: str) -> str:
        with Session(engine) as session:
            try:
                errors = own_account.change_password(
                    session, cadre.actor, current=current, new=new, repeat=new, keep_cookie=""
                )
            except TooManyAttempts:
                return "too_many"
            session.commit()
            return "changed" if not errors else "wrong"

    outcomes = in_parallel(30, lambda i: change(f"wrong-{i}"))
    limit = own_account.CURRENT_PASSWORD_LIMIT.limit
    assert outcomes.count("wrong") == limit and outcomes.count("too_many") == 30 - limit
    assert len(checked) == limit
    # Spent: the right password is not even checked until the window ends.
    assert change(cadre.password) == "too_many"
    assert attempt_login(engine, cadre.username, cadre.password).ok  # the password stayed


def test_the_password_page_answers_429_once_the_current_password_was_guessed_too_often(
    shequyun_actors,
):
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    form = {"current": "wrong", "new": "Qz7!kite-harbour", "repeat": "Qz7!kite-harbour"}
    statuses = [portal.post("/account/password", data=form).status_code for _ in range(6)]
    assert statuses == [422] * own_account.CURRENT_PASSWORD_LIMIT.limit + [429]
    right = {**form, "current": cadre.password}
    answer = portal.post("/account/password", data=right, follow_redirects=False)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert "错误次数过多" in answer.text


def test_the_addresses_of_one_ipv6_block_share_one_count(shequyun_kernel):
    """A home line or a phone holds a whole /64 and may send each request from a new address
    in it: the per-address limits count the block, or they would never be reached."""
    engine = shequyun_kernel.engine
    for i in range(ADDRESS_LIMIT.limit):
        assert throttles.hit(engine, ADDRESS_LIMIT, f"2001:db8:1:2::{i + 1:x}").allowed
    assert not throttles.hit(engine, ADDRESS_LIMIT, "2001:db8:1:2:ffff:1:2:3").allowed
    assert throttles.hit(engine, ADDRESS_LIMIT, "2001:db8:1:3::1").allowed  # the next /64
    for _ in range(ADDRESS_LIMIT.limit):
        throttles.hit(engine, ADDRESS_LIMIT, "203.0.113.9")
    assert not throttles.hit(engine, ADDRESS_LIMIT, "::ffff:203.0.113.9").allowed  # one host
    assert throttles.address_block("12345") == "12345"  # other keys are counted as they are


def test_the_delay_runs_from_when_an_attempt_was_counted_not_from_when_it_began(
    shequyun_actors, shequyun_kernel, checked_passwords, monkeypatch
):
    """On a loaded server the attempts of a burst begin together and are counted one by one,
    seconds later (seen on a served demo: the third set a one-second delay that had passed
    before it was even counted, so a fourth password was checked)."""
    cadre = shequyun_actors.cadre()
    engine = shequyun_kernel.engine
    began = datetime.now(UTC)
    clock = {"now": began}
    monkeypatch.setattr(accounts, "_clock", lambda: clock["now"])
    real_reserve = accounts._reserve

    def counted_later(connection, user_id, now, fixed=False):
        clock["now"] += timedelta(seconds=2)  # queued behind the others for two seconds
        return real_reserve(connection, user_id, now, fixed)

    monkeypatch.setattr(accounts, "_reserve", counted_later)
    outcomes = []
    for _ in range(FREE_ATTEMPTS + 1):  # each begins as the one before is counted
        outcomes.append(attempt_login(engine, cadre.username, "wrong").outcome)
    assert outcomes == ["bad_credentials"] * FREE_ATTEMPTS + ["too_soon"]
    assert len(checked_passwords) == FREE_ATTEMPTS
