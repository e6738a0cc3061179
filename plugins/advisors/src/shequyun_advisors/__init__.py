"""社区民生顾问 and 政策主动找人, built only against the SDK.

A policy pool as data (one YAML file per policy: conditions, dated parameters, documents, test
cases), evaluated over the whole resident database in SQL through the SDK's scope-filtered
population, with a plain Python evaluator that gives the same verdicts; outreach lists with
reasons and a funnel; advisor points, advisors and their service records; a resource pool.
See the package's README and docs/advisors.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shequyun_sdk import (
    Actor,
    Event,
    NavEntry,
    Platform,
    PluginContext,
    ResidentAttribute,
    ResidentPanel,
    ScheduledJob,
    Subscriber,
    WorkbenchCard,
    hookimpl,
)
from shequyun_sdk.events import EventType
from starlette.requests import Request
from starlette.routing import BaseRoute

from . import api, cli, event_types, merges, outreach, pages, policies, pool, subscribers
from .core import MANAGE, OUTREACH, POLICIES, SERVE, VIEW
from .demo import load as load_demo
from .models import (
    Advisor,
    AdvisorPoint,
    Case,
    CaseEvent,
    PolicyVersion,
    Receipt,
    Resource,
    ServiceRecord,
)

HERE = Path(__file__).parent

MANIFEST = {
    "name": "advisors",
    "version": "2026.12.1",
    "title": {"zh": "社区民生顾问", "en": "Community livelihood advisors"},
    "description": {
        "zh": "政策池、政策主动找人、养老顾问与救助顾问的服务记录、资源池",
        "en": "Policy pool, policy finds people, advisors' service records, resource pool",
    },
    "sdk": ">=1.4,<2",  # params label= (1.4)
    "enabled_by_default": True,
    "audit_actions": {
        "advisors.advisor_created": {"zh": "登记民生顾问", "en": "Registered an advisor"},
        "advisors.candidates_exported": {
            "zh": "下载政策找人名单",
            "en": "Downloaded an outreach list",
        },
        "advisors.candidates_viewed": {"zh": "查看政策找人名单", "en": "Viewed an outreach list"},
        "advisors.case_assigned": {"zh": "分派跟进", "en": "Assigned a follow-up"},
        "advisors.case_viewed": {"zh": "查看跟进", "en": "Viewed a follow-up"},
        "advisors.notices_sent": {"zh": "发送政策告知", "en": "Sent policy notices"},
        "advisors.outcome_recorded": {"zh": "记录跟进结果", "en": "Recorded an outcome"},
        "advisors.point_created": {"zh": "设立顾问点", "en": "Opened an advisor point"},
        "advisors.policy_saved": {"zh": "保存政策", "en": "Saved a policy"},
        "advisors.resident_policies_viewed": {
            "zh": "查看居民适用政策",
            "en": "Viewed a resident's policies",
        },
        "advisors.resource_created": {"zh": "登记资源", "en": "Added a resource"},
        "advisors.service_recorded": {"zh": "记录顾问服务", "en": "Recorded a service"},
        "advisors.synced": {"zh": "同步顾问数据", "en": "Synchronised advisor data"},
    },
    # The plugin's own actor (demo data, subscribers, jobs) reads residents to find candidates
    # and writes the disability grades of the demo.
    "actor_permissions": ["residents.read", "residents.write"],
    "permissions": [
        {
            "name": VIEW,
            "title": {"zh": "查看政策池与民生顾问", "en": "View the policy pool and advisors"},
            "roles": [
                "identity.cadre",
                "identity.social_worker",
                "identity.street_admin",
                "identity.district_admin",
                "identity.bureau",
            ],
        },
        {
            "name": OUTREACH,
            "title": {"zh": "政策找人（候选名单与跟进）", "en": "Policy outreach lists"},
            "roles": ["identity.cadre", "identity.social_worker", "identity.street_admin"],
        },
        {
            "name": SERVE,
            "title": {"zh": "记录顾问服务", "en": "Record advisor services"},
            "roles": ["identity.social_worker"],
        },
        {
            "name": MANAGE,
            "title": {"zh": "管理顾问点、顾问与资源", "en": "Manage points, advisors, resources"},
            "roles": ["identity.street_admin", "identity.district_admin"],
        },
        {
            "name": POLICIES,
            "title": {"zh": "维护政策池", "en": "Maintain the policy pool"},
            "roles": ["identity.district_admin", "identity.bureau"],
        },
    ],
    "roles": [
        {
            "name": "advisors.advisor",
            "title": {"zh": "社区民生顾问", "en": "Community livelihood advisor"},
            "permissions": [VIEW, OUTREACH, SERVE, "residents.read"],
            "levels": ["street", "committee"],
        }
    ],
}

DISABILITY_TYPES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]


@hookimpl
def register_resident_attributes(plugin: PluginContext) -> Sequence[ResidentAttribute]:
    return [
        ResidentAttribute(
            "disability_grade",
            "残疾等级",
            {"type": "integer", "minimum": 1, "maximum": 4},
            title_en="Disability grade",
            sensitive=True,
        ),
        ResidentAttribute(
            "disability_type",
            "残疾类别",
            {"type": "string", "enum": DISABILITY_TYPES},
            title_en="Kind of disability",
            sensitive=True,
        ),
        ResidentAttribute(
            "care_grade",
            "老年照护等级",
            {"type": "integer", "minimum": 0, "maximum": 6},
            title_en="Care-needs grade (unified assessment)",
            sensitive=True,
        ),
    ]


MODELS: list[type] = [
    PolicyVersion,
    Receipt,
    Case,
    CaseEvent,
    AdvisorPoint,
    Advisor,
    ServiceRecord,
    Resource,
]


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return MODELS


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
            label="政策找人",
            label_en="Policy outreach",
            href=plugin.url("/"),
            permission=OUTREACH,
            order=50,
        ),
        NavEntry(
            label="政策池",
            label_en="Policy pool",
            href=plugin.url("/policies"),
            permission=VIEW,
            order=51,
        ),
        NavEntry(
            label="顾问服务",
            label_en="Advisor services",
            href=plugin.url("/desk"),
            permission=SERVE,
            order=52,
        ),
    ]


@hookimpl
def workbench_cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard]:
    if not actor.has(OUTREACH):
        return []
    _ = platform.translator(request, plugin)
    count = pages.open_count(platform, actor)
    return [
        WorkbenchCard(
            _("政策找人"),
            (_("待跟进 {count} 人", count=count),),
            href=plugin.url("/"),
            value=str(count),
            order=35,
        )
    ]


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def resident_changed(event: Event, actor: Actor) -> None:
        subscribers.resident_changed(platform, event, actor)

    return [
        Subscriber("resident.updated", resident_changed, name="resident_updated"),
        Subscriber("resident.moved", resident_changed, name="resident_moved"),
    ]


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Platform, actor: Actor) -> str | None:
    return load_demo(platform, actor)


@hookimpl
def resident_panels(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform, resident: dict
) -> Sequence[ResidentPanel]:
    """On a resident's page: the policies that may apply, with their reasons."""
    if not actor.has(VIEW):
        return []
    with platform.session() as session:
        items = policies.resident_policies(platform, session, actor, int(resident["id"]))
    _ = platform.translator(request, plugin)
    return [
        ResidentPanel(
            _("可能适用的政策"),
            template="advisors/panel.html",
            context={"items": items, "outreach": plugin.url("/")},
            href=plugin.url("/policies"),
            order=20,
        )
    ]


@hookimpl
def register_commands(plugin: PluginContext) -> Sequence[object]:
    return cli.COMMANDS


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: Platform) -> Sequence[ScheduledJob]:
    def refresh(actor: Actor) -> str:
        """Every night, find new candidates everywhere and close those now receiving."""
        with platform.session() as session:
            assert actor.unit is not None
            found = outreach.sync(platform, session, actor, actor.unit, pool.pool(session))
        return f"新发现 {sum(found.values())} 人"

    return [ScheduledJob("sync", refresh, daily_at="02:30")]


@hookimpl
def resident_merged(
    platform: Platform, session: Any, kept_id: int, merged_id: int
) -> dict[str, Any] | None:
    """Cases, receipts and service records follow the kept record (see :mod:`.merges`)."""
    moved = merges.merged(platform, session, kept_id, merged_id)
    return moved if any(moved.values()) else None


@hookimpl
def resident_merge_undone(
    session: Any, kept_id: int, merged_id: int, moved: Mapping[str, Any]
) -> None:
    merges.undone(session, kept_id, merged_id, moved)
