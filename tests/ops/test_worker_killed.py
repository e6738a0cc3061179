"""``shequyun worker`` killed (SIGKILL) in the middle of a delivery: another worker delivers
every event afterwards, and a subscriber that writes in the delivery's transaction (it names
``session``) has its effect exactly once. Stopped (SIGTERM), it finishes that delivery first. On SQLite and on PostgreSQL (where the dead worker's
row lock goes with its connection: nothing to wait out)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ..conftest import SHEQUYUN, subprocess_env
from . import probe_plugin

#: A liveness bound for a subprocess to do what it was asked, not a timing test.
LIVENESS_SECONDS = 120
EVENTS = 5


@pytest.fixture
def shequyun_plugins():
    return [probe_plugin]


def test_a_worker_killed_mid_delivery_leaves_each_effect_to_happen_once(
    shequyun_kernel, shequyun_client, tmp_path
):
    platform = shequyun_kernel.platform  # started by the client: it publishes to `probe`
    with platform.session() as session:
        for n in range(EVENTS):
            platform.publish(session, "probe.effect", {"n": n})
    hold = tmp_path / "hold"
    hold.mkdir()
    env = subprocess_env(
        tmp_path,
        probe_plugin.install(tmp_path / "site"),
        Path(probe_plugin.__file__).parent,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="probe",
        PROBE_HOLD=str(hold),
    )

    first = start_worker(env, tmp_path / "first.log")
    try:
        wait_for(lambda: list(hold.glob("inside-*")), first)
        [inside] = hold.glob("inside-*")
    finally:
        first.send_signal(signal.SIGKILL)  # in the middle: written, not committed
        first.wait()
    (hold / "go").touch()

    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_for(lambda: pending(shequyun_kernel) == 0, second)
    finally:
        second.terminate()
        second.wait(timeout=60)

    with shequyun_kernel.engine.connect() as connection:
        effects = connection.execute(
            text(
                "SELECT target_id, count(*) FROM kernel_audit WHERE action = 'probe.effect' "
                "GROUP BY target_id"
            )
        ).all()
        deliveries = connection.execute(
            text(
                "SELECT event_id, status, attempts FROM kernel_event_delivery d "
                "WHERE d.subscriber = 'probe:effect'"
            )
        ).all()
    killed = int(inside.name.removeprefix("inside-"))
    assert len(deliveries) == EVENTS
    assert {status for _, status, _ in deliveries} == {"done"}
    # The killed attempt was never recorded: it rolled back with the effect it had written.
    assert {attempts for _, _, attempts in deliveries} == {1}
    assert sorted(effects) == sorted((str(event), 1) for event, _, _ in deliveries)
    assert killed in {event for event, _, _ in deliveries}


def test_sigterm_lets_the_worker_finish_the_delivery_under_way_then_exit(
    shequyun_kernel, shequyun_client, tmp_path
):
    """What systemd, Docker and Kubernetes send to stop a process: the event being delivered is
    finished (its effect committed once), no other is begun, and the worker exits cleanly."""
    platform = shequyun_kernel.platform
    with platform.session() as session:
        for n in range(EVENTS):
            platform.publish(session, "probe.effect", {"n": n})
    hold = tmp_path / "hold"
    hold.mkdir()
    env = subprocess_env(
        tmp_path,
        probe_plugin.install(tmp_path / "site"),
        Path(probe_plugin.__file__).parent,
        SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.effective_database_url,
        SHEQUYUN_PLUGINS_ALLOWED="probe",
        PROBE_HOLD=str(hold),
    )
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for(lambda: list(hold.glob("inside-*")), worker)
        [inside] = hold.glob("inside-*")
        worker.send_signal(signal.SIGTERM)  # in the middle of a delivery
        wait_for(lambda: "SIGTERM received" in log.read_text(), worker)
        (hold / "go").touch()
        assert worker.wait(timeout=LIVENESS_SECONDS) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    with shequyun_kernel.engine.connect() as connection:
        deliveries = dict(
            connection.execute(
                text(
                    "SELECT event_id, status FROM kernel_event_delivery "
                    "WHERE subscriber = 'probe:effect'"
                )
            ).all()
        )
        effects = connection.execute(
            text("SELECT target_id FROM kernel_audit WHERE action = 'probe.effect'")
        ).all()
    held = int(inside.name.removeprefix("inside-"))
    assert deliveries.pop(held) == "done"
    assert [tuple(row) for row in effects] == [(str(held),)]
    assert set(deliveries.values()) == {"pending"}  # none begun after the signal
    assert "worker stopped" in log.read_text()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [SHEQUYUN, "worker", "--interval", "0.2"], env=env, stdout=out, stderr=out
        )


def pending(kernel) -> int:
    with kernel.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM kernel_event_delivery WHERE status = 'pending'")
            ).scalar_one()
        )


def wait_for(condition, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + LIVENESS_SECONDS
    while not condition():
        assert process.poll() is None, f"the worker ended ({process.returncode})"
        assert time.monotonic() < deadline, f"not within {LIVENESS_SECONDS} s"
        time.sleep(0.1)
