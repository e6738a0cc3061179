"""Two uvicorn workers: both write access lines in the same format, and /metrics adds them up.

With ``--workers 2`` logging used to be configured in the parent process only, so the workers
logged no access lines at all and their tracebacks carried no time, level or request id.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from shequyun.logs import JsonFormatter
from shequyun.request_context import RequestIdFilter, enter_request, leave_request

from ..conftest import SHEQUYUN, subprocess_env
from .servers import START_SECONDS, run, serving

# time, level, pid, [request id], logger: message
LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (INFO|WARNING|ERROR|DEBUG) (\d+) \[([^\]]+)\] "
    r"(\S+): (.*)$"
)


@pytest.fixture
def two_workers(tmp_path):
    env = subprocess_env(tmp_path)
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    with serving(env, tmp_path / "serve.log", "--workers", "2") as server:
        yield server


def test_each_worker_logs_its_access_lines_with_request_ids_and_metrics_add_up(two_workers):
    server = two_workers
    before = _healthz_count(server.get("/metrics").text)
    sent: list[str] = []

    def probe(_: int) -> None:
        request_id = f"probe-{uuid.uuid4().hex[:16]}"
        sent.append(request_id)
        # A new connection each time: the kernel hands connections to whichever worker accepts.
        assert server.get("/healthz", headers={"X-Request-ID": request_id}).status_code == 200

    pids: set[str] = set()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(25):  # until both workers have answered (a liveness bound)
            list(pool.map(probe, range(16)))
            access = _access_lines(server.log.read_text())
            pids = {pid for pid, rid, _ in access if rid in sent}
            if len(pids) == 2:
                break
    assert len(pids) == 2, "only one worker answered; log:\n" + server.log.read_text()[-3000:]

    access = _access_lines(server.log.read_text())
    logged = {rid: message for _, rid, message in access}
    for request_id in sent:
        assert re.fullmatch(r"GET /healthz 200 \d+\.\dms 127\.0\.0\.1", logged[request_id])
    # Uvicorn's own lines (start-up) come out in the same format, from both workers.
    started = [
        m for m in server.log.read_text().splitlines() if "Application startup complete" in m
    ]
    assert len(started) == 2 and all(LINE.match(line) for line in started)
    # Checking the migrations at start is not news (Alembic logs a dozen INFO lines for it).
    loggers = {m.group(5) for m in map(LINE.match, server.log.read_text().splitlines()) if m}
    assert not {name for name in loggers if name.startswith("alembic")}, loggers

    metrics = server.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    # The counts of both workers, added up: exactly the probes sent.
    assert _healthz_count(text) - before == len(sent)
    # Each worker's pool: 10 kept + 10 in a burst, two workers.
    assert re.search(r'^shequyun_db_connections_limit\{database="primary"\} 40\.0$', text, re.M)
    assert re.search(r"^shequyun_outbox_lag_seconds 0\.0$", text, re.MULTILINE)
    assert re.search(r'^shequyun_outbox_deliveries\{status="pending"\} 0\.0$', text, re.M)


def test_metrics_are_not_for_clients_that_came_through_a_proxy(two_workers):
    proxied = two_workers.get(
        "/metrics", headers={"X-Forwarded-For": "203.0.113.9", "Accept": "application/json"}
    )
    assert proxied.status_code == 403
    assert proxied.json()["error"]["code"] == "forbidden"


def _healthz_count(metrics: str) -> float:
    count = re.search(
        r'^shequyun_http_request_duration_seconds_count\{method="GET",route="/healthz",'
        r'status="200"\} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    return 0.0 if count is None else float(count.group(1))


def _access_lines(log: str) -> list[tuple[str, str, str]]:
    """(pid, request id, message) of every access line."""
    found = []
    for line in log.splitlines():
        match = LINE.match(line)
        if match and match.group(5) == "shequyun.access":
            found.append((match.group(3), match.group(4), match.group(6)))
    return found


def test_json_lines_carry_time_level_request_id_and_the_access_fields():
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "shequyun.access", logging.INFO, __file__, 1, "GET /residents 200 3.2ms", None, None
    )
    for field, value in {
        "method": "GET",
        "path": "/residents",
        "route": "/residents",
        "status": 200,
        "duration_ms": 3.2,
        "client": "10.0.0.7",
    }.items():
        setattr(record, field, value)
    tokens = enter_request("trace-json-123456", "10.0.0.7")
    try:
        RequestIdFilter().filter(record)
    finally:
        leave_request(tokens)
    entry = json.loads(formatter.format(record))
    assert entry["request_id"] == "trace-json-123456"
    assert entry["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", entry["time"])
    assert (entry["route"], entry["status"], entry["duration_ms"]) == ("/residents", 200, 3.2)

    try:
        raise ValueError("数据库不可用")
    except ValueError:
        failed = logging.LogRecord(
            "shequyun.app", logging.ERROR, __file__, 1, "boom", None, sys.exc_info()
        )
    RequestIdFilter().filter(failed)
    entry = json.loads(formatter.format(failed))
    assert entry["request_id"] == "-"
    assert "ValueError: 数据库不可用" in entry["exception"]


def test_an_unknown_route_is_one_series_not_one_per_path(shequyun_client):
    from shequyun.metrics import REQUEST_SECONDS

    before = _sample(REQUEST_SECONDS, "GET", "unmatched", "404")
    shequyun_client.get("/no-such-page-1")
    shequyun_client.get("/no-such-page-2")
    shequyun_client.get("/api/v1/no-such-thing/3")
    assert _sample(REQUEST_SECONDS, "GET", "unmatched", "404") == before + 3


def test_a_trailing_slash_redirect_counts_under_the_route_it_redirects_to(shequyun_client):
    from shequyun.metrics import REQUEST_SECONDS

    keys = [("GET", "/healthz", "307"), ("GET", "/api/v1/me", "307"), ("GET", "unmatched", "307")]
    before = {key: _sample(REQUEST_SECONDS, *key) for key in keys}
    for path in ("/healthz/", "/api/v1/me/"):
        answer = shequyun_client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (
            307,
            "http://testserver" + path.rstrip("/"),
        )
    after = {key: _sample(REQUEST_SECONDS, *key) for key in keys}
    assert after == {**before, keys[0]: before[keys[0]] + 1, keys[1]: before[keys[1]] + 1}


def test_a_request_refused_before_routing_counts_under_the_route_it_was_for(shequyun_client):
    """A dashboard of errors by route shows where refusals hurt: a bad token on the residents
    API, a login form without its CSRF token, an upload over the bound. They were all
    ``unmatched``, with the 404s of scanners and the scrapes of /metrics."""
    from shequyun.metrics import REQUEST_SECONDS

    client = shequyun_client
    refused = [
        ("GET", "/api/v1/residents", "401"),
        ("GET", "/api/v1/residents/{resident_id}", "401"),
        ("POST", "/login", "403"),
        ("POST", "/api/v1/residents", "413"),
        ("GET", "/residents", "400"),
        ("GET", "/metrics", "403"),  # this client is not on the same machine
        ("GET", "/static/kernel/{path}", "200"),
    ]
    before = {key: _sample(REQUEST_SECONDS, *key) for key in refused}
    unmatched = _sample(REQUEST_SECONDS, "GET", "unmatched", "403")

    bad_token = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/residents", headers=bad_token).status_code == 401
    assert client.get("/api/v1/residents/310", headers=bad_token).status_code == 401
    assert client.post("/login", data={"username": "a", "password": "b"}).status_code == 403
    big = {"Content-Length": str(64 * 1024 * 1024)}
    assert client.post("/api/v1/residents", content=b"{}", headers=big).status_code == 413
    assert client.get("/residents?q=%00").status_code == 400
    assert client.get("/metrics").status_code == 403
    assert client.get("/static/kernel/shell.js").status_code == 200

    for key in refused:
        assert _sample(REQUEST_SECONDS, *key) == before[key] + 1, key
    assert _sample(REQUEST_SECONDS, "GET", "unmatched", "403") == unmatched
    series = {s.labels["route"] for m in REQUEST_SECONDS.collect() for s in m.samples}
    assert not any("310" in route or "not-a-token" in route for route in series)


def _sample(histogram, method: str, route: str, status: str) -> float:
    for metric in histogram.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {
                "method": method,
                "route": route,
                "status": status,
            }:
                return sample.value
    return 0.0


def test_metrics_answer_a_scraper_with_the_token(shequyun_kernel):
    from starlette.testclient import TestClient

    from shequyun.app import create_app
    from shequyun.kernel import Kernel

    settings = shequyun_kernel.settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    kernel = Kernel(settings, discover=False, engine=shequyun_kernel.engine)
    with TestClient(create_app(kernel=kernel), client=("203.0.113.9", 5000)) as client:
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert scraped.status_code == 200
        assert "shequyun_outbox_lag_seconds" in scraped.text
        assert client.get("/healthz").status_code == 200


def test_the_event_worker_logs_in_the_configured_format_and_says_when_it_starts(tmp_path):
    """``shequyun worker`` used to ignore ``log_format``: with ``json`` set for a log shipper,
    the web workers wrote JSON and the event worker text. Both also opened with a dozen INFO
    lines of Alembic's (``setup plugin alembic.autogenerate.schemas``...) from merely checking
    the migrations, and the worker said nothing of its own until it stopped."""
    env = subprocess_env(tmp_path, SHEQUYUN_LOG_FORMAT="json")
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [SHEQUYUN, "worker", "--interval", "0.2"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + START_SECONDS  # a liveness bound, not a timing test
        while "worker started" not in log.read_text() and worker.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [(e["logger"], e["message"]) for e in entries]
    assert any(
        logger == "shequyun.worker" and message.startswith("worker started: events every 0.2 s")
        for logger, message in messages
    ), messages
    assert ("shequyun.worker", "worker stopped") in messages
    assert not [m for m in messages if m[0].startswith("alembic")], messages


def test_a_metrics_directory_shared_with_the_event_worker_counts_its_jobs_not_dead_pools(
    tmp_path,
):
    """The systemd units share one ``PROMETHEUS_MULTIPROC_DIR`` between the web workers and
    ``shequyun worker``, which runs the scheduled jobs when ``inline_worker`` is off: its runs
    are in the web's ``/metrics``. The directory outlives each start, so the pools of a process
    that was killed (it never said it stopped) are forgotten when ``serve`` starts; before, they
    were added to every scrape until the machine restarted."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = subprocess_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(shared))
    assert run("db", "upgrade", env=env).returncode == 0
    ran = run("jobs", "run", "kernel.residents.tally", env=env)  # as the worker runs a job
    assert ran.returncode == 0, ran.stderr
    # A process killed with its pool open: its live gauges stay behind in the directory.
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from shequyun import metrics; "
            "metrics.POOL_LIMIT.labels('primary').inc(20); os._exit(0)",
        ],
        env=env,
        timeout=120,
    )
    assert killed.returncode == 0
    assert list(shared.glob("gauge_livesum_*.db"))
    with serving(env, tmp_path / "serve.log", "--workers", "2") as server:
        text = server.get("/metrics").text
    assert re.search(
        r'^shequyun_job_runs_total\{job="kernel\.residents\.tally",outcome="ok"\} 1\.0$', text, re.M
    ), text
    # Two live workers' pools (10 + 10 each), not the dead process's 20 on top.
    assert re.search(r'^shequyun_db_connections_limit\{database="primary"\} 40\.0$', text, re.M)
