"""The examples of docs/operations.md hold together: an operator copies them as they stand.

Each test here stands for a step that failed when a district's operator followed the guide on
a fresh machine: PgBouncer refused the example file, nginx proxied half the requests to a port
nothing listened on, and the event worker's job counts never reached ``/metrics``.
"""

from __future__ import annotations

import re

from shequyun.settings import load_settings

from ..conftest import REPO

GUIDE = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
WEB_UNIT = "# /etc/systemd/system/shequyun-web@.service"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def block(first_line: str) -> str:
    """The fenced block of the guide that begins with ``first_line``."""
    found = [body for _, body in FENCE.findall(GUIDE) if body.startswith(first_line)]
    assert len(found) == 1, f"no single block starts with {first_line!r}"
    return found[0]


def settings_lines(text: str) -> dict[str, list[str]]:
    """``key = value`` (ini) or ``Key=value`` (systemd) lines: every value of each key."""
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_]+)\s*=\s*(.*)$", line)
        if match:
            values.setdefault(match.group(1), []).append(match.group(2))
    return values


def test_the_example_settings_and_environment_file_load(tmp_path):
    toml = tmp_path / "shequyun.toml"
    toml.write_text(block("# /etc/shequyun/shequyun.toml"), encoding="utf-8")
    environ = {}
    for line in block("# /etc/shequyun/env   (chmod 600, owner shequyun)").splitlines()[1:]:
        name, _, value = line.partition("=")
        # Plain NAME=value: systemd and a shell's `. /etc/shequyun/env` must read it alike.
        assert re.fullmatch(r"SHEQUYUN_[A-Z0-9_]+", name) and not value.startswith(('"', "'"))
        environ[name] = value.replace("…", "example-secret")
    settings = load_settings(environ=environ, config_file=toml)
    assert settings.database_pooler == "transaction"
    assert settings.database_replicas == (environ["SHEQUYUN_REPLICA_1"],)
    assert settings.https and not settings.inline_worker and settings.log_format == "json"


def test_the_pgbouncer_example_has_no_comment_after_a_value():
    """PgBouncer reads ``default_pool_size = 40 ; server connections...`` as the value and
    stops: ``invalid value "40 ; server connections per database and user" for parameter
    default_pool_size``."""
    ini = block("; /etc/pgbouncer/pgbouncer.ini (Debian package pgbouncer)")
    for key, values in settings_lines(ini).items():
        for value in values:
            assert ";" not in value and "#" not in value, f"{key} = {value}"
    assert settings_lines(ini)["pool_mode"] == ["transaction"]


def test_the_role_that_reads_pgbouncer_s_figures_is_in_its_userlist():
    """Without ``stats_users`` PgBouncer's console answers ``SHOW POOLS`` with ``FATAL: not
    allowed``; a role there that is not in ``userlist.txt`` cannot sign in to it either."""
    ini = block("; /etc/pgbouncer/pgbouncer.ini (Debian package pgbouncer)")
    (role,) = settings_lines(ini)["stats_users"]
    userlist = next(b for _, b in FENCE.findall(GUIDE) if "> /etc/pgbouncer/userlist.txt" in b)
    assert f"CREATE ROLE {role} NOLOGIN" in userlist
    assert f"rolname IN ('shequyun', '{role}')" in userlist
    assert f"postgresql://{role}@127.0.0.1:6432/pgbouncer" in GUIDE


def test_nginx_proxies_to_the_ports_the_web_instances_serve():
    """Two instances per machine, so that an upgrade restarts one while the other serves; nginx
    must not count a restarted one out (``max_fails``) when the other restarts."""
    unit = block(WEB_UNIT)
    serve = settings_lines(unit)["ExecStart"][0]
    assert "--port %i" in serve
    enabled = re.search(r"systemctl enable --now (shequyun-web@\d+) (shequyun-web@\d+) ", GUIDE)
    assert enabled is not None
    ports = [name.split("@")[1] for name in enabled.groups()]
    nginx = block("upstream shequyun {")
    upstream = re.search(r"upstream shequyun \{(.*?)\}", nginx, re.S)
    assert upstream is not None
    servers = re.findall(r"server ([\d.]+):(\d+) max_fails=0;", upstream.group(1))
    assert servers == [("127.0.0.1", port) for port in ports]
    upgrade = GUIDE[GUIDE.index("4. **Switch and restart**") :]
    assert f"for port in {' '.join(ports)}; do systemctl restart shequyun-web@$port;" in upgrade


def test_the_web_and_the_event_worker_share_a_metrics_directory_that_outlives_a_restart():
    web = settings_lines(block(WEB_UNIT))
    worker = settings_lines(
        block("# /etc/systemd/system/shequyun-worker.service: events and scheduled jobs")
    )
    for unit in (web, worker):
        (directory,) = unit["RuntimeDirectory"]
        assert unit["RuntimeDirectoryPreserve"] == ["yes"]
        assert f"PROMETHEUS_MULTIPROC_DIR=/run/{directory}" in unit["Environment"]
        assert unit["EnvironmentFile"] == ["/etc/shequyun/env"]
    assert web["RuntimeDirectory"] == worker["RuntimeDirectory"]
