"""居社互动: the residents' side of shequyun, built only against the SDK.

Resident accounts verified against the resident database, 社区公告 and 居务公开, 在线服务, the
议事厅 (deliberation hall with one-resident-one-vote or one-household-one-vote ballots), 邻里互动
with reporting and moderation, and notifications. See the package's README for pages and API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shequyun_sdk import (
    Actor,
    Event,
    Indicator,
    NavEntry,
    Platform,
    PluginContext,
    ScheduledJob,
    Subscriber,
    ValidationFailed,
    Visitor,
    WorkbenchCard,
    hookimpl,
)
from shequyun_sdk.cases import CASE_UPDATED
from shequyun_sdk.events import EventType
from shequyun_sdk.params import parse_int
from sqlmodel import col, select
from starlette.requests import Request
from starlette.routing import BaseRoute

from . import (
    accounts,
    api,
    deliberation,
    escalation,
    event_types,
    indicators,
    merges,
    notify,
    pages_cadre,
    pages_resident,
    phone,
    servicedesk,
)
from .core import ASSIST, DELIBERATE, MODERATE, OPERATE, PUBLISH, SERVE, VIEW
from .demo import load as load_demo
from .models import (
    Account,
    Announcement,
    AnnouncementRead,
    AssistSession,
    AttachedFile,
    Ballot,
    Digest,
    Disclosure,
    DisclosureRevision,
    ModerationDecision,
    Notification,
    PhoneCode,
    Post,
    PostComment,
    Report,
    RequestReply,
    ResidentSession,
    ServiceRequest,
    Topic,
    TopicComment,
    VerificationCode,
)
from .visitor import visitor_for

HERE = Path(__file__).parent
CADRE, SOCIAL = "identity.cadre", "identity.social_worker"
STREET, DISTRICT = "identity.street_admin", "identity.district_admin"


def _perm(name: str, zh: str, en: str, roles: list[str]) -> dict[str, object]:
    return {"name": name, "title": {"zh": zh, "en": en}, "roles": roles}


MANIFEST = {
    "name": "interaction",
    "version": "2026.12.1",
    "title": {"zh": "居社互动", "en": "Resident–community interaction"},
    "description": {
        "zh": "居民账号与实名核验、社区公告、居务公开、在线服务、议事厅、邻里互动",
        "en": "Resident accounts, announcements, disclosure, services, deliberation, neighbours",
    },
    "sdk": ">=1.4,<2",  # Visitor.resident_id, params label= (1.4); Platform.root_unit (1.3)
    "enabled_by_default": True,
    "audit_actions": {
        "interaction.account_verified": {"zh": "居民账号实名核验", "en": "Verified an account"},
        "interaction.announcement_published": {"zh": "发布公告", "en": "Published an announcement"},
        "interaction.announcement_withdrawn": {"zh": "撤回公告", "en": "Withdrew an announcement"},
        "interaction.assist_ended": {"zh": "结束代办", "en": "Stopped assisting a resident"},
        "interaction.assist_started": {"zh": "开始代办", "en": "Started assisting a resident"},
        "interaction.assisted_comment": {"zh": "代居民发表意见", "en": "Commented for a resident"},
        "interaction.assisted_photos": {
            "zh": "代居民上传照片",
            "en": "Uploaded photos for a resident",
        },
        "interaction.assisted_request": {
            "zh": "代居民提交诉求",
            "en": "Submitted a request for a resident",
        },
        "interaction.assisted_vote": {"zh": "代居民投票", "en": "Voted for a resident"},
        "interaction.code_issued": {"zh": "发放认证码", "en": "Issued a code"},
        "interaction.content_hidden": {
            "zh": "举报达到次数自动隐藏",
            "en": "Hid content after reports",
        },
        "interaction.disclosed": {"zh": "发布居务公开", "en": "Published a disclosure"},
        "interaction.disclosure_revised": {"zh": "修订居务公开", "en": "Revised a disclosure"},
        "interaction.moderated": {"zh": "处理不当内容", "en": "Moderated content"},
        "interaction.phone_code_sent": {"zh": "发送手机验证码", "en": "Sent a phone code"},
        "interaction.phone_confirmed": {"zh": "验证手机", "en": "Confirmed a phone"},
        "interaction.password_reset": {
            "zh": "居民账号重置密码",
            "en": "Reset an account's password",
        },
        "interaction.request_escalated": {"zh": "诉求转社区治理", "en": "Escalated a request"},
        "interaction.request_replied": {"zh": "答复诉求", "en": "Replied to a request"},
        "interaction.resident_moved": {"zh": "居民账户随迁", "en": "Moved a resident's account"},
        "interaction.topic_closed": {"zh": "结束议题", "en": "Closed a topic"},
        "interaction.topic_opened": {"zh": "发起议题", "en": "Opened a topic"},
    },
    "permissions": [
        _perm(
            VIEW,
            "查看居社互动管理",
            "View interaction management",
            [CADRE, SOCIAL, STREET, DISTRICT],
        ),
        _perm(PUBLISH, "发布公告与居务公开", "Publish announcements", [CADRE, STREET, DISTRICT]),
        _perm(SERVE, "办理居民在线服务", "Handle service requests", [CADRE, STREET]),
        _perm(DELIBERATE, "发起与管理议题", "Manage deliberation topics", [CADRE]),
        _perm(MODERATE, "审核邻里互动内容", "Moderate neighbour posts", [CADRE]),
        _perm(ASSIST, "发放核验码与代办", "Issue codes and assist residents", [CADRE, SOCIAL]),
        _perm(OPERATE, "运行通知汇总", "Run notification digests", []),
    ],
    "settings_schema": {
        "type": "object",
        "properties": {
            "auto_hide_reports": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
            "code_days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 14},
            "session_days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
            # Sign-ups one client address may make an hour (a committee office signing up
            # residents at an event may need more).
            "signups_per_address_hour": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10000,
                "default": accounts.SIGNUPS_PER_ADDRESS_HOUR,
            },
            # "sms": an account confirms an SMS code before verifying by name + ID number;
            # "none": it need not (no SMS adapter installed). See phone.py and the README.
            "phone_proof": {"type": "string", "enum": list(phone.MODES), "default": "none"},
            "request_due_days": {
                "type": "object",
                "properties": {
                    key: {"type": "integer", "minimum": 1, "maximum": 60}
                    for key in servicedesk.CATEGORIES
                },
                "additionalProperties": False,
                "default": dict(servicedesk.DEFAULT_DUE_DAYS),
            },
        },
        "additionalProperties": False,
    },
}

MODELS: list[type] = [
    Account,
    ResidentSession,
    VerificationCode,
    PhoneCode,
    AssistSession,
    Announcement,
    AnnouncementRead,
    Disclosure,
    DisclosureRevision,
    ServiceRequest,
    RequestReply,
    Topic,
    Ballot,
    TopicComment,
    Post,
    PostComment,
    Report,
    ModerationDecision,
    Notification,
    Digest,
    AttachedFile,
]


@hookimpl
def register_models(plugin: PluginContext) -> Sequence[type]:
    return MODELS


@hookimpl
def register_event_types(plugin: PluginContext) -> Sequence[EventType]:
    return event_types.EVENT_TYPES


@hookimpl
def register_indicators(plugin: PluginContext) -> Sequence[Indicator]:
    return indicators.INDICATORS


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
def visitor_from_request(plugin: PluginContext, request: Request) -> Visitor | None:
    return visitor_for(plugin, request)


@hookimpl
def register_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return [*pages_resident.ROUTES, *pages_cadre.ROUTES]


@hookimpl
def register_api_routes(plugin: PluginContext) -> Sequence[BaseRoute]:
    return api.ROUTES


@hookimpl
def register_nav(plugin: PluginContext) -> Sequence[NavEntry]:
    return [
        NavEntry(label="居社互动", label_en="Residents", href=plugin.url("/"), order=20),
        NavEntry(
            label="互动管理",
            label_en="Interaction",
            href=plugin.url("/manage/"),
            permission=VIEW,
            order=45,
        ),
    ]


@hookimpl
def workbench_cards(
    plugin: PluginContext, request: Request, actor: Actor, platform: Platform
) -> Sequence[WorkbenchCard]:
    if not actor.has(SERVE):
        return []
    rows = servicedesk.queue(platform, actor, "open")
    late = sum(1 for r in rows if servicedesk.overdue(r))
    _ = platform.translator(request, plugin)
    lines = (_("待办 {count} 件", count=len(rows)),)
    if late:
        lines += (_("已超期 {count} 件", count=late),)
    return [
        WorkbenchCard(
            _("居民在线服务"),
            lines,
            href=plugin.url("/manage/requests"),
            value=str(len(rows)),
            order=30,
        )
    ]


@hookimpl
def resident_merged(
    platform: Platform, session: Any, kept_id: int, merged_id: int
) -> dict[str, Any] | None:
    """The person's accounts (both, when they signed up twice), requests, posts, comments,
    ballots and notifications follow the kept record when two records of them are merged (see
    :mod:`.merges`)."""
    return merges.merged(session, kept_id, merged_id, platform) or None


@hookimpl
def resident_merge_undone(
    session: Any, kept_id: int, merged_id: int, moved: Mapping[str, Any]
) -> None:
    merges.undone(session, kept_id, merged_id, moved)


@hookimpl
def register_event_subscribers(plugin: PluginContext, platform: Platform) -> Sequence[Subscriber]:
    def resident_moved(event: Event) -> None:
        """Scope follows the resident: log the move, withdraw ballots now out of scope."""
        resident_id = int(event.payload["resident_id"])
        with platform.session() as session:
            linked = session.exec(select(Account).where(Account.resident_id == resident_id)).first()
            withdrawn = deliberation.withdraw_moved(platform, session, resident_id)
            if linked is None and not withdrawn:
                return
            platform.audit(
                session,
                "interaction.resident_moved",
                actor=None,
                target_type="resident",
                target_id=resident_id,
                detail={
                    "event_id": event.id,
                    "from": event.payload.get("from_unit_code"),
                    "to": event.payload.get("to_unit_code"),
                    "ballots_withdrawn": withdrawn,
                },
            )
            notify.notify(
                platform,
                session,
                resident_id,
                kind="resident.moved",
                title="您的居住信息已迁移，可参与的议题和服务已随之更新"
                + ("；您在原居委未结束议题中的投票已撤回" if withdrawn else ""),
                link="/",
                dedupe_key=f"moved:{event.id}",
            )

    def announcement_published(event: Event) -> None:
        # Committee announcements notify their residents; street and district ones are
        # shown in every committee's list but would flood thousands of phones.
        if event.payload.get("unit_level") != "committee":
            return
        notify.fan_out(
            platform,
            int(event.payload["unit_id"]),
            kind="announcement",
            title="居委发布了新公告",
            link=f"/announcements/{event.payload['announcement_id']}",
            dedupe_key=f"announcement:{event.payload['announcement_id']}",
        )

    def topic_changed(event: Event) -> None:
        topic_id = int(event.payload["topic_id"])
        closed = event.type.endswith("closed")
        with platform.session() as session:
            topic = session.get(Topic, topic_id)
        if topic is None:
            return
        notify.fan_out(
            platform,
            topic.unit_id,
            kind="topic.closed" if closed else "topic.opened",
            title=f"议题「{topic.title}」" + ("已结束，结果已公布" if closed else "开始表决"),
            link=f"/topics/{topic_id}",
            dedupe_key=f"topic-{'closed' if closed else 'opened'}:{topic_id}",
            inside=lambda ref: deliberation.in_scope(topic, ref),
        )

    def policy_notice(event: Event) -> None:
        """信息找人: another plugin (the advisors') found residents a policy may apply to.

        Delivered in-app to those with a verified account, once per policy and resident; the
        event names no plugin this one depends on, so any plugin may publish it.
        """
        ids = [int(i) for i in event.payload.get("resident_ids", []) if _is_id(i)]
        if not ids:
            return
        title = str(event.payload.get("title") or "您可能符合一项惠民政策")
        policy = str(event.payload.get("policy_id") or event.id)
        with platform.session() as session:
            linked = session.exec(
                select(Account.resident_id).where(
                    col(Account.resident_id).in_(ids), col(Account.verified_at).is_not(None)
                )
            ).all()
            for resident_id in dict.fromkeys(linked):  # two accounts of one person: once
                if resident_id is None:
                    continue
                notify.notify(
                    platform,
                    session,
                    resident_id,
                    kind="policy",
                    title=title,
                    link="/notifications",
                    dedupe_key=f"policy:{policy}:{resident_id}",
                )

    return [
        Subscriber("advisors.notice", policy_notice, name="advisors_notice"),
        Subscriber("resident.moved", resident_moved, name="resident_moved"),
        Subscriber(
            "interaction.announcement.published",
            announcement_published,
            name="announcement_published",
        ),
        Subscriber("interaction.topic.opened", topic_changed, name="topic_opened"),
        Subscriber("interaction.topic.closed", topic_changed, name="topic_closed"),
        Subscriber(
            CASE_UPDATED,
            lambda event: escalation.case_updated(platform, event),
            name="case_updated",
        ),
    ]


@hookimpl
def register_scheduled_jobs(plugin: PluginContext, platform: Platform) -> Sequence[ScheduledJob]:
    return [notify.digest_job(platform)]


@hookimpl
def load_demo_data(plugin: PluginContext, platform: Platform) -> str | None:
    return load_demo(platform, plugin.name)


def _is_id(value: object) -> bool:
    try:
        parse_int(value, "resident_id", low=1)
    except ValidationFailed:
        return False
    return True
