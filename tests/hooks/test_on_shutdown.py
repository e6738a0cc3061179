"""on_shutdown: called once when the platform stops; exceptions are logged, never raised."""

from __future__ import annotations

import logging

import pytest
from shequyun_sdk import hookimpl
from starlette.testclient import TestClient

from ._plugins import manifest


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    def __init__(self, stopped):
        self.stopped = stopped

    @hookimpl
    def on_shutdown(self, plugin, platform):
        with platform.session():  # the database is still there to flush to
            self.stopped.append(plugin.name)


class Deliberation:
    """Requires the notice board, so it stops before it."""

    MANIFEST = manifest("deliberation", "议事厅", requires=["noticeboard"])

    def __init__(self, stopped):
        self.stopped = stopped

    @hookimpl
    def on_shutdown(self, plugin):
        self.stopped.append(plugin.name)


class Parking:
    MANIFEST = manifest("parking", "停车管理")

    def __init__(self, stopped):
        self.stopped = stopped

    @hookimpl
    def on_shutdown(self):
        self.stopped.append("parking")
        raise TimeoutError("道闸系统未响应")


@pytest.fixture
def stopped():
    """The names of the plugins whose on_shutdown ran, in call order."""
    return []


@pytest.fixture
def shequyun_plugins(stopped):
    return [Deliberation(stopped), Noticeboard(stopped), Parking(stopped)]


def test_called_once_when_the_platform_stops_in_reverse_plugin_order(shequyun_app, stopped):
    with TestClient(shequyun_app) as client:
        assert client.get("/healthz").status_code == 200
        assert stopped == []
    assert stopped == ["parking", "deliberation", "noticeboard"]


def test_a_raising_on_shutdown_is_logged_not_raised(shequyun_app, stopped, caplog):
    with caplog.at_level(logging.ERROR), TestClient(shequyun_app):
        pass
    assert stopped[-1] == "noticeboard"  # the others still ran after parking raised
    [record] = [r for r in caplog.records if "on_shutdown" in r.getMessage()]
    assert "plugin parking" in record.getMessage()
    assert "TimeoutError: 道闸系统未响应" in record.getMessage()


def test_not_called_when_the_platform_never_started(shequyun_kernel, stopped):
    shequyun_kernel.close()
    assert stopped == []
