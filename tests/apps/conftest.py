"""Fixtures for the open platform: a registered app enabled for 徐汇区, and residents on both
sides of the district line."""

from __future__ import annotations

from typing import Any

import pytest

XUHUI = "310104000000"
XUHUI_COMMITTEE = "310104003001"
PUDONG_COMMITTEE = "310115004001"


def manifest(slug: str = "xuhui-garbage", **overrides: Any) -> dict[str, Any]:
    """A manifest like a district developer writes."""
    base: dict[str, Any] = {
        "slug": slug,
        "name": "徐汇垃圾分类督导",
        "base_url": "http://127.0.0.1:9/app",
        "redirect_uris": ["http://127.0.0.1:9/app/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:9/app/bye"],
        "scopes": ["residents.read"],
        "nav": [{"label": "垃圾分类", "path": "/", "permission": "residents.read"}],
        "webhook": {"url": "http://127.0.0.1:9/hook", "events": ["resident.*"]},
        "units": [XUHUI],
    }
    base.update(overrides)
    return base


@pytest.fixture
def admin(shequyun_actors: Any) -> Any:
    return shequyun_actors.platform_admin()


@pytest.fixture
def registered(shequyun_client: Any, admin: Any) -> dict[str, Any]:
    """The 徐汇 app, registered through the API: its view plus the secrets shown once."""
    response = shequyun_client.post("/api/v1/apps", json=manifest(), headers=admin.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def resident_in(
    client: Any, actor: Any, serial: str = "124", name: str = "王秀英"
) -> dict[str, Any]:
    """Register a resident in ``actor``'s committee."""
    from shequyun.residents.idnumber import check_digit

    first = f"31010419450312{serial}"
    payload = {
        "name": name,
        "id_number": first + check_digit(first),
        "registration": "户籍",
        "phone": "13812345678",
        "address": {"compound": "一村", "building": "12", "entrance": "3", "room": "402"},
    }
    response = client.post("/api/v1/residents", json=payload, headers=actor.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


class Receiver:
    """A webhook receiver on a loopback port: records every request, answers ``status``
    (with a ``location`` header when one is set); ``hold`` (a threading.Event) makes it wait
    before answering."""

    def __init__(self) -> None:
        import threading

        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.location: str | None = None
        self.hold: Any = None
        self.got = threading.Event()
        self._server: Any = None
        self.url = ""

    def start(self) -> Receiver:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(
                    {
                        "method": self.command,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                receiver.got.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                self.send_response(receiver.status)
                if receiver.location is not None:
                    self.send_header("location", receiver.location)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Any:
    started = Receiver().start()
    yield started
    started.stop()
