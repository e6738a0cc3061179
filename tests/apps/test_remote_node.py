"""examples/remote-node, a Node.js app, end to end against a served platform.

``npm ci`` installs its dependencies exactly as package-lock.json pins them, then its own test
(``node --test``) signs a cadre in through the platform, lists residents with the app's client
credentials and verifies a webhook sent by the platform's worker. Skips, saying so, only when
Node.js or npm is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PUDONG_COMMITTEE, XUHUI, XUHUI_COMMITTEE, resident_in

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "remote-node"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def node_modules() -> Path:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("Node.js and npm are not installed on this machine")
    installed = EXAMPLE / "node_modules" / ".package-lock.json"
    lock = EXAMPLE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXAMPLE, check=True, timeout=600)
    return EXAMPLE / "node_modules"


@pytest.fixture
def served(shequyun_test_databases: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The platform under uvicorn with its worker running in the process (webhooks go out)."""
    import uvicorn

    from shequyun.app import create_app
    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings
    from shequyun.testing import Actors, build_test_tree

    def build(url: str) -> Any:
        settings = load_settings(
            environ={}, data_dir=tmp_path, database_url=url, inline_worker=True
        )
        return Kernel(settings, discover=False)

    probe = build("sqlite://")
    url = shequyun_test_databases.fresh(probe.migrations)
    probe.engine.dispose()
    kernel = build(url)
    app = create_app(kernel=kernel)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the platform did not start")
        time.sleep(0.05)
    units = build_test_tree(kernel)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "app": app, "actors": Actors(kernel, app, units)}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        kernel.close()
        shequyun_test_databases.drop(url)


def test_the_node_example_runs_end_to_end(node_modules, served):
    actors = served["actors"]
    admin = actors.platform_admin()
    cadre = actors.cadre(XUHUI_COMMITTEE)
    client = admin.client()
    resident_in(client, cadre, serial="111", name="王秀英")
    resident_in(client, actors.cadre(PUDONG_COMMITTEE), serial="222", name="李建国")
    app_port = _free_port()
    base = f"http://127.0.0.1:{app_port}"
    manifest = {
        "slug": "xuhui-garbage",
        "name": "徐汇垃圾分类督导",
        "base_url": f"{base}/",
        "redirect_uris": [f"{base}/callback"],
        "post_logout_redirect_uris": [f"{base}/"],
        "scopes": ["residents.read"],
        "webhook": {"url": f"{base}/webhooks", "events": ["resident.*"]},
        "units": [XUHUI],
    }
    registered = client.post("/api/v1/apps", json=manifest)
    assert registered.status_code == 201, registered.text
    app = registered.json()
    new_resident = {
        "name": "周新来",
        "id_number": "310104194503123339",
        "registration": "户籍",
        "phone": "13812345679",
        "address": {"compound": "一村", "building": "3", "entrance": "1", "room": "101"},
    }
    env = {
        **os.environ,
        "PLATFORM_URL": served["url"],
        "CLIENT_ID": app["client_id"],
        "CLIENT_SECRET": app["client_secret"],
        "WEBHOOK_SECRET": app["webhook_secret"],
        "APP_PORT": str(app_port),
        "CADRE_USERNAME": cadre.username,
        "CADRE_PASSWORD": cadre.password,
        "CADRE_NAME": cadre.user.display_name,
        "CADRE_TOKEN": cadre.token,
        "EXPECT_RESIDENT": "王秀英",
        "UNEXPECTED_RESIDENT": "李建国",
        "NEW_RESIDENT": json.dumps(new_resident, ensure_ascii=False),
    }
    run = subprocess.run(
        [shutil.which("node") or "node", "--test", "test/"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# pass 2" in run.stdout and "# skipped 0" in run.stdout
