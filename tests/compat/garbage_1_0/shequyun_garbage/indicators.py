"""The app's indicators: households taking part, and how well they sort, per period."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import Indicator, IndicatorQuery
from sqlalchemy import func, select

from .checkins import VIEW
from .models import CheckIn


def households(q: IndicatorQuery) -> Any:
    """Households that took part, summed over the period's check-ins, per committee."""
    return (
        select(CheckIn.unit_id, func.sum(CheckIn.households).label("value"))
        .where(q.within(CheckIn.unit_id), q.period.contains(CheckIn.day))
        .group_by(CheckIn.unit_id)
    )


def correct_rate(q: IndicatorQuery) -> Any:
    """Correctly sorting households over households checked, per committee."""
    return (
        select(
            CheckIn.unit_id,
            func.sum(CheckIn.households * CheckIn.correct_rate / 100.0).label("value"),
            func.sum(CheckIn.households).label("base"),
        )
        .where(q.within(CheckIn.unit_id), q.period.contains(CheckIn.day))
        .group_by(CheckIn.unit_id)
    )


INDICATORS = [
    Indicator(
        "households",
        "垃圾分类参与户次",
        households,
        title_en="Households sorting (check-ins)",
        unit="户次",
        unit_en="household-days",
        kind="flow",
        permission=VIEW,
        description="期内各居委每日打卡的参与户数之和",
        description_en="Households taking part, summed over the period's daily check-ins",
        order=70,
    ),
    Indicator(
        "correct_rate",
        "垃圾分类正确率",
        correct_rate,
        title_en="Sorting done right",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        kind="flow",
        permission=VIEW,
        description="正确分类的户次 ÷ 参与户次：按户数加权，而不是各居委正确率的平均",
        description_en="Households sorting correctly over households checked, weighted by size",
        higher_is_better=True,
        order=71,
    ),
]
