"""Default plugin ``quality``: resident data quality (居民信息精准化).

Declares the permissions, the tables, the API, and the subscribers: one keeps findings current
after every resident event, another evaluates a rule over the city once it was saved (in the
background, from the outbox). The daily job ``quality.daily`` re-runs the rules whose answer
moves with the date (ages, months since a check) and any rule not yet evaluated, and keeps the
day's scores for the trends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from shequyun_sdk import (
    EventType,
    Indicator,
    NavEntry,
    PluginContext,
    ScheduledJob,
    Subscriber,
    WorkbenchCard,
    hookimpl,
)
from shequyun_sdk.indicators import BEIJING
from shequyun_sdk.types import Event
from sqlmodel import Session
from starlette.routing import BaseRoute

from ..events import BatchSubscriber
from ..release import VERSION
from . import api, api_duplicates, api_rounds, event_types, indicators, pages
from .duplicates import MERGE
from .models import (
    Confirmation,
    DuplicatePair,
    Finding,
    Merge,
    Round,
    RuleState,
    RuleVersion,
    ScoreDay,
    Waiver,
)
from .service import MANAGE, READ, beijing_today

HERE = Path(__file__).parent
READERS = [
    "identity.cadre",
    "identity.social_worker",
    "identity.street_admin",
    "identity.district_admin",
    "identity.platform_admin",
]

MANIFEST = {
    "name": "quality",
    "version": VERSION,
    "title": {"zh": "居民信息精准化", "en": "Resident data quality"},
    "description": {
        "zh": "质量规则、问题清单、核实与评分：让居民信息完整、合理、一致、及时",
        "en": "Quality rules, findings to work through, confirmations and scores",
    },
    "sdk": ">=1.0,<2",
    "requires": ["identity", "residents"],
    "permissions": [
        {
            "name": READ,
            "title": {"zh": "查看数据质量", "en": "View data quality"},
            "roles": READERS,
        },
        {
            "name": MANAGE,
            "title": {"zh": "设置数据质量规则", "en": "Manage data-quality rules"},
            "roles": ["identity.district_admin", "identity.platform_admin"],
        },
        {
            "name": MERGE,
            "title": {"zh": "合并重复的居民记录", "en": "Merge duplicate resident records"},
            "roles": [
                "identity.street_admin",
                "identity.district_admin",
                "identity.platform_admin",
            ],
        },
    ],
}


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return [
        RuleVersion,
        RuleState,
        Finding,
        Waiver,
        Confirmation,
        ScoreDay,
        DuplicatePair,
        Merge,
        Round,
    ]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*api.ROUTES, *api_duplicates.ROUTES, *api_rounds.ROUTES]


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return pages.ROUTES


@hookimpl
def register_templates(plugin: PluginContext) -> Path:
    # As for indicators: the folder gives the templates this plugin's catalog (locale/).
    return HERE / "templates" / "quality"


@hookimpl
def register_translations(plugin: PluginContext) -> Path:
    return HERE / "locale"


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(
            label="数据质量", label_en="Data quality", href="/quality", permission=READ, order=12
        )
    ]


@hookimpl
def workbench_cards(
    plugin: PluginContext, request: Any, actor: Any, platform: Any
) -> Sequence[WorkbenchCard]:
    from sqlmodel import Session

    with Session(platform.kernel.engine) as session:
        mine = platform.kernel.quality.committee_summary(session, actor)
    if mine is None:
        return []
    counts = mine.counts
    _ = platform.translator(request, plugin)  # the workbench is the kernel's page
    return [
        WorkbenchCard(
            title=_("我的数据质量"),
            value=f"{mine.score:g}" if mine.score is not None else "—",
            lines=(
                _(
                    "待处理错误 {errors} 处，提醒 {warnings} 处",
                    errors=counts["errors"],
                    warnings=counts["warnings"],
                ),
                _("长期未核实 {stale} 人", stale=counts["stale"]),
            ),
            href="/quality",
            order=30,
        )
    ]


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Any) -> str | None:
    # The demo's residents checked against every rule, its duplicates found, today's scores kept:
    # the pages have something to show before the first night's job. Rewrites, never adds twice.
    service = platform.kernel.quality
    found = service.scan()
    pairs = service.duplicates.find()
    service.take_scores(beijing_today())
    total = sum(found.findings.values())
    return f"数据质量：发现问题 {total} 处，疑似重复 {pairs} 组。"


@hookimpl
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    return indicators.INDICATORS


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Any) -> Sequence[Subscriber]:
    service = platform.kernel.quality

    def refresh(events: list[Event], session: Session) -> None:
        # In batches (an import publishes an event per row) and in the delivery's transaction:
        # the findings of the residents concerned are recomputed from their state.
        service.on_resident_events(session, [(e.type, e.payload) for e in events])

    def round_answered(event: Event) -> None:
        # Idempotent: confirmations are set to the delivery's moment, findings recomputed.
        platform.kernel.quality_rounds.on_submission(event.payload)

    def rules_changed(event: Event) -> None:
        # Idempotent: only rules whose version differs from the one evaluated are scanned.
        service.scan(changed_only=True)

    return [
        BatchSubscriber("resident.*", refresh, name="refresh"),
        Subscriber("quality.rule_saved", rules_changed, name="rules"),
        Subscriber("collection.submission.*", round_answered, name="rounds"),
    ]


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: Any) -> Sequence[ScheduledJob]:
    service = platform.kernel.quality

    def daily(scheduled_for: datetime) -> str:
        changed = service.scan(changed_only=True, now=scheduled_for)
        timely = service.scan(timely_only=True, now=scheduled_for)
        kept = service.take_scores(scheduled_for.astimezone(BEIJING).date())
        pairs = service.duplicates.find()
        rules = len(set(changed.findings) | set(timely.findings))
        return f"重新检查规则 {rules} 条；保存 {kept} 个居村的当日评分；新发现疑似重复 {pairs} 组"

    # Early morning, Beijing time: the day's ages and overdue checks, before anyone looks.
    return [ScheduledJob("daily", daily, daily_at="01:30")]
