"""社区治理: the working platform of cadres, social workers and street and district staff.

民情日志 field logs with visit coverage; 末端处置 cases dispatched down the four-level tree
and back up (派单 签收 处置 反馈 核查 结案, 退单 上报 转派 延期 督办 回访) on working-day
deadlines, from upper levels, the city operations platform (an Open311-like intake API),
residents' 在线服务 requests (the SDK's case-channel events) and field logs; a knowledge base
with Chinese full-text search; 民情 dashboards. Built on the SDK alone. See the package's
README and docs/governance.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shequyun_sdk import (
    Actor,
    NavEntry,
    Platform,
    PluginContext,
    Role,
    Subscriber,
    WorkbenchCard,
    hookimpl,
)
from shequyun_sdk.events import EventType
from starlette.requests import Request
from starlette.routing import BaseRoute

from . import api, escalation, event_types, merges, pages, workbench
from .core import DISPATCH, HANDLE, INTAKE, LOG, MANAGE, PUBLISH, VIEW
from .demo import load as load_demo
from .models import Article, ArticleVersion, Case, CaseParty, CaseStep, Category, LogEntry

HERE = Path(__file__).parent
CADRE, SOCIAL = "identity.cadre", "identity.social_worker"
STREET, DISTRICT = "identity.street_admin", "identity.district_admin"


def _perm(name: str, zh: str, en: str, roles: list[str]) -> dict[str, object]:
    return {"name": name, "title": {"zh": zh, "en": en}, "roles": roles}


MANIFEST = {
    "name": "governance",
    "version": "2026.12.1",
    "title": {"zh": "社区治理", "en": "Community governance"},
    "description": {
        "zh": "民情日志、末端处置案件、知识库与民情民意分析",
        "en": "Field logs, the case channel, a knowledge base and dashboards",
    },
    "sdk": ">=1.0,<2",
    "enabled_by_default": True,
    "audit_actions": {
        "governance.category_added": {"zh": "新增事项类别", "en": "Added a case category"},
        "governance.log_recorded": {"zh": "记录民情日志", "en": "Recorded a field log"},
        # One per step of a case (cases.ACTIONS), written by cases.record_step.
        "governance.case_dispatch": {"zh": "案件派单", "en": "Dispatched a case"},
        "governance.case_open": {"zh": "案件立案", "en": "Opened a case"},
        "governance.case_accept": {"zh": "案件签收", "en": "Accepted a case"},
        "governance.case_handle": {"zh": "案件处置", "en": "Recorded handling of a case"},
        "governance.case_report": {"zh": "案件反馈", "en": "Reported a case done"},
        "governance.case_verify": {"zh": "案件核查通过", "en": "Verified a case"},
        "governance.case_close": {"zh": "案件结案", "en": "Closed a case"},
        "governance.case_return": {"zh": "案件核查退回", "en": "Returned a case's report"},
        "governance.case_reject": {"zh": "案件退单", "en": "Handed a case back"},
        "governance.case_escalate": {"zh": "案件上报", "en": "Escalated a case"},
        "governance.case_reassign": {"zh": "案件转派", "en": "Reassigned a case"},
        "governance.case_extend": {"zh": "案件申请延期", "en": "Asked for more time on a case"},
        "governance.case_extend_grant": {"zh": "案件批准延期", "en": "Granted more time"},
        "governance.case_extend_deny": {"zh": "案件不予延期", "en": "Refused more time"},
        "governance.case_supervise": {"zh": "案件督办", "en": "Supervised a case"},
        "governance.case_revisit": {"zh": "案件回访", "en": "Recorded a case's revisit"},
        "governance.article_published": {"zh": "发布知识库文章", "en": "Published an article"},
        "governance.article_revised": {"zh": "修订知识库文章", "en": "Revised an article"},
        "governance.article_withdrawn": {"zh": "撤下知识库文章", "en": "Withdrew an article"},
    },
    "permissions": [
        _perm(VIEW, "查看社区治理", "View community governance", [CADRE, SOCIAL, STREET, DISTRICT]),
        _perm(LOG, "记录民情日志", "Record field logs", [CADRE, SOCIAL]),
        _perm(HANDLE, "办理案件", "Handle cases", [CADRE, STREET, DISTRICT]),
        _perm(
            DISPATCH, "派单、核查与督办", "Dispatch, verify and supervise cases", [STREET, DISTRICT]
        ),
        _perm(PUBLISH, "发布知识库文章", "Publish knowledge-base articles", [STREET, DISTRICT]),
        _perm(MANAGE, "维护治理类别", "Manage governance categories", []),
        _perm(INTAKE, "城运平台推送案件", "Push cases from the city operations platform", []),
    ],
    "settings_schema": {
        "type": "object",
        "properties": {
            "accept_days": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "coverage_months": {"type": "integer", "minimum": 1, "maximum": 24, "default": 3},
        },
        "additionalProperties": False,
    },
}

#: The city operations platform's account holds this role on the city or a district.
OPERATIONS_ROLE = Role(
    "governance.operations_platform",
    "城运平台接入",
    (INTAKE, VIEW, HANDLE, DISPATCH),
    "City operations platform",
    ("city", "district"),
)

MODELS: list[type] = [Category, LogEntry, Case, CaseParty, CaseStep, Article, ArticleVersion]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return MODELS


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_roles(plugin: PluginContext) -> Sequence[Role]:
    return [OPERATIONS_ROLE]


@hookimpl
def register_migrations(plugin: PluginContext) -> Path:
    return HERE / "migrations"


@hookimpl
def register_templates(plugin: PluginContext) -> Path:
    return HERE / "templates"


@hookimpl
def register_static(plugin: PluginContext) -> Path:
    return HERE / "static"


@hookimpl
def register_translations(plugin: PluginContext) -> Path:
    return HERE / "locale"


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return pages.ROUTES


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.ROUTES


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(
            label="社区治理",
            label_en="Governance",
            href=plugin.url("/"),
            permission=VIEW,
            order=30,
        ),
    ]


@hookimpl
def workbench_cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard]:
    return workbench.cards(plugin, request, actor, platform)


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    return escalation.subscribers(plugin, platform)


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Platform, actor: Actor) -> str | None:
    return load_demo(platform, actor)


@hookimpl
def resident_merged(session: Any, kept_id: int, merged_id: int) -> dict[str, Any] | None:
    """Field-log entries and cases about the merged record name the kept one (:mod:`.merges`)."""
    moved = merges.merged(session, kept_id, merged_id)
    return moved if any(moved.values()) else None


@hookimpl
def resident_merge_undone(
    session: Any, kept_id: int, merged_id: int, moved: Mapping[str, Any]
) -> None:
    merges.undone(session, kept_id, merged_id, moved)
