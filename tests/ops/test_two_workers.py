"""What must hold across worker processes does, with two real uvicorn workers on one database:
a token revoked through one worker is refused by both within a second, and the login limits
(per account, per client address) count every worker's attempts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2 as httpx
import pytest
from sqlmodel import Session

from shequyun.identity.accounts import ADDRESS_LIMIT, LOCK_AFTER
from shequyun.identity.models import User

from ..conftest import subprocess_env
from .servers import Server, serving
from .test_worker_logs import _access_lines

PUDONG = "310115000000"
#: A liveness bound (rounds of requests until both workers have answered), not a timing test.
ROUNDS = 25


@pytest.fixture
def two_workers(shequyun_kernel, shequyun_actors, tmp_path):
    """``shequyun serve --workers 2`` on the test's database (and its data directory, so the
    same secret key), with only the kernel's own plugins, as the test kernel has."""
    env = subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="kernel-only",
        SHEQUYUN_INLINE_WORKER="false",
    )
    with serving(env, tmp_path / "serve.log", "--workers", "2") as server:
        # Both workers up before a test counts on them: while one is still starting the other
        # answers everything, and the rounds it takes to reach both would pile up failed logins
        # (the per-address limit then answers instead of the account's lock).
        from_both_workers(server, lambda rid: _probe(server, rid))
        yield server


def _probe(server: Server, request_id: str) -> httpx.Response:
    return httpx.get(server.url + "/healthz", headers={"X-Request-ID": request_id}, timeout=30)


def answered_by(server: Server, request_ids: set[str]) -> dict[str, str]:
    """The worker (pid) that answered each request, from the access lines."""
    return {rid: pid for pid, rid, _ in _access_lines(server.log.read_text()) if rid in request_ids}


def from_both_workers(server: Server, send: Callable[[str], Any], least: int = 0) -> list[Any]:
    """Send ``send(request_id)`` from 8 threads, round after round, until both workers have
    answered some (and at least ``least`` were sent); every answer."""
    answers: list[Any] = []
    sent: set[str] = set()

    def one(_: int) -> None:
        request_id = f"w-{uuid.uuid4().hex[:16]}"
        sent.add(request_id)
        answers.append(send(request_id))

    with ThreadPoolExecutor(8) as pool:
        for _ in range(ROUNDS):
            list(pool.map(one, range(16)))
            time.sleep(0.2)  # the access lines are written once the answer is out
            if len(answers) >= least and len(set(answered_by(server, sent).values())) == 2:
                return answers
    raise AssertionError("only one worker answered:\n" + server.log.read_text()[-3000:])


def test_a_token_revoked_in_one_worker_is_refused_by_both_within_a_second(
    two_workers, shequyun_actors
):
    admin, bureau = shequyun_actors.district_admin(PUDONG), shequyun_actors.bureau(PUDONG)
    made = httpx.post(
        two_workers.url + "/api/v1/tokens",
        json={"grant_id": bureau.grant.id, "name": "同步", "expires_in_days": 30},
        headers=admin.auth,
    ).json()

    def me(request_id: str) -> int:
        headers = {"Authorization": f"Bearer {made['secret']}", "X-Request-ID": request_id}
        return two_workers.get("/api/v1/me", headers=headers).status_code

    # Both workers have found the token valid and remember it.
    assert set(from_both_workers(two_workers, me)) == {200}

    revoked = httpx.delete(f"{two_workers.url}/api/v1/tokens/{made['id']}", headers=admin.auth)
    assert revoked.status_code in (200, 204), revoked.text
    time.sleep(1.0)  # the bound the platform promises

    assert set(from_both_workers(two_workers, me)) == {401}


def login_form(server: Server, kernel: Any) -> Callable[..., Any]:
    """``login(username, password, request_id)`` through the portal's form, as one browser."""
    anon = uuid.uuid4().hex
    csrf = kernel.authenticator.anonymous_csrf(anon)

    def login(username: str, password: str, request_id: str) -> httpx.Response:
        return httpx.post(
            server.url + "/login",
            data={"username": username, "password": password, "csrf_token": csrf},
            cookies={"shequyun_anon": anon},
            headers={"X-Request-ID": request_id},
            timeout=30,
        )

    return login


def test_an_account_locked_through_one_worker_is_locked_in_both(
    two_workers, shequyun_kernel, shequyun_actors
):
    bureau = shequyun_actors.bureau(PUDONG)
    login = login_form(two_workers, shequyun_kernel)
    with Session(shequyun_kernel.engine) as session:  # nine failures long ago
        user = session.get(User, bureau.user.id)
        user.failed_logins = LOCK_AFTER - 1
        session.add(user)
        session.commit()

    assert login(bureau.username, "wrong-password", "tenth").status_code == 401
    answers = from_both_workers(
        two_workers, lambda rid: login(bureau.username, bureau.password, rid)
    )
    assert {a.status_code for a in answers} == {429}
    assert all("账户已暂时锁定" in a.text for a in answers)


def test_the_limit_per_address_counts_the_attempts_of_both_workers(two_workers, shequyun_kernel):
    login = login_form(two_workers, shequyun_kernel)
    answers = from_both_workers(
        two_workers,
        lambda rid: login(f"nobody-{uuid.uuid4().hex[:8]}", "x", rid).status_code,
        least=ADDRESS_LIMIT.limit + 10,
    )
    assert answers.count(401) == ADDRESS_LIMIT.limit
    assert answers.count(429) == len(answers) - ADDRESS_LIMIT.limit
