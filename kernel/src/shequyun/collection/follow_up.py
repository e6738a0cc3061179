"""Following a campaign up: reminding the units that have not submitted, exporting the answers.

Each is one function that checks scope, does the work and audits it, called by the API
(:mod:`.api_campaigns`) and the portal (:mod:`.pages_campaigns`) alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor
from sqlmodel import Session, select

from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .campaigns import RESULTS, REVIEW, CampaignService
from .models import Campaign
from .results import export_rows, overdue
from .tasks import aware

__all__ = ["FORMATS", "Export", "find_within", "remind", "start_export"]

FORMATS = ("csv", "xlsx")
#: The most units one reminder reaches (a city-wide campaign has about 6,000 committees).
MAX_REMINDED = 10000


def find_within(
    session: Session, actor: Actor | None, code: str | None, permission: str
) -> OrgUnit | None:
    """The unit ``code`` narrowing a campaign's figures, if the actor reaches it (else 422)."""
    if not code:
        return None
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None or not scope.can(actor, permission, unit_ref(unit)):
        raise ValidationFailed("within：找不到该单位或不在您的范围内", field="within")
    return unit


def remind(
    campaigns: CampaignService,
    session: Session,
    actor: Actor | None,
    campaign_id: int,
    within_code: str | None = None,
) -> int:
    """Remind every committee (within scope, and within ``within_code``) that has not
    submitted: one ``collection.reminder`` event each, for plugins to deliver (in-app, SMS).
    Audited ``collection.reminded``; returns how many units were reminded."""
    campaign = campaigns.get(session, actor, campaign_id)
    within = find_within(session, actor, within_code, REVIEW)
    pending = overdue(session, actor, campaign, within, limit=MAX_REMINDED)
    for item in pending:
        campaigns.events.publish(
            session,
            "collection.reminder",
            {
                "campaign_id": campaign.id,
                "title": campaign.title,
                "task_id": item["task_id"],
                "unit_code": item["unit"]["code"],
                "unit_id": item["unit"]["id"],
                "deadline": aware(campaign.deadline).isoformat(),
            },
        )
    audit.record(
        session,
        "collection.reminded",
        actor=actor,
        target_type="campaign",
        target_id=campaign.id,
        detail={"units": len(pending), "within": within.code if within else None},
    )
    return len(pending)


@dataclass
class Export:
    campaign: Campaign
    header: list[str]
    rows: Iterator[list[Any]]


def start_export(
    campaigns: CampaignService,
    session: Session,
    actor: Actor | None,
    campaign_id: int,
    *,
    within_code: str | None = None,
    file_format: str = "csv",
    site: str = "",
    table: str | None = None,
) -> Export:
    """Every submitted answer the actor may see, as a header and rows read lazily from
    ``session``; the audit entry ``collection.exported`` is added to ``session``, which the
    caller commits before reading the rows. ``table`` (a table question's column) gives one
    row per row of that table."""
    if file_format not in FORMATS:
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    campaign = campaigns.get(session, actor, campaign_id)
    within = find_within(session, actor, within_code, RESULTS)
    header, rows = export_rows(session, actor, campaign, within, site=site, table=table)
    audit.record(
        session,
        "collection.exported",
        actor=actor,
        target_type="campaign",
        target_id=campaign.id,
        detail={"format": file_format, "within": within.code if within else None},
    )
    return Export(campaign, header, rows)
