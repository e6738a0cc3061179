"""Indicators (指标): figures a plugin declares once and the platform computes for every org unit.

A plugin returns :class:`Indicator` objects from the ``register_indicators`` hook. Each says how
to count something *per org unit* with one set-based SQL query over the plugin's own tables; the
platform runs that query for the part of the tree a user looks at (limited by the kernel's
scope), adds the rows up the tree and shows the result on the dashboards of every level, with
the children side by side, trends and exports::

    from shequyun_sdk import hookimpl
    from shequyun_sdk.indicators import Indicator
    from sqlalchemy import func, select

    def checkins(q):
        return (
            select(CheckIn.unit_id, func.sum(CheckIn.households).label("value"))
            .where(q.within(CheckIn.unit_id), q.period.contains(CheckIn.day))
            .group_by(CheckIn.unit_id)
        )

    @hookimpl
    def register_indicators(plugin):
        return [Indicator("households", "参与户次", checkins, unit="户次", kind="flow")]

How a figure goes up the tree is declared, never computed by the plugin: ``aggregation="sum"``
adds the ``value`` of every unit below; ``aggregation="ratio"`` adds the ``value``
(numerator) and the ``base`` (denominator) separately and divides at each level, so a district's
rate is the ratio of its sums and never the average of its streets' rates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

__all__ = [
    "AGGREGATIONS",
    "BEIJING",
    "KINDS",
    "PERIOD_KINDS",
    "Breakdown",
    "Indicator",
    "IndicatorQuery",
    "Period",
]

#: How an indicator adds up the tree: ``sum`` of values, or ``ratio`` of summed value / base.
AGGREGATIONS = ("sum", "ratio")
#: ``stock``: a state at a moment (residents registered); ``flow``: what happened in a period.
KINDS = ("stock", "flow")
#: The periods whose values are kept as snapshots once they close.
PERIOD_KINDS = ("week", "month", "quarter")
#: Periods begin and end at midnight, Beijing time.
BEIJING = timezone(timedelta(hours=8), "CST")

_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday), a month or a quarter: ``start`` inclusive, ``end`` exclusive.

    Build one with :meth:`of` (the period holding a day) or :meth:`parse` (``2026-11``,
    ``2026-W47``, ``2026-Q4``); :attr:`code` gives that text back.
    """

    kind: str
    start: date
    end: date

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        """The period of ``kind`` that holds ``day``."""
        if kind == "week":
            start = day - timedelta(days=day.weekday())
            return cls(kind, start, start + timedelta(days=7))
        if kind == "month":
            start = day.replace(day=1)
            return cls(kind, start, _add_months(start, 1))
        if kind == "quarter":
            start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            return cls(kind, start, _add_months(start, 3))
        raise ValueError(f"period kind {kind!r} is not one of {', '.join(PERIOD_KINDS)}")

    @classmethod
    def parse(cls, code: str) -> Period:
        """The period written ``2026-11`` (month), ``2026-W47`` (ISO week) or ``2026-Q4``."""
        text = code.strip().upper()
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                return cls.of("month", date(year, month, 1))
        elif m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            try:
                return cls.of("week", date.fromisocalendar(int(m[1]), int(m[2]), 1))
            except ValueError:
                pass
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return cls.of("quarter", date(int(m[1]), 3 * int(m[2]) - 2, 1))
        raise ValueError(f"{code!r} is not a period such as 2026-11, 2026-W47 or 2026-Q4")

    @property
    def code(self) -> str:
        """``2026-11``, ``2026-W47`` or ``2026-Q4``."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        """The period as Chinese readers write it: ``2026年11月``, ``2026年第47周``,
        ``2026年第4季度``."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}年第{week}周"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年{self.start.month}月"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def starts_at(self) -> datetime:
        """The first moment of the period (midnight, Beijing time), timezone-aware."""
        return datetime.combine(self.start, time(), BEIJING)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period, timezone-aware."""
        return datetime.combine(self.end, time(), BEIJING)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return Period.of(self.kind, self.start - timedelta(days=1))

    def following(self) -> Period:
        """The period of the same kind just after this one."""
        return Period.of(self.kind, self.end)

    def contains(self, column: Any) -> Any:
        """A SQL condition: ``column`` (a date or an aware timestamp) falls in the period."""
        if _is_date_column(column):
            return (column >= self.start) & (column < self.end)
        # In UTC: SQLite keeps timestamps as naive UTC text and compares them as text.
        return (column >= self.starts_at.astimezone(UTC)) & (column < self.ends_at.astimezone(UTC))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _is_date_column(column: Any) -> bool:
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return False
    return python_type is date


@dataclass(frozen=True)
class Breakdown:
    """Split an indicator by a key (an age band, a campaign, a tag): the query adds a ``key``
    column and the dashboard shows one figure per key beside the total.

    ``labels`` maps keys to what readers see, in display order (age bands youngest first).
    When keys are only known at run time (campaigns), give ``label_for(session, keys)``
    returning ``{key: label}`` instead; keys it leaves out are shown as they are. ``additive``
    says whether the keys' figures add up to a meaningful total: a resident has one age band
    (additive) but may carry several tags (not additive, so no total is shown).
    """

    title: str
    title_en: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    label_for: Callable[[Any, Sequence[str]], Mapping[str, str]] | None = None
    additive: bool = True


@dataclass(frozen=True)
class IndicatorQuery:
    """What an indicator's ``query`` receives: the period, the units and the kernel's helpers.

    ``within(unit_column)`` is the SQL condition selecting the org units being counted (the
    subtree a user looks at, inside their grant): put it in your ``WHERE`` so the database
    reads only those rows. The platform also drops any row outside them, so a query can never
    widen a user's scope. ``residents`` is a subquery of the active residents with their
    non-sensitive columns ``id``, ``unit_id``, ``household_id``, ``gender``, ``birth_date`` and
    ``registration``, for indicators relative to the population. ``as_of`` is the moment a stock
    is measured at: now for the current period, the end of a closed period.
    """

    session: Any
    period: Period
    as_of: datetime
    within: Callable[[Any], Any]
    residents: Any
    days_since: Callable[[Any], Any]
    """``days_since(column)``: a SQL expression, the days from a timestamp column to ``as_of``
    (fractional), the same on SQLite and PostgreSQL: the age of open requests."""


QueryFunction = Callable[[IndicatorQuery], Any]


@dataclass(frozen=True)
class Indicator:
    """A figure computed per org unit and period, and how it adds up the tree.

    ``query(q)`` returns a SQLAlchemy ``select`` with the columns ``unit_id`` (the org unit a
    row belongs to, usually a committee), ``value`` and, for ``aggregation="ratio"``, ``base``
    (the denominator), plus ``key`` when there is a :class:`Breakdown`; group it by
    ``unit_id`` (and ``key``). Filter with ``q.within(...)``; count a ``flow`` inside
    ``q.period`` and a ``stock`` as of ``q.as_of``.

    ``name`` (lower case letters, digits, ``_``) is prefixed with the plugin's name by the
    kernel (``garbage.households``); keep it stable, history is stored under it. ``unit`` is the
    unit of measure shown after the figure (``人``, ``户``, ``%``, ``天``); a ratio is
    ``value / base * scale`` (``scale=100`` for a percentage). ``permission`` is what a user
    needs on a unit to read the indicator there (the kernel's ``indicators.view`` by default).
    ``higher_is_better`` colours a rise green or red in trends (None: neither). ``order`` sorts
    the dashboard (smaller first), then the title.
    """

    name: str
    title: str
    query: QueryFunction
    title_en: str = ""
    unit: str = ""
    unit_en: str = ""
    aggregation: str = "sum"
    scale: float = 1.0
    decimals: int = 0
    kind: str = "stock"
    permission: str = "indicators.view"
    description: str = ""
    description_en: str = ""
    breakdown: Breakdown | None = None
    higher_is_better: bool | None = None
    order: int = 100

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"indicator name {self.name!r} must be lower case letters, digits or '_', "
                "starting with a letter"
            )
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"indicator {self.name!r} needs a title")
        if not callable(self.query):
            raise ValueError(f"the query of indicator {self.name!r} is not callable")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(
                f"indicator {self.name!r}: aggregation must be one of {', '.join(AGGREGATIONS)}"
            )
        if self.kind not in KINDS:
            raise ValueError(f"indicator {self.name!r}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(self.decimals, int) or not 0 <= self.decimals <= 4:
            raise ValueError(f"indicator {self.name!r}: decimals must be 0 to 4")
        if not isinstance(self.scale, int | float) or self.scale <= 0:
            raise ValueError(f"indicator {self.name!r}: scale must be a positive number")
        if self.breakdown is not None and not isinstance(self.breakdown, Breakdown):
            raise ValueError(f"indicator {self.name!r}: breakdown must be a Breakdown")

    def figure(self, value: float, base: float | None) -> float | None:
        """The figure a unit shows for its summed ``value`` and ``base``: the sum itself, or
        the ratio (None when the base is zero: nothing to divide by)."""
        if self.aggregation == "sum":
            return value
        if not base:
            return None
        return value / base * self.scale
