"""The ``shequyun`` command, run as a user runs it: in a subprocess, on its own database."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import httpx2 as httpx
import pytest

from .conftest import SHEQUYUN, manifest_source, subprocess_env

BROKEN_PLUGINS = {
    "noimport": "import a_module_that_does_not_exist\n",
    "badmanifest": "MANIFEST = {'name': 'badmanifest', 'version': '1'}\n",
    "oldsdk": manifest_source("oldsdk", sdk="<0.1"),
    "crashy": manifest_source("crashy")
    + "\nfrom shequyun_sdk import hookimpl\n\n@hookimpl\ndef on_startup(plugin):\n"
    "    raise RuntimeError('cannot reach the district system')\n",
}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHEQUYUN, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def broken_env(tmp_path, fake_dists):
    root, make = fake_dists
    for name, source in BROKEN_PLUGINS.items():
        make(name, source)
    return subprocess_env(tmp_path, root)


def test_plugins_list_shows_hello_active_and_each_broken_plugin_with_its_reason(broken_env):
    result = run("plugins", "list", "--json", env=broken_env)
    assert result.returncode == 0, result.stderr
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert listed["hello"]["state"] == "active"
    assert listed["noimport"]["reason"] == (
        "import failed: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'"
    )
    assert listed["badmanifest"]["reason"].startswith("invalid manifest:")
    assert "'title' is a required property" in listed["badmanifest"]["reason"]
    assert listed["oldsdk"]["reason"] == "needs SDK <0.1, but this platform provides SDK 1.4.0"
    assert listed["crashy"]["reason"] == (
        "hook on_startup raised RuntimeError: cannot reach the district system"
    )
    assert all(listed[name]["state"] == "failed" for name in BROKEN_PLUGINS)

    table = run("plugins", "list", env=broken_env).stdout
    assert "hello" in table and "active" in table
    assert "crashy" in table and "cannot reach the district system" in table


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_kernel_serves_while_broken_plugins_are_installed(broken_env, tmp_path):
    assert run("db", "upgrade", env=broken_env).returncode == 0
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [SHEQUYUN, "serve", "--port", str(port)], env=broken_env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start in 120 s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        plugins = httpx.get(f"http://127.0.0.1:{port}/api/v1/plugins").json()["plugins"]
        states = {p["name"]: p["state"] for p in plugins}
        assert states["crashy"] == "failed"
        assert states["hello"] == "active"
        assert httpx.get(f"http://127.0.0.1:{port}/plugins/hello/").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_refuses_a_database_with_pending_migrations_and_says_which(tmp_path):
    env = subprocess_env(tmp_path)
    for command in (["serve", "--port", str(free_port())], ["worker", "--once"]):
        result = run(*command, env=env)
        assert result.returncode == 1
        # One line, as the journal shows it: every branch, its first and last pending revision.
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(
            "Error: the database needs migrations, run `shequyun db upgrade` (pending: "
        )
        assert re.search(r"kernel:k0001_events … k\d{4}_\w+ \(\d+\)", result.stderr)
        assert "hello:hello_0001" in result.stderr


def test_db_upgrade_applies_the_kernel_and_every_plugin_branch(tmp_path):
    env = subprocess_env(tmp_path)
    assert run("db", "status", env=env).returncode == 1
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "kernel:k0001_events" in upgraded.stdout
    assert "hello:hello_0001" in upgraded.stdout
    assert run("db", "status", env=env).stdout.strip() == "current"
    assert "already current" in run("db", "upgrade", env=env).stdout
    checked = run("db", "check", env=env)
    assert (checked.returncode, checked.stdout.strip()) == (0, "models match the database")


def test_bad_settings_are_a_clear_error_not_a_traceback(tmp_path):
    env = subprocess_env(tmp_path, SHEQUYUN_PORT="eighty")
    result = run("plugins", "list", env=env)
    assert result.returncode == 1
    assert "Error: invalid settings: port: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr
    not_a_url = run("serve", env=subprocess_env(tmp_path, SHEQUYUN_DATABASE_URL="db.example"))
    assert not_a_url.returncode == 1
    assert not_a_url.stderr == (
        "Error: invalid settings: database_url: is not a database URL such as "
        "postgresql+psycopg://host/db\n"
    )


def test_the_worker_delivers_due_events(tmp_path):
    env = subprocess_env(tmp_path)
    run("db", "upgrade", env=env)
    result = run("worker", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["delivered 0", "ran 0 scheduled jobs", "sent 0 webhooks"]


def test_serve_says_in_words_when_the_port_is_busy(tmp_path):
    env = subprocess_env(tmp_path)
    assert run("db", "upgrade", env=env).returncode == 0
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("serve", "--port", str(port), env=env)
    assert result.returncode != 0
    assert f"端口 {port} 已被占用" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert "Traceback" not in result.stderr and "Errno 98" not in result.stderr


def test_a_sqlite_install_runs_without_psycopg(tmp_path):
    """psycopg is the ``postgres`` extra: a plugin author's SQLite install has none, and the
    platform must start without it (a psycopg shadowed by one that cannot be imported)."""
    shadow = tmp_path / "no_psycopg" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    env = subprocess_env(tmp_path, shadow.parent)
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = run("plugins", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert all(p["state"] == "active" for p in json.loads(listed.stdout))
