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
from shequyun_sdk import AttemptLimit
from sqlmodel import Session

from shequyun import throttles
from shequyun.identity import accounts
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
