"""居社互动's indicators for the dashboards: verified residents, turnout, open requests.

Declared through ``register_indicators`` and computed by the platform per committee, then added
up the tree: each is a count or a ratio of sums, so a street's turnout is all its ballots over
all its electorates, never the mean of its committees' turnouts.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import Indicator, IndicatorQuery
from sqlalchemy import and_, case, exists, func, or_, select
from sqlmodel import col

from .core import VIEW
from .models import Account, ServiceRequest, Topic
from .servicedesk import CLOSED

__all__ = ["INDICATORS"]


def verified_share(q: IndicatorQuery) -> Any:
    """Active residents with a verified account (as of ``q.as_of``) over active residents.

    A resident counts once however many accounts point at them (a merge of two records of one
    person who had signed up twice leaves two)."""
    r = q.residents
    verified = exists(
        select(1).where(
            col(Account.resident_id) == r.c.id,
            col(Account.verified_at).is_not(None),
            col(Account.verified_at) < q.as_of,
        )
    )
    return (
        select(
            r.c.unit_id,
            func.sum(case((verified, 1), else_=0)).label("value"),
            func.count().label("base"),
        )
        .select_from(r)
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id)
    )


def turnout(q: IndicatorQuery) -> Any:
    """Ballots over electorates of the topics closed in the period, per committee."""
    result = col(Topic.result)
    return (
        select(
            col(Topic.unit_id).label("unit_id"),
            func.sum(result["ballots"].as_integer()).label("value"),
            func.sum(result["electorate"].as_integer()).label("base"),
        )
        .where(
            q.within(Topic.unit_id),
            col(Topic.status) == "closed",
            q.period.contains(col(Topic.closed_at)),
        )
        .group_by(col(Topic.unit_id))
    )


def _open_at(q: IndicatorQuery) -> Any:
    """Requests made before ``q.as_of`` and not closed by then (closed_at says when)."""
    return and_(
        col(ServiceRequest.created_at) < q.as_of,
        or_(col(ServiceRequest.closed_at).is_(None), col(ServiceRequest.closed_at) >= q.as_of),
        or_(
            col(ServiceRequest.closed_at).is_not(None),
            col(ServiceRequest.status).not_in(sorted(CLOSED)),
        ),
    )


def open_requests(q: IndicatorQuery) -> Any:
    """Service requests still open at ``q.as_of``, per committee."""
    return (
        select(col(ServiceRequest.unit_id).label("unit_id"), func.count().label("value"))
        .where(q.within(ServiceRequest.unit_id), _open_at(q))
        .group_by(col(ServiceRequest.unit_id))
    )


def open_request_age(q: IndicatorQuery) -> Any:
    """Days the open requests have waited, summed, over the open requests: their mean age."""
    return (
        select(
            col(ServiceRequest.unit_id).label("unit_id"),
            func.sum(q.days_since(col(ServiceRequest.created_at))).label("value"),
            func.count().label("base"),
        )
        .where(q.within(ServiceRequest.unit_id), _open_at(q))
        .group_by(col(ServiceRequest.unit_id))
    )


INDICATORS = [
    Indicator(
        "verified_share",
        "实名核验居民占比",
        verified_share,
        title_en="Residents verified",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        permission=VIEW,
        description="已通过实名核验的居民账号 ÷ 在册居民",
        description_en="Residents with a verified account over active residents",
        higher_is_better=True,
        order=80,
    ),
    Indicator(
        "turnout",
        "议事投票参与率",
        turnout,
        title_en="Deliberation turnout",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        kind="flow",
        permission=VIEW,
        description="期内结束的议题的投票数 ÷ 有权投票的人数（户数）",
        description_en="Ballots over electorates of the topics closed in the period",
        higher_is_better=True,
        order=81,
    ),
    Indicator(
        "open_requests",
        "未办结在线服务申请",
        open_requests,
        title_en="Open service requests",
        unit="件",
        unit_en="requests",
        permission=VIEW,
        description="已提交、尚未办结或不予受理的居民在线服务申请",
        description_en="Residents' service requests not yet done or rejected",
        higher_is_better=False,
        order=82,
    ),
    Indicator(
        "open_request_age",
        "未办结申请平均等待天数",
        open_request_age,
        title_en="Open requests: mean days waiting",
        unit="天",
        unit_en="days",
        aggregation="ratio",
        decimals=1,
        permission=VIEW,
        description="未办结申请已等待的天数之和 ÷ 未办结申请数",
        description_en="Days the open requests have waited over the open requests",
        higher_is_better=False,
        order=83,
    ),
]
