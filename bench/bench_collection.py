"""Collection: submissions/s of a 250-field form through the HTTP API, and the progress query.

1. ``collection-submit``: a campaign of the 250-field form (``bench_validator.form``) to all
   6,077 committees; submissions sent to the platform under uvicorn on loopback, 4 client
   threads with keep-alive connections, each to its own task. Baseline: inserting the same
   documents straight into a scratch table with executemany (what storing alone costs), same
   run. ODK Central publishes about 41 submissions/s for a 250-question form on a 2 GB server.
2. ``collection-progress``: ``results.progress`` by district for that campaign (about half the
   tasks submitted) vs one hand-written ``GROUP BY district_id`` on the task table.

SQLite by default; PostgreSQL with ``SHEQUYUN_BENCH_DATABASE_URL=postgresql+psycopg://...``
(a temporary database is created on that server and dropped).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread

TREE_COMMITTEES = 6077


def run(*, quick: bool = False) -> list[Result]:
    submissions = 150 if quick else 1200
    server_url = os.environ.get("SHEQUYUN_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bench-collection-") as tmp:
        if server_url:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            name = f"bench_collection_{uuid.uuid4().hex[:8]}"
            admin = create_engine(
                make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
            try:
                return _measure(Path(tmp), url, submissions, quick)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        return _measure(Path(tmp), f"sqlite:///{Path(tmp) / 'bench.db'}", submissions, quick)


def _measure(tmp: Path, url: str, submissions: int, quick: bool) -> list[Result]:
    from _common import PYTHON, clean_env, free_port
    from bench_validator import form

    from shequyun.identity import demo_data
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(
        environ={}, data_dir=tmp, database_url=url, inline_worker=False, log_level="WARNING"
    )
    kernel = Kernel(settings, discover=False)
    kernel.upgrade_database()
    demo_data.load(kernel)
    schema, document = form()
    token, campaign_id, task_ids = _campaign(kernel, schema)
    engine_name = kernel.engine.dialect.name

    kernel.engine.dispose()
    # The server runs in its own process, as in production, so the client threads do not
    # share its interpreter lock.
    port = free_port()
    env = clean_env(
        SHEQUYUN_DATABASE_URL=url,
        SHEQUYUN_DATA_DIR=str(tmp),
        SHEQUYUN_INLINE_WORKER="false",
        SHEQUYUN_PLUGINS_ALLOWED="",
        SHEQUYUN_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "shequyun.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, server)
        elapsed = _submit_all(port, token, task_ids[:submissions], document)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()
    api_rate = submissions / elapsed
    store_rate = _raw_store_rate(kernel, document, submissions)
    submit = Result(
        "collection-submit",
        f"submissions/s of a 250-field form through the API ({engine_name}) vs storing the JSON",
        Figure("raw executemany", store_rate, "/s", f"{submissions} rows in one transaction"),
        Figure(
            "POST /tasks/{id}/submit",
            api_rate,
            "/s",
            f"{submissions} submissions, 4 client threads, keep-alive, 1 uvicorn worker",
        ),
        reproduce("collection", quick=quick),
        (
            f"ODK Central's published figure: about 41/s for a 250-question form on a 2 GB server; "
            f"here {api_rate:.0f}/s = {api_rate / 41:.1f}x that",
            "each submission is authenticated (bearer token), scope-checked, validated by the "
            "compiled validator, idempotency-keyed, written with its history row and an outbox "
            "event",
        ),
    )

    progress_times, raw_times = _progress(kernel, campaign_id, quick)
    progress = Result(
        "collection-progress",
        f"progress by district of a campaign to all {TREE_COMMITTEES:,} committees ({engine_name})",
        Figure("hand-written GROUP BY", median(raw_times), "ms", spread(raw_times, " ms")),
        Figure("results.progress", median(progress_times), "ms", spread(progress_times, " ms")),
        reproduce("collection", quick=quick),
        (
            "results.progress also applies the actor's scope filter, counts on-time and late "
            "submissions and names the districts",
        ),
    )
    kernel.close()
    return [submit, progress]


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    from _common import http_get

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            message = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"the server stopped: {message[-2000:]}")
        try:
            if http_get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start in 60 s")


def _campaign(kernel: Any, schema: dict[str, Any]) -> tuple[str, int, list[int]]:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from shequyun.collection.models import Task
    from shequyun.identity.directory import create_token, create_user, grant_role, unit_by_code

    ui = {
        "fields": {name: {"label": f"问题{i + 1}"} for i, name in enumerate(schema["properties"])}
    }
    _label_nested(schema, ui)
    with Session(kernel.engine, expire_on_commit=False) as session:
        city = unit_by_code(session, "310000000000")
        user = create_user(
            session,
            username="benchadmin",
            display_name="压测",
            home_unit=city,
            must_change_password=False,
        )
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.platform_admin", unit=city
        )
        _, token = create_token(session, grant=grant, name="bench", expires_at=None)
        session.commit()
        actor = kernel.authenticator.actor_for(user, grant, city, "token")
        form = kernel.collection.forms.create(
            session, actor, {"title": "250 题压测表", "schema": schema, "ui": ui}
        )
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        campaign = kernel.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "targets": ["310000000000"],
                "deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            },
        )
        session.commit()
        task_ids = list(
            session.exec(select(Task.id).where(Task.campaign_id == campaign.id).order_by(Task.id))
        )
    return token, campaign.id, task_ids


def _label_nested(schema: dict[str, Any], ui: dict[str, Any]) -> None:
    """Labels for nested fields too (the UI layer requires one per field)."""
    defs = schema.get("$defs", {})
    for name, prop in schema["properties"].items():
        target = prop
        if "$ref" in prop:
            target = defs[prop["$ref"].split("/")[-1]]
        items = target.get("items") if target.get("type") == "array" else None
        nested = target.get("properties") or (items or {}).get("properties") or {}
        for child in nested:
            ui["fields"][f"{name}.{child}"] = {"label": child}


def _submit_all(port: int, token: str, task_ids: list[int], document: dict[str, Any]) -> float:
    import httpx2 as httpx

    body_for = {
        tid: json.dumps({"client_key": f"bench-{tid:08d}", "data": document}) for tid in task_ids
    }
    shards = [task_ids[i::4] for i in range(4)]
    failures: list[str] = []

    def worker(ids: list[int]) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=30,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        ) as client:
            for tid in ids:
                response = client.post(f"/api/v1/tasks/{tid}/submit", content=body_for[tid])
                if response.status_code != 201:
                    failures.append(f"{tid}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=worker, args=(shard,)) for shard in shards]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} submissions failed, first: {failures[0]}")
    return elapsed


def _raw_store_rate(kernel: Any, document: dict[str, Any], count: int) -> float:
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert

    metadata = MetaData()
    scratch = Table(
        "bench_raw_submission",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("data", JSON, nullable=False),
    )
    metadata.create_all(kernel.engine)
    rows = [{"data": document} for _ in range(count)]
    start = time.perf_counter()
    with kernel.engine.begin() as connection:
        connection.execute(insert(scratch), rows)
    elapsed = time.perf_counter() - start
    metadata.drop_all(kernel.engine)
    return count / elapsed


def _progress(kernel: Any, campaign_id: int, quick: bool) -> tuple[list[float], list[float]]:
    from sqlalchemy import text
    from sqlmodel import Session, select

    from shequyun.collection.models import Campaign
    from shequyun.collection.results import progress
    from shequyun.identity.models import Grant, OrgUnit, User

    rounds = 5 if quick else 15
    with Session(kernel.engine) as session:
        # Half the tasks submitted, a tenth returned: the counts have something to count.
        session.execute(
            text(
                "UPDATE kernel_task SET status = 'submitted', on_time = true "
                "WHERE campaign_id = :c AND id % 2 = 0"
            ),
            {"c": campaign_id},
        )
        session.execute(
            text(
                "UPDATE kernel_task SET status = 'returned' WHERE campaign_id = :c AND id % 10 = 1"
            ),
            {"c": campaign_id},
        )
        session.commit()
        user = session.exec(select(User).where(User.username == "benchadmin")).one()
        grant = session.exec(select(Grant).where(Grant.user_id == user.id)).one()
        city = session.get(OrgUnit, grant.unit_id)
        actor = kernel.authenticator.actor_for(user, grant, city, "session")
        campaign = session.get(Campaign, campaign_id)
        raw_sql = text(
            "SELECT district_id, count(*), "
            "sum(CASE WHEN status = 'submitted' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status = 'returned' THEN 1 ELSE 0 END) "
            "FROM kernel_task WHERE campaign_id = :c AND withdrawn = false GROUP BY district_id"
        )
        ours, raw = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            result = progress(session, actor, campaign, "district", None)
            ours.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            rows = session.execute(raw_sql, {"c": campaign_id}).all()
            raw.append((time.perf_counter() - start) * 1000)
        assert result["total"]["expected"] == sum(r[1] for r in rows) == TREE_COMMITTEES
    return ours, raw


if __name__ == "__main__":
    for outcome in run(quick="--quick" in os.sys.argv):  # type: ignore[attr-defined]
        print(outcome.report())
