"""Start-up refuses what would give wrong answers: a data key that cannot read the database
(an empty value from a secret store, another site's key) and a database URL that does not
work, each named by its setting, never a traceback.

The CLI tests run ``shequyun`` in a subprocess on the test's own database (PostgreSQL when
``SHEQUYUN_TEST_DATABASE_URL`` is set), with only the kernel's plugins.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.kernel import Kernel
from shequyun.residents.crypto import FieldCipher
from shequyun.residents.keycheck import KeyMismatch, check_data_key

from ..conftest import SHEQUYUN, subprocess_env
from ..residents._data import resident
from .servers import free_port, run

RIGHT = "the-data-key-of-this-site-0123456789"


@pytest.fixture
def cli_env(shequyun_kernel, tmp_path):
    """``shequyun`` on the test's database with the kernel's plugins only; a data key given."""

    def env(**extra: str) -> dict[str, str]:
        return subprocess_env(
            tmp_path,
            SHEQUYUN_DATABASE_URL=shequyun_kernel.settings.database_url,
            SHEQUYUN_PLUGINS_ALLOWED="",
            **extra,
        )

    return env


def test_serve_and_worker_refuse_an_empty_or_wrong_data_key(cli_env):
    first = run("worker", "--once", env=cli_env(SHEQUYUN_DATA_KEY=RIGHT))
    assert first.returncode == 0, first.stderr  # the first start keeps the canary

    empty = run("worker", "--once", env=cli_env(SHEQUYUN_DATA_KEY=""))
    assert empty.returncode == 1
    assert "data_key (SHEQUYUN_DATA_KEY) is empty" in empty.stderr
    assert "Traceback" not in empty.stderr

    wrong = cli_env(SHEQUYUN_DATA_KEY="another-site-s-key")
    served = run("serve", "--port", str(free_port()), env=wrong)
    assert served.returncode == 1, served.stderr  # refused before it ever listened
    assert "data_key (SHEQUYUN_DATA_KEY) is not the key" in served.stderr
    assert "Traceback" not in served.stderr
    assert RIGHT not in served.stderr + served.stdout

    again = run("worker", "--once", env=cli_env(SHEQUYUN_DATA_KEY=RIGHT))
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("url", "says", "to_do"),
    [
        (
            "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/nowhere",
            "cannot connect to",
            "check that the database server runs and that the URL's host and port reach it",
        ),
        (
            "postgres://nobody:hunter2@127.0.0.1/nowhere",
            "cannot be used",
            "write postgresql+psycopg://user:password@host:5432/database",
        ),
        (
            "sqlite:////proc/no-such-place/shequyun.db",
            "cannot be used",
            "create the file's directory, writable by the service user",
        ),
    ],
)
def test_a_database_url_that_does_not_work_is_named_not_traced(tmp_path, url, says, to_do):
    commands = (
        ["serve", "--port", str(free_port())],
        ["worker", "--once"],
        ["db", "upgrade"],
        ["db", "check"],
        ["backup", "verify"],
    )
    for command in commands:
        answer = run(*command, env=subprocess_env(tmp_path, SHEQUYUN_DATABASE_URL=url))
        assert answer.returncode == 1, answer.stderr
        # One line, as the journal shows it: what is wrong, then what to do.
        assert answer.stderr.count("\n") == 1, answer.stderr
        assert answer.stderr.startswith("Error: database_url (SHEQUYUN_DATABASE_URL)")
        assert says in answer.stderr
        assert answer.stderr.rstrip().endswith(f"; {to_do}"), answer.stderr
        assert "hunter2" not in answer.stderr


def test_a_database_that_does_not_exist_says_how_to_create_it(shequyun_kernel, tmp_path):
    url = make_url(shequyun_kernel.settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL server that answers, without the database")
    missing = url.set(database="shequyun_not_created").render_as_string(hide_password=False)
    owner = url.username
    for command in (["worker", "--once"], ["db", "status"]):
        answer = run(*command, env=subprocess_env(tmp_path, SHEQUYUN_DATABASE_URL=missing))
        assert answer.returncode == 1, answer.stderr
        assert answer.stderr.count("\n") == 1, answer.stderr
        assert 'database "shequyun_not_created" does not exist' in answer.stderr
        assert f"create it (createdb --owner={owner} shequyun_not_created, as postgres)" in (
            answer.stderr
        )


def test_an_app_started_without_serve_refuses_a_data_key_that_cannot_read_the_database(
    shequyun_kernel, shequyun_client
):
    assert shequyun_client.get("/readyz").json() == {"status": "ready"}  # keeps the canary
    for update in (
        {"data_key": SecretStr("another-site-s-key")},
        {"data_key": SecretStr(""), "secret_key": SecretStr("a-secret-key-not-this-site-s")},
    ):
        settings = shequyun_kernel.settings.model_copy(update=update)
        other = Kernel(settings, discover=False, engine=shequyun_kernel.engine)
        app = create_app(kernel=other)
        with pytest.raises(KeyMismatch, match=r"data_key \(SHEQUYUN_DATA_KEY\)"), TestClient(app):
            pass  # the start-up refuses: it never serves
        ready = TestClient(app).get("/readyz")  # and /readyz of one that skipped it says so
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "data_key_mismatch"
        assert "data_key" in ready.json()["error"]["message"]
    assert shequyun_client.get("/readyz").status_code == 200


def test_uvicorn_on_the_app_factory_refuses_another_sites_key(cli_env):
    """The same refusal when the app is started by uvicorn itself, not ``shequyun serve``."""
    assert run("worker", "--once", env=cli_env(SHEQUYUN_DATA_KEY=RIGHT)).returncode == 0
    uvicorn = str(Path(SHEQUYUN).parent / "uvicorn")
    started = subprocess.run(
        [uvicorn, "shequyun.app:create_app", "--factory", "--port", str(free_port())],
        env=cli_env(SHEQUYUN_DATA_KEY="another-site-s-key"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert started.returncode != 0
    assert "data_key (SHEQUYUN_DATA_KEY) is not the key" in started.stderr
    assert "Application startup failed" in started.stderr


def test_a_database_from_before_the_canary_is_checked_against_its_residents(
    shequyun_kernel, shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    created = shequyun_client.post("/api/v1/residents", json=resident(), headers=cadre.auth)
    assert created.status_code == 201, created.text
    engine, settings = shequyun_kernel.engine, shequyun_kernel.settings
    with pytest.raises(KeyMismatch, match=r"data_key \(SHEQUYUN_DATA_KEY\) is empty"):
        check_data_key(engine, FieldCipher("another-site-s-key"), settings)
    check_data_key(engine, shequyun_kernel.residents.cipher, settings)  # keeps the canary
    with pytest.raises(KeyMismatch):
        check_data_key(engine, FieldCipher("another-site-s-key"), settings)
    check_data_key(engine, shequyun_kernel.residents.cipher, settings)


def test_the_database_commands_name_an_unreachable_database_too(tmp_path):
    env = subprocess_env(
        tmp_path, SHEQUYUN_DATABASE_URL="postgresql+psycopg://nobody:hunter2@127.0.0.1:1/nowhere"
    )
    for command in (["db", "upgrade"], ["db", "status"], ["db", "check"], ["backup", "verify"]):
        answer = run(*command, env=env)
        assert answer.returncode == 1, answer.stderr
        assert "database_url (SHEQUYUN_DATABASE_URL): cannot connect to" in answer.stderr
        assert "Traceback" not in answer.stderr and "hunter2" not in answer.stderr


def test_plugins_list_says_the_states_are_unknown_when_the_database_does_not_answer(tmp_path):
    """What an operator checks after an upgrade must not read "active" from a database it
    never reached: loaded plugins are ``unknown``, what the settings decided stays, exit 1."""
    env = subprocess_env(
        tmp_path,
        SHEQUYUN_DATABASE_URL="postgresql+psycopg://nobody:hunter2@127.0.0.1:1/nowhere",
        SHEQUYUN_PLUGINS_DISABLED="advisors",
    )
    answer = run("plugins", "list", "--json", env=env)
    assert answer.returncode == 1
    states = {p["name"]: (p["state"], p["reason"]) for p in json.loads(answer.stdout)}
    assert states["kernel"] == ("unknown", "database unreachable")
    assert states["advisors"][0] == "disabled"
    assert "active" not in {state for state, _ in states.values()}
    assert answer.stderr.startswith("Error: database_url (SHEQUYUN_DATABASE_URL): cannot connect")
    assert answer.stderr.rstrip().endswith("their start-up against the database did not run")
    assert "Traceback" not in answer.stderr and "hunter2" not in answer.stderr

    table = run("plugins", "list", env=env)
    assert table.returncode == 1
    assert "kernel" in table.stdout and "unknown" in table.stdout
    assert " active" not in table.stdout


def test_plugins_list_reads_a_database_that_answers(cli_env):
    answer = run("plugins", "list", "--json", env=cli_env())
    assert answer.returncode == 0, answer.stderr
    states = {p["name"]: p["state"] for p in json.loads(answer.stdout)}
    assert states["kernel"] == states["residents"] == "active"
    assert "unknown" not in states.values()
