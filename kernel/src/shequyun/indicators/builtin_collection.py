"""One-click collection's indicators: completeness and punctuality, per campaign.

The default plugin ``collection`` returns :data:`INDICATORS` from its ``register_indicators``.
A campaign counts in a period when it ran during it (started before the period ended, its
deadline not before the period began). Completeness is DHIS2's: submitted tasks over expected
ones (withdrawn tasks of committees closed since are not expected); the on-time rate is tasks
submitted by the deadline over tasks submitted. Both add up the tree as ratios of sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from shequyun_sdk.indicators import Breakdown, Indicator, IndicatorQuery
from sqlalchemy import case, cast, func, select
from sqlalchemy.types import String
from sqlmodel import Session, col

from ..collection.models import Campaign, Task

__all__ = ["INDICATORS", "campaign_titles"]


def _campaign_tasks(q: IndicatorQuery, value: Any, *extra: Any) -> Any:
    starts, ends = q.period.starts_at.astimezone(UTC), q.period.ends_at.astimezone(UTC)
    return (
        select(
            col(Task.unit_id).label("unit_id"),
            cast(col(Task.campaign_id), String).label("key"),
            func.sum(value).label("value"),
            func.count().label("base"),
        )
        .join(Campaign, col(Campaign.id) == col(Task.campaign_id))
        .where(
            q.within(Task.unit_id),
            col(Task.withdrawn).is_(False),
            col(Campaign.starts_at) < ends,
            col(Campaign.deadline) >= starts,
            *extra,
        )
        .group_by(col(Task.unit_id), col(Task.campaign_id))
    )


def completeness(q: IndicatorQuery) -> Any:
    """Submitted tasks over expected tasks, per committee and campaign."""
    submitted = case((col(Task.status) == "submitted", 1), else_=0)
    return _campaign_tasks(q, submitted)


def on_time(q: IndicatorQuery) -> Any:
    """Tasks submitted by the deadline over tasks submitted, per committee and campaign."""
    punctual = case((col(Task.on_time).is_(True), 1), else_=0)
    return _campaign_tasks(q, punctual, col(Task.status) == "submitted")


def campaign_titles(session: Session, keys: Sequence[str]) -> Mapping[str, str]:
    """Each campaign's title, for the breakdown's labels."""
    ids = [int(k) for k in keys if k.isdigit()]
    rows = session.execute(
        select(col(Campaign.id), col(Campaign.title)).where(col(Campaign.id).in_(ids))
    )
    return {str(campaign_id): title for campaign_id, title in rows}


INDICATORS = (
    Indicator(
        "completeness",
        "采集完成率",
        completeness,
        title_en="Collection completeness",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        description="期内进行的采集活动中，已提交的任务 ÷ 应提交的任务（按活动分列）",
        description_en="Submitted tasks over expected tasks of the period's campaigns",
        breakdown=Breakdown("采集活动", "Campaign", label_for=campaign_titles),
        higher_is_better=True,
        order=60,
    ),
    Indicator(
        "on_time",
        "按时提交率",
        on_time,
        title_en="Submitted on time",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        description="已提交的任务中，在截止时间前提交的比例（按活动分列）",
        description_en="Tasks submitted by the deadline over tasks submitted, by campaign",
        breakdown=Breakdown("采集活动", "Campaign", label_for=campaign_titles),
        higher_is_better=True,
        order=65,
    ),
)
