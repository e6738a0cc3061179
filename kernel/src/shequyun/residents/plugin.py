"""Default plugin ``residents``: the unified resident information base (统一居民信息库).

Declares the residents permissions (and which built-in roles hold them), the kernel's tag
vocabulary, the tables and the API, through the same hooks as any plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from shequyun_sdk import Indicator, PluginContext, ScheduledJob, TagDefinition, hookimpl
from shequyun_sdk.events import EventType
from sqlmodel import Session
from starlette.routing import BaseRoute

from ..indicators import builtin_residents
from ..release import VERSION
from . import api, api_io, demo, event_types, tally
from .keycheck import KeyCanary
from .models import (
    Address,
    Household,
    Resident,
    ResidentChange,
    ResidentTag,
    ResidentTally,
    ResidentTallyState,
    ResidentTransfer,
)

if TYPE_CHECKING:  # the kernel imports this module: only for type checkers
    from ..kernel_platform import KernelPlatform

CADRE = "identity.cadre"
SOCIAL_WORKER = "identity.social_worker"
STREET = "identity.street_admin"
DISTRICT = "identity.district_admin"


def _perm(name: str, zh: str, en: str, roles: list[str]) -> dict[str, object]:
    return {"name": f"residents.{name}", "title": {"zh": zh, "en": en}, "roles": roles}


MANIFEST = {
    "name": "residents",
    "version": VERSION,
    "title": {"zh": "统一居民信息库", "en": "Resident information base"},
    "description": {
        "zh": "居民、家庭户与地址；按授权范围查询、更新、下载与导入",
        "en": "Residents, households and addresses, scoped by grant",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity"],
    "permissions": [
        _perm("read", "查看居民信息", "View residents", [CADRE, SOCIAL_WORKER, STREET, DISTRICT]),
        _perm("write", "登记和更新居民信息", "Register and update residents", [CADRE, STREET]),
        _perm("transfer", "办理居民迁移", "Transfer residents", [CADRE, STREET]),
        _perm("reveal", "查看完整身份证号和电话", "Reveal ID and phone numbers", [CADRE]),
        _perm("export", "下载居民信息", "Export residents", [CADRE, STREET, DISTRICT]),
        _perm("import", "批量导入居民信息", "Import residents", [CADRE, STREET]),
    ],
}

#: The kernel's part of the managed tag vocabulary; plugins add theirs.
KERNEL_TAGS = (
    TagDefinition("独居老人", "独自居住的 60 岁以上老人"),
    TagDefinition("孤寡老人", "无配偶、无子女的老人"),
    TagDefinition("高龄老人", "80 岁以上"),
    TagDefinition("低保", "享受城乡居民最低生活保障"),
    TagDefinition("低收入", "低收入困难家庭成员"),
    TagDefinition("特困人员", "特困供养人员"),
    TagDefinition("残疾", "持有残疾人证"),
    TagDefinition("退役军人", "退役军人及其他优抚对象"),
    TagDefinition("失独家庭", "独生子女死亡的家庭成员"),
    TagDefinition("留守儿童", "父母均外出务工的未成年人"),
    TagDefinition("重点关注", "需要居委重点关心的居民"),
    TagDefinition("党员", "中共党员"),
    TagDefinition("志愿者", "社区志愿者"),
)


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [
        Address,
        Household,
        Resident,
        ResidentTag,
        ResidentChange,
        ResidentTransfer,
        ResidentTally,
        ResidentTallyState,
        KeyCanary,
    ]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*api_io.ROUTES, *api.ROUTES]


@hookimpl
def register_resident_tags(plugin: PluginContext) -> Sequence[TagDefinition]:
    return KERNEL_TAGS


@hookimpl
def load_demo_data(plugin: PluginContext, platform: KernelPlatform) -> str | None:
    return demo.load(platform.kernel)


@hookimpl
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    return builtin_residents.INDICATORS


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_scheduled_jobs(
    plugin: PluginContext, platform: KernelPlatform
) -> Sequence[ScheduledJob]:
    engine = platform.kernel.engine

    def recount() -> str | None:
        """Count the tallies again when a unit moved since (or they were never counted)."""
        with Session(engine) as session:
            if tally.fresh(session):
                return None
            rows = tally.rebuild(session)
            session.commit()
        return f"居民统计已重新计算（{rows} 行）"

    return [ScheduledJob("tally", recount, every=timedelta(minutes=10))]
