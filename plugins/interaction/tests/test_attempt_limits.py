"""Resident logins, verifications and sign-ups are limited under parallel requests too.

Every limit is counted in the platform's database before the guess is checked, so a burst of
parallel requests, or several worker processes, cannot each read "no failures yet". These
tests count the guesses that actually reached the check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from shequyun_interaction import accounts

from .conftest import API, PASSWORD


def in_parallel(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many passwords and identities were actually compared."""
    counted = {"passwords": 0, "identities": 0}
    lock = threading.Lock()
    real_password = accounts.verify_password

    def password(stored: str | None, given: str) -> bool:
        with lock:
            counted["passwords"] += 1
        return real_password(stored, given)

    monkeypatch.setattr(accounts, "verify_password", password)
    return counted


def test_thirty_parallel_resident_logins_check_five_passwords(town, shequyun_kernel, checks):
    town.account("13600000001")
    checks["passwords"] = 0
    platform = shequyun_kernel.platform
    outcomes = in_parallel(
        30,
        lambda i: _outcome(
            lambda: accounts.log_in(
                platform, "13600000001", f"wrong-{i}", kind="api", lifetime=accounts.LOGIN_LOCK
            )
        ),
    )
    assert checks["passwords"] == accounts.MAX_LOGIN_FAILURES
    assert outcomes.count("login_failed") == accounts.MAX_LOGIN_FAILURES
    assert outcomes.count("locked") == 30 - accounts.MAX_LOGIN_FAILURES


def test_thirty_parallel_verifications_check_five_identities(town, shequyun_kernel, monkeypatch):
    wang = town.resident("王秀英")
    app = town.account(wang.phone)
    me = app.get("/me").json()["account"]["id"]
    platform = shequyun_kernel.platform
    compared = []
    real = type(platform).verify_resident

    def counting(self: Any, session: Any, **kwargs: Any) -> Any:
        compared.append(kwargs["id_number"])
        return real(self, session, **kwargs)

    monkeypatch.setattr(type(platform), "verify_resident", counting)
    others = [town.resident(f"邻居{i}").id_number for i in range(3)]
    outcomes = in_parallel(
        30,
        lambda i: _outcome(
            lambda: accounts.verify_identity(
                platform, me, "王秀英", others[i % 3], plugin_name="interaction"
            )
        ),
    )
    assert len(compared) == accounts.MAX_VERIFY_FAILURES
    assert outcomes.count("not_verified") == accounts.MAX_VERIFY_FAILURES
    assert outcomes.count("locked") == 30 - accounts.MAX_VERIFY_FAILURES


def test_one_id_number_may_be_guessed_only_five_times_whatever_the_accounts(town):
    wang = town.resident("王秀英")
    apps = [town.account(f"1370000000{i}") for i in range(7)]
    answers = [
        app.post("/me/verify", {"name": f"猜{i}", "id_number": wang.id_number})
        for i, app in enumerate(apps)
    ]
    assert [a.status_code for a in answers] == [422] * 5 + [429] * 2
    assert int(answers[-1].headers["Retry-After"]) > 0
    # The account holding the right phone is held back too, until the day is over or a
    # committee code is used; its identity was never compared.
    assert (
        town.account(wang.phone)
        .post("/me/verify", {"name": "王秀英", "id_number": wang.id_number})
        .status_code
        == 429
    )


def test_a_committee_code_dies_after_three_wrong_names(town):
    zhang = town.resident("张阿婆", phone="02158881234")
    code = town.client.post(
        f"{API}/manage/codes", headers=town.cadre().auth, json={"resident_id": zhang.id}
    ).json()["code"]
    for i in range(accounts.CODE_TRIES):
        guess = town.account(f"1370000001{i}").post("/me/verify", {"code": code, "name": "王五"})
        assert guess.status_code == 422
    daughter = town.account("13700000020")
    dead = daughter.post("/me/verify", {"code": code, "name": "张阿婆"})
    assert dead.status_code == 422
    assert daughter.get("/me").json()["resident"] is None


def test_a_code_without_the_residents_name_is_refused(town):
    app = town.account("13700000030")
    refused = app.post("/me/verify", {"code": "12345678"})
    assert refused.status_code == 422
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"name"}


@pytest.mark.parametrize("shequyun_settings", [{}])
def test_one_address_signs_up_ten_accounts_an_hour(town):
    answers = in_parallel(
        20,
        lambda i: town.client.post(
            f"{API}/auth/signup", json={"phone": f"1390000{i:04d}", "password": PASSWORD}
        ),
    )
    assert sorted(a.status_code for a in answers) == [201] * 10 + [429] * 10


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except Exception as exc:  # the error codes the API would answer
        return str(getattr(exc, "code", type(exc).__name__))
    return "ok"


def test_one_code_links_one_account_when_two_redeem_it_at_the_same_moment(town, monkeypatch):
    """Both requests counted their try and read the code unused before either marked it used,
    so both linked their account to the resident: the code is now claimed by one UPDATE. The
    two are held together right after counting their tries, where they raced."""
    from shequyun_interaction import verification

    zhang = town.resident("张阿婆", phone="02158881234")
    code = town.client.post(
        f"{API}/manage/codes", headers=town.cadre().auth, json={"resident_id": zhang.id}
    ).json()["code"]
    apps = [town.account(f"1370000003{i}") for i in range(2)]
    together = threading.Barrier(2, timeout=20)
    counted = verification.use_code_try

    def count_then_wait(session: Any, code_id: int) -> bool:
        allowed = counted(session, code_id)
        together.wait()
        return allowed

    monkeypatch.setattr(verification, "use_code_try", count_then_wait)
    answers = in_parallel(
        2, lambda i: apps[i].post("/me/verify", {"code": code, "name": "张阿婆"}).status_code
    )
    assert sorted(answers) == [200, 422]
    linked = [app.get("/me").json()["resident"] for app in apps]
    assert sum(r is not None for r in linked) == 1
