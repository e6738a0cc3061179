"""The resident information base's indicators, declared through ``register_indicators``.

The default plugin ``residents`` returns :data:`INDICATORS` from its hook, exactly as any plugin
would: residents by age band, the share aged 60 and over, registration, tags, households and
their size. Ages are counted on ``q.as_of`` (today for the current period, the period's last
moment for a closed one).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shequyun_sdk.indicators import BEIJING, Breakdown, Indicator, IndicatorQuery
from sqlalchemy import case, distinct, func, literal, select, union_all
from sqlmodel import col

from ..residents.models import REGISTRATIONS, ResidentTag

__all__ = ["AGE_BANDS", "INDICATORS", "years_before"]

#: Age bands as planners use them: children, young adults, working age, older, oldest.
AGE_BANDS: tuple[tuple[str, str, int], ...] = (
    ("0-17", "0–17岁", 0),
    ("18-34", "18–34岁", 18),
    ("35-59", "35–59岁", 35),
    ("60-79", "60–79岁", 60),
    ("80+", "80岁及以上", 80),
)
ELDERLY_AGE = 60


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _day(q: IndicatorQuery) -> date:
    # A closed period's as_of is the first moment after it: ages on its last day count.
    return (q.as_of.astimezone(BEIJING) - timedelta(microseconds=1)).date()


def residents_by_age(q: IndicatorQuery) -> Any:
    """Active residents per committee and age band on ``q.as_of``."""
    r, day = q.residents, _day(q)
    # Someone is at least N years old exactly when born on or before the day N years ago.
    band = case(
        *[
            (r.c.birth_date <= years_before(day, low), key)
            for key, _, low in reversed(AGE_BANDS)
            if low > 0
        ],
        else_=AGE_BANDS[0][0],
    )
    # Grouped over a subquery: PostgreSQL does not match a CASE with bound parameters in
    # SELECT with its copy in GROUP BY.
    inner = select(r.c.unit_id, band.label("key")).where(q.within(r.c.unit_id)).subquery()
    return select(inner.c.unit_id, inner.c.key, func.count().label("value")).group_by(
        inner.c.unit_id, inner.c.key
    )


def elderly_share(q: IndicatorQuery) -> Any:
    """Residents aged 60 or more over all active residents, per committee."""
    r = q.residents
    born_by = years_before(_day(q), ELDERLY_AGE)
    return (
        select(
            r.c.unit_id,
            func.sum(case((r.c.birth_date <= born_by, 1), else_=0)).label("value"),
            func.count().label("base"),
        )
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id)
    )


def by_registration(q: IndicatorQuery) -> Any:
    """Each registration's residents (户籍, 常住, 流动) over all residents, per committee.

    Every committee gives a row for every registration, zero or not: a share's denominator is
    all of the unit's residents, so a committee without floating residents must still add its
    residents to the floating share's base when a street adds its committees up.
    """
    r = q.residents
    counts = [
        func.sum(case((r.c.registration == key, 1), else_=0)).label(key) for key in REGISTRATIONS
    ]
    per_unit = (
        select(r.c.unit_id, func.count().label("everyone"), *counts)
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id)
        .cte("per_unit")
    )
    return union_all(
        *[
            select(
                per_unit.c.unit_id,
                literal(key).label("key"),
                per_unit.c[key].label("value"),
                per_unit.c.everyone.label("base"),
            )
            for key in REGISTRATIONS
        ]
    )


def by_tag(q: IndicatorQuery) -> Any:
    """Active residents carrying each tag, per committee."""
    r = q.residents
    return (
        select(r.c.unit_id, col(ResidentTag.tag).label("key"), func.count().label("value"))
        .join(r, r.c.id == ResidentTag.resident_id)
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id, col(ResidentTag.tag))
    )


def households(q: IndicatorQuery) -> Any:
    """Households with at least one active resident, per committee."""
    r = q.residents
    return (
        select(r.c.unit_id, func.count(distinct(r.c.household_id)).label("value"))
        .where(q.within(r.c.unit_id), r.c.household_id.is_not(None))
        .group_by(r.c.unit_id)
    )


def household_size(q: IndicatorQuery) -> Any:
    """Residents living in a household over those households, per committee."""
    r = q.residents
    return (
        select(
            r.c.unit_id,
            func.count().label("value"),
            func.count(distinct(r.c.household_id)).label("base"),
        )
        .where(q.within(r.c.unit_id), r.c.household_id.is_not(None))
        .group_by(r.c.unit_id)
    )


INDICATORS = (
    Indicator(
        "population",
        "在册居民",
        residents_by_age,
        title_en="Registered residents",
        unit="人",
        unit_en="people",
        description="统一居民信息库中在册（未注销）的居民人数，按年龄段分列",
        description_en="Active residents in the resident information base, by age band",
        breakdown=Breakdown(
            "年龄段", "Age band", labels={key: label for key, label, _ in AGE_BANDS}
        ),
        order=10,
    ),
    Indicator(
        "elderly_share",
        "60岁及以上居民占比",
        elderly_share,
        title_en="Share aged 60 and over",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        description="60 周岁及以上在册居民 ÷ 全部在册居民；各级为人数之和的比值",
        description_en="Residents aged 60+ over all residents; a ratio of sums at every level",
        order=20,
    ),
    Indicator(
        "registration",
        "户籍结构",
        by_registration,
        title_en="Registration",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        description="户籍、常住、流动人口各占在册居民的比例；首项为户籍人口占比",
        description_en="Shares of registered, resident and floating residents",
        breakdown=Breakdown("户籍类别", "Registration", labels=dict(REGISTRATIONS), additive=False),
        order=30,
    ),
    Indicator(
        "tags",
        "重点人群",
        by_tag,
        title_en="Residents by tag",
        unit="人",
        unit_en="people",
        description="带有各标签（独居老人、低保、残疾……）的在册居民人数；一人可有多个标签",
        description_en="Residents carrying each tag; one resident may carry several",
        breakdown=Breakdown("标签", "Tag", additive=False),
        order=40,
    ),
    Indicator(
        "households",
        "家庭户数",
        households,
        title_en="Households",
        unit="户",
        unit_en="households",
        description="至少有一名在册居民的家庭户数",
        description_en="Households with at least one active resident",
        order=50,
    ),
    Indicator(
        "household_size",
        "户均人口",
        household_size,
        title_en="People per household",
        unit="人/户",
        unit_en="per household",
        aggregation="ratio",
        decimals=2,
        description="家庭户中的在册居民 ÷ 家庭户数",
        description_en="Residents in households over households",
        order=55,
    ),
)
