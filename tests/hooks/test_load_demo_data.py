"""load_demo_data: each plugin fills the demo database, in plugin order, idempotently."""

from __future__ import annotations

import pytest
from shequyun_sdk import hookimpl
from sqlmodel import func, select

from shequyun.demo import load_demo

from ._plugins import MIGRATIONS, Notice, manifest

DEMO_NOTICES = [
    ("田林十二村居委会", "本周六上午开展垃圾分类宣传"),
    ("田林十二村居委会", "3号楼加装电梯意见征询"),
    ("康健新村居委会", "冬季消防安全提醒"),
]


class Noticeboard:
    MANIFEST = manifest("noticeboard", "社区公告")

    @hookimpl
    def register_migrations(self):
        return MIGRATIONS

    @hookimpl
    def load_demo_data(self, platform):
        with platform.session() as session:
            if session.exec(select(Notice)).first() is not None:
                return "公告已存在，未重复创建"
            for committee, title in DEMO_NOTICES:
                session.add(Notice(committee=committee, title=title))
        return f"创建了 {len(DEMO_NOTICES)} 条社区公告"


class Deliberation:
    """议事厅 requires the notice board, so its demo runs after the notices exist."""

    MANIFEST = manifest("deliberation", "议事厅", requires=["noticeboard"])

    def __init__(self):
        self.notices_seen = None
        self.actor = None

    @hookimpl
    def load_demo_data(self, platform, actor):
        self.actor = actor
        with platform.session() as session:
            self.notices_seen = session.exec(select(func.count()).select_from(Notice)).one()
        return None  # nothing to say: no line in the summary


class BrokenDemo:
    MANIFEST = manifest("parking", "停车管理")

    @hookimpl
    def load_demo_data(self):
        raise ValueError("演示车位数据格式错误")


@pytest.fixture(autouse=True)
def small_resident_demo(monkeypatch):
    """The residents demo at a size a unit test can afford (it creates ~280,000 otherwise)."""
    from shequyun.residents import demo

    monkeypatch.setattr(demo, "FULL", (2, 3))
    monkeypatch.setattr(demo, "SMALL", (0, 1))


@pytest.fixture
def deliberation():
    return Deliberation()


@pytest.fixture
def shequyun_plugins(deliberation):
    return [deliberation, Noticeboard(), BrokenDemo()]


def count_notices(kernel):
    with kernel.platform.session() as session:
        return session.exec(select(func.count()).select_from(Notice)).one()


def test_each_plugin_loads_its_demo_data_and_says_what_it_did(shequyun_kernel):
    summary = load_demo(shequyun_kernel)
    assert "noticeboard：创建了 3 条社区公告" in summary
    assert count_notices(shequyun_kernel) == 3


def test_running_the_demo_twice_doubles_nothing(shequyun_kernel):
    load_demo(shequyun_kernel)
    summary = load_demo(shequyun_kernel)
    assert "noticeboard：公告已存在，未重复创建" in summary
    assert count_notices(shequyun_kernel) == 3


def test_plugins_load_after_the_plugins_they_require(shequyun_kernel, deliberation):
    load_demo(shequyun_kernel)
    assert deliberation.notices_seen == 3
    assert not any(line.startswith("deliberation：") for line in load_demo(shequyun_kernel))


def test_a_raising_load_demo_data_is_reported_and_the_others_still_load(shequyun_kernel):
    summary = load_demo(shequyun_kernel)
    [failure] = [line for line in summary if line.startswith("parking：")]
    assert failure == (
        "parking：演示数据加载失败：hook load_demo_data raised ValueError: 演示车位数据格式错误"
    )
    assert shequyun_kernel.platform.plugin("parking") is None  # failed, no longer active
    assert count_notices(shequyun_kernel) == 3


def test_a_demo_loader_acts_as_its_plugin(shequyun_kernel, deliberation):
    load_demo(shequyun_kernel)
    assert deliberation.actor.plugin == "deliberation"
    assert deliberation.actor.username == "plugin:deliberation"
    assert deliberation.actor.unit.code == "310000000000"  # the city the kernel's demo made
