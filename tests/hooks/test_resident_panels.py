"""resident_panels: plugins add panels to a resident's detail page, never breaking it."""

from __future__ import annotations

import pytest
from shequyun_sdk import ResidentPanel, hookimpl
from starlette.requests import Request

from shequyun.residents.panels import collect_panels

from ..residents._data import id_number
from ._plugins import manifest


class Advice:
    MANIFEST = manifest("advice", "民生顾问")

    @hookimpl
    def resident_panels(self, plugin, actor, resident):
        return [
            ResidentPanel(
                "可能适用的政策",
                (f"{resident['name']}：老年综合津贴（{actor.unit.name}）",),
                href=plugin.url(f"/residents/{resident['id']}"),
                order=10,
            )
        ]


class Notes:
    MANIFEST = {**manifest("notes", "走访记录"), "enabled_by_default": False}

    @hookimpl
    def resident_panels(self):
        return [ResidentPanel("走访记录", ("本月已走访 1 次",))]


class Broken:
    MANIFEST = manifest("broken", "坏面板")

    @hookimpl
    def resident_panels(self):
        raise RuntimeError("数据源不可用")


class Wrong:
    MANIFEST = manifest("wrong", "错误类型")

    @hookimpl
    def resident_panels(self):
        return ["不是面板"]


@pytest.fixture
def shequyun_plugins():
    return [Advice(), Notes(), Broken(), Wrong()]


def panels_for(kernel, actor):
    request = Request({"type": "http", "method": "GET", "path": "/residents/1", "headers": []})
    resident = {"id": 1, "name": "王秀英"}
    return [(p.title, p.lines) for p in collect_panels(kernel, request, actor.actor, resident)]


def test_panels_are_collected_and_failures_left_out(shequyun_kernel, shequyun_actors, caplog):
    cadre = shequyun_actors.cadre("310104003001")
    assert panels_for(shequyun_kernel, cadre) == [
        ("可能适用的政策", ("王秀英：老年综合津贴（宛平南路居委会）",))
    ]
    assert "数据源不可用" in caplog.text
    assert "must return ResidentPanel objects" in caplog.text
    assert shequyun_kernel.host.records["broken"].active


def test_a_panel_appears_only_where_its_plugin_is_enabled(
    shequyun_kernel, shequyun_actors, shequyun_client
):
    admin = shequyun_actors.platform_admin()
    switched = shequyun_client.put(
        "/api/v1/plugin-enablement/notes",
        headers=admin.auth,
        json={"unit_code": "310104000000", "enabled": True},
    )
    assert switched.status_code == 200, switched.text
    xuhui = shequyun_actors.cadre("310104003001")
    pudong = shequyun_actors.cadre("310115004001")
    assert [t for t, _ in panels_for(shequyun_kernel, xuhui)] == ["可能适用的政策", "走访记录"]
    assert [t for t, _ in panels_for(shequyun_kernel, pudong)] == ["可能适用的政策"]


def test_the_panels_appear_on_the_resident_page(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    made = shequyun_client.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={"name": "王秀英", "id_number": id_number(region="310104"), "registration": "户籍"},
    )
    assert made.status_code == 201, made.text
    page = cadre.portal().get(f"/residents/{made.json()['id']}")
    assert page.status_code == 200
    assert "可能适用的政策" in page.text and "王秀英：老年综合津贴（宛平南路居委会）" in page.text
    assert "走访记录" not in page.text  # not enabled there
