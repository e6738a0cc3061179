"""The web app: one error shape, a request id everywhere, bounded bodies, readiness."""

from __future__ import annotations

import logging
import os
import random

import pytest
from shequyun_sdk import hookimpl
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.kernel import Kernel
from shequyun.migrate import PendingMigrations
from shequyun.request_context import RequestIdFilter, request_id_from
from shequyun.settings import load_settings


def test_every_response_carries_a_request_id(shequyun_client):
    first = shequyun_client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    echoed = shequyun_client.get("/healthz", headers={"X-Request-ID": "bureau-call-000123"})
    assert echoed.headers["x-request-id"] == "bureau-call-000123"
    unsafe = shequyun_client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert unsafe.headers["x-request-id"] != "<script>"


def test_request_ids_do_not_repeat_when_something_seeds_random(shequyun_client):
    # A script or plugin seeding Python's shared generator must not make two requests (or two
    # workers) share an id: the ids come from a generator of their own.
    ids = []
    for _ in range(2):
        random.seed(2026)
        ids.append(shequyun_client.get("/healthz").headers["x-request-id"])
    assert ids[0] != ids[1]


def test_a_forked_worker_draws_other_request_ids_than_its_parent():
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write one id and leave at once
        os.write(writer, request_id_from(None).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    child = os.read(reader, 64).decode()
    os.close(reader)
    assert len(child) == 32
    assert child != request_id_from(None)


def test_api_errors_are_json_in_chinese(shequyun_client):
    response = shequyun_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "找不到您要的页面或数据"}}
    wrong_method = shequyun_client.delete("/api/v1/plugins")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_an_error_lists_at_most_a_thousand_problems_and_counts_them_all(
    shequyun_client, shequyun_actors
):
    body = {f"extra_{n}": 1 for n in range(5000)}  # 5,000 fields no resident has
    refused = shequyun_client.post(
        "/api/v1/residents", json=body, headers=shequyun_actors.cadre().auth
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert len(error["details"]) == 1000 and error["details_total"] > 5000
    assert error["details"][0]["message"]  # each listed problem keeps its shape
    few = shequyun_client.post(
        "/api/v1/residents", json={"extra": 1}, headers=shequyun_actors.cadre().auth
    ).json()["error"]
    assert "details_total" not in few  # only said when some were left out


def test_portal_errors_are_a_chinese_page(shequyun_client):
    response = shequyun_client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到您要的页面或数据" in response.text
    assert response.headers["x-request-id"] in response.text


def test_oversized_bodies_are_refused_before_the_handler(shequyun_kernel, caplog):
    kernel = shequyun_kernel
    app = create_app(kernel=kernel)
    limit = kernel.settings.max_body_bytes
    with TestClient(app) as client:
        response = client.post("/api/v1/plugins", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "too_large", "message": "请求内容过大"}


def test_readiness_reports_pending_migrations(tmp_path):
    kernel = Kernel(
        load_settings(environ={}, data_dir=tmp_path, check_migrations=False, inline_worker=False),
        discover=False,
    )
    with TestClient(create_app(kernel=kernel)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "migrations_pending"
        assert "kernel:k0001_events" in error["message"]
        kernel.upgrade_database()
        assert client.get("/readyz").json() == {"status": "ready"}


def test_the_app_refuses_to_start_with_pending_migrations(tmp_path):
    kernel = Kernel(load_settings(environ={}, data_dir=tmp_path), discover=False)
    client = TestClient(create_app(kernel=kernel))
    try:
        client.__enter__()
    except PendingMigrations as exc:
        assert exc.pending[0] == (
            "kernel:k0001_events (kernel: durable event outbox and per-subscriber deliveries)"
        )
        assert any(p.startswith("kernel:k0002_identity") for p in exc.pending)
    else:  # pragma: no cover - the assertion below explains the failure
        client.__exit__(None, None, None)
        raise AssertionError("the app started with pending migrations")


class LoggingPlugin:
    MANIFEST = {
        "name": "chatty",
        "version": "0.1",
        "title": {"zh": "日志", "en": "Logs"},
        "description": {"zh": "写日志", "en": "Writes logs"},
        "sdk": ">=0.1,<0.2",
    }

    @hookimpl
    def register_api_routes(self, plugin):
        async def speak(request):
            plugin.logger.info("handling a request")
            return JSONResponse({})

        return [Route("/speak", speak)]


@pytest.fixture
def shequyun_plugins():
    return [LoggingPlugin()]


def test_log_lines_carry_the_request_id(shequyun_client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.handler.setFormatter(logging.Formatter("%(request_id)s %(name)s %(message)s"))
    with caplog.at_level(logging.INFO):
        shequyun_client.get(
            "/api/v1/plugins/chatty/speak", headers={"X-Request-ID": "trace-me-12345"}
        )
        logging.getLogger("shequyun.test").info("outside any request")
    assert "trace-me-12345 shequyun.plugin.chatty handling a request" in caplog.text
    assert "- shequyun.test outside any request" in caplog.text


def test_nul_characters_are_refused_at_the_door(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    for response in (
        shequyun_client.get("/api/v1/residents?q=%00", headers=cadre.auth),
        shequyun_client.post(
            "/api/v1/residents",
            headers={**cadre.auth, "content-type": "application/json"},
            content='{"name": "a\\u0000b"}',
        ),
        shequyun_client.post("/login", data={"username": "a\x00", "password": "x"}),
    ):
        assert response.status_code == 400
        assert "控制字符" in response.text


def test_anonymous_callers_see_which_plugins_run_but_not_their_versions(
    shequyun_client, shequyun_actors
):
    anonymous = shequyun_client.get("/api/v1/plugins").json()["plugins"]
    assert anonymous and all(set(p) == {"name", "title", "state", "available"} for p in anonymous)
    signed_in = shequyun_client.get("/api/v1/plugins", headers=shequyun_actors.cadre().auth).json()[
        "plugins"
    ]
    assert all("version" in p and "reason" not in p for p in signed_in)
