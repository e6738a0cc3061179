"""workbench_cards: plugins put cards on a cadre's workbench, only where they are enabled."""

from __future__ import annotations

import pytest
from shequyun_sdk import WorkbenchCard, hookimpl
from starlette.requests import Request

from shequyun.workbench.cards import collect_cards

from ._plugins import manifest


class Garbage:
    MANIFEST = {**manifest("garbage", "垃圾分类"), "enabled_by_default": False}

    @hookimpl
    def workbench_cards(self, plugin, actor):
        return [
            WorkbenchCard(
                "垃圾分类打卡",
                (f"{actor.unit.name}今日 12 户",),
                value="12",
                href=plugin.url("/"),
                order=30,
            )
        ]


class Eldercare:
    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def workbench_cards(self):
        return [WorkbenchCard("待走访老人", ("3 位高龄独居老人本月未走访",), order=10)]


class Broken:
    MANIFEST = manifest("broken", "坏卡片")

    @hookimpl
    def workbench_cards(self):
        raise RuntimeError("数据源不可用")


@pytest.fixture
def shequyun_plugins():
    return [Garbage(), Eldercare(), Broken()]


def cards_for(kernel, actor, *, everything=False):
    from sqlmodel import Session

    from shequyun.identity.auth import Authenticator  # noqa: F401 - the kernel builds actors

    request = Request({"type": "http", "method": "GET", "path": "/workbench", "headers": []})
    with Session(kernel.engine) as session:
        from shequyun.identity.models import Grant, OrgUnit, User

        grant = session.get(Grant, actor.grant.id)
        user = session.get(User, actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        real = kernel.authenticator.actor_for(user, grant, unit, "session")
    # The kernel's own cards (我的数据质量 of the quality slice) are left out: these tests are
    # about the plugins' cards.
    titles = [c.title for c in collect_cards(kernel, request, real)]
    return titles if everything else [t for t in titles if t not in KERNEL_CARDS]


KERNEL_CARDS = {"我的数据质量"}


def test_the_kernel_contributes_its_own_cards_through_the_hook(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    assert "我的数据质量" in cards_for(shequyun_kernel, cadre, everything=True)


def test_cards_are_sorted_and_a_failing_plugin_is_left_out(
    shequyun_kernel, shequyun_actors, caplog
):
    cadre = shequyun_actors.cadre("310104003001")
    assert cards_for(shequyun_kernel, cadre) == ["待走访老人"]
    assert "数据源不可用" in caplog.text
    assert shequyun_kernel.host.records["broken"].active  # request-time failures do not fail it


def test_a_district_app_shows_its_card_only_where_it_is_enabled(
    shequyun_kernel, shequyun_actors, shequyun_client
):
    admin = shequyun_actors.platform_admin()
    switched = shequyun_client.put(
        "/api/v1/plugin-enablement/garbage",
        headers=admin.auth,
        json={"unit_code": "310104000000", "enabled": True},
    )
    assert switched.status_code == 200, switched.text
    xuhui = shequyun_actors.cadre("310104003001")
    pudong = shequyun_actors.cadre("310115004001")
    assert cards_for(shequyun_kernel, xuhui) == ["待走访老人", "垃圾分类打卡"]
    assert cards_for(shequyun_kernel, pudong) == ["待走访老人"]
