"""Where jobs run: a thread of the web process (the embedded default), or ``shequyun worker``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import ScheduledJob, hookimpl
from starlette.testclient import TestClient

from ..conftest import SHEQUYUN, subprocess_env
from ..hooks._plugins import manifest

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class Heartbeat:
    MANIFEST = manifest("heartbeat", "心跳检测")

    def __init__(self):
        self.beat = threading.Event()

    @hookimpl
    def register_scheduled_jobs(self):
        return [ScheduledJob("beat", self.beat.set, every=timedelta(minutes=1))]


@pytest.fixture
def heartbeat():
    return Heartbeat()


@pytest.fixture
def shequyun_plugins(heartbeat):
    return [heartbeat]


class TestInTheWebProcess:
    @pytest.fixture
    def shequyun_settings(self):
        return {"inline_worker": True}

    def test_due_jobs_run_in_a_thread_that_stops_with_the_app(
        self, shequyun_app, shequyun_kernel, heartbeat
    ):
        scheduler = shequyun_kernel.scheduler
        scheduler.clock = lambda: START
        scheduler.interval = 0.01
        with TestClient(shequyun_app):
            assert scheduler.running_in_background
            assert {s.name: s.next_due for s in scheduler.status()}["heartbeat.beat"] == (
                START + timedelta(minutes=1)
            )
            scheduler.clock = lambda: START + timedelta(minutes=1)
            assert heartbeat.beat.wait(timeout=10)
        assert not scheduler.running_in_background


def test_without_the_inline_worker_the_web_process_runs_no_jobs(shequyun_client, shequyun_kernel):
    assert not shequyun_kernel.scheduler.running_in_background


def run(*args, env):
    return subprocess.run([SHEQUYUN, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path):
    env = subprocess_env(tmp_path)
    assert run("db", "upgrade", env=env).returncode == 0
    return env


def make_due(tmp_path, name):
    with sqlite3.connect(tmp_path / "var" / "shequyun.db") as db:
        db.execute(
            "UPDATE kernel_scheduled_job SET next_due = '2026-01-01 00:00:00.000000' "
            "WHERE name = ?",
            (name,),
        )


def test_jobs_list_and_jobs_run(env):
    listed = run("jobs", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert header.split() == [
        "NAME", "SCHEDULE", "LAST", "RUN", "(UTC+8)", "NEXT", "DUE", "(UTC+8)", "OUTCOME"
    ]  # fmt: skip
    prune = next(line for line in lines if line.startswith("kernel.attachments.prune"))
    assert prune.split()[1:4] == ["daily", "03:30", "-"]  # never run yet
    assert prune.split()[5] == "03:30" and prune.split()[-1] == "-"

    ran = run("jobs", "run", "kernel.attachments.prune", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == (
        "kernel.attachments.prune: ok: 删除 0 个未使用的上传和 0 个无引用的文件"
    )
    wrong = run("jobs", "run", "kernel.attachments.purge", env=env)
    assert wrong.returncode == 1
    assert "no active scheduled job 'kernel.attachments.purge'" in wrong.stderr
    assert "kernel.attachments.prune" in wrong.stderr  # the jobs there are

    listed = {j["name"]: j for j in json.loads(run("jobs", "list", "--json", env=env).stdout)}
    assert listed["kernel.attachments.prune"]["last_outcome"] == "ok"
    assert listed["kernel.attachments.prune"]["last_run"] is not None


def test_the_worker_runs_due_jobs(env, tmp_path):
    assert run("worker", "--once", env=env).stdout.splitlines() == [
        "delivered 0",
        "ran 0 scheduled jobs",
        "sent 0 webhooks",
    ]
    make_due(tmp_path, "kernel.attachments.prune")
    result = run("worker", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["delivered 0", "ran 1 scheduled jobs", "sent 0 webhooks"]
