"""Data quality on the decision-support dashboards, declared through ``register_indicators``.

The default plugin ``quality`` returns :data:`INDICATORS` from its hook, as any plugin would:
the quality score, completeness and freshness (ratios of sums: each unit's figure counts all
its residents, never averages its children's) and the open errors. They read the findings as
they stand now; closed weeks, months and quarters are kept by the indicators' snapshot job.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.indicators import Indicator, IndicatorQuery
from sqlalchemy import case, func, select
from sqlmodel import col

from .models import Finding
from .service import load_rules

__all__ = ["INDICATORS"]


def _per_resident(q: IndicatorQuery) -> Any:
    """One row per resident with findings: has an error, a warning, is incomplete, is stale."""
    rules = load_rules(q.session)
    incomplete = [r.code for r in rules if r.kind == "completeness"]
    stale = [r.code for r in rules if r.kind == "freshness"]
    code, level = col(Finding.rule_code), col(Finding.level)

    def flag(condition: Any) -> Any:
        return func.max(case((condition, 1), else_=0))

    return (
        select(
            col(Finding.resident_id).label("resident_id"),
            flag(level == "error").label("error"),
            flag(code.in_(incomplete)).label("incomplete"),
            flag(code.in_(stale)).label("stale"),
        )
        .where(q.within(col(Finding.unit_id)))
        .group_by(col(Finding.resident_id))
        .subquery("flags")
    )


def _share(q: IndicatorQuery, value: Any) -> Any:
    r, flags = q.residents, _per_resident(q)
    return (
        select(r.c.unit_id, func.sum(value(flags)).label("value"), func.count().label("base"))
        .select_from(r.outerjoin(flags, flags.c.resident_id == r.c.id))
        .where(q.within(r.c.unit_id))
        .group_by(r.c.unit_id)
    )


def score(q: IndicatorQuery) -> Any:
    """100 × (residents − with an error − ½ × with only warnings) ÷ residents."""

    def value(flags: Any) -> Any:
        return case((flags.c.resident_id.is_(None), 1.0), (flags.c.error == 1, 0.0), else_=0.5)

    return _share(q, value)


def completeness(q: IndicatorQuery) -> Any:
    """Residents without a completeness finding ÷ residents."""
    return _share(q, lambda f: case((f.c.incomplete == 1, 0), else_=1))


def freshness(q: IndicatorQuery) -> Any:
    """Residents without a freshness finding ÷ residents."""
    return _share(q, lambda f: case((f.c.stale == 1, 0), else_=1))


def open_errors(q: IndicatorQuery) -> Any:
    """Open findings of level error, per committee."""
    return (
        select(col(Finding.unit_id).label("unit_id"), func.count().label("value"))
        .where(q.within(col(Finding.unit_id)), col(Finding.level) == "error")
        .group_by(col(Finding.unit_id))
    )


INDICATORS = (
    Indicator(
        "score",
        "数据质量评分",
        score,
        title_en="Data quality score",
        unit="分",
        unit_en="points",
        aggregation="ratio",
        scale=100,
        decimals=1,
        higher_is_better=True,
        description="100 ×（在册居民 − 有错误的居民 − 仅有提醒的居民 × ½）÷ 在册居民",
        description_en="100 × (residents − with an error − ½ × with only warnings) ÷ residents",
        order=60,
    ),
    Indicator(
        "completeness",
        "居民信息完整率",
        completeness,
        title_en="Resident data completeness",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        higher_is_better=True,
        description="没有缺项问题（电话、地址、家庭户）的在册居民 ÷ 在册居民",
        description_en="Residents with nothing missing over all residents",
        order=61,
    ),
    Indicator(
        "freshness",
        "居民信息及时率",
        freshness,
        title_en="Resident data freshness",
        unit="%",
        aggregation="ratio",
        scale=100,
        decimals=1,
        higher_is_better=True,
        description="近期修改或核实过的在册居民 ÷ 在册居民",
        description_en="Residents changed or checked recently over all residents",
        order=62,
    ),
    Indicator(
        "open_errors",
        "待处理数据错误",
        open_errors,
        title_en="Open data errors",
        unit="处",
        unit_en="findings",
        higher_is_better=False,
        description="数据质量规则发现、尚未处理的错误",
        description_en="Errors found by the data-quality rules and not yet dealt with",
        order=63,
    ),
)
