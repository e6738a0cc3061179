"""Working days in mainland China: weekends, public holidays and 调休 (make-up working days).

Deadlines in government work count *working days* (工作日): "签收 within 1 working day, 办结
within 5". A working day is Monday to Friday unless the State Council's yearly notice (国务院办公厅
关于部分节假日安排的通知) makes it a holiday, and a Saturday or Sunday when the notice makes it a
make-up working day (调休上班). :class:`WorkCalendar` answers with that rule::

    from shequyun_sdk.workdays import WorkCalendar

    calendar = WorkCalendar.shipped()
    calendar.add_working_days(date(2026, 9, 30), 1)  # 2026-10-08: the 国庆 holiday is skipped

The SDK ships the arrangement for 2026 and 2027 as data (``data/holidays_cn.json``). The State
Council publishes each year's arrangement in November, so a running platform lets its
administrators edit days (``shequyun calendar set``, ``PUT /api/v1/calendar/days/{day}``):
inside the platform, always ask for the calendar in force with
:meth:`~shequyun_sdk.Platform.work_calendar` rather than using :meth:`WorkCalendar.shipped`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

__all__ = [
    "BEIJING",
    "DAY_KINDS",
    "CalendarDay",
    "Punctuality",
    "WorkCalendar",
    "beijing_today",
]

#: Beijing time (UTC+8, no daylight saving): the clock of every deadline.
BEIJING = timezone(timedelta(hours=8), "CST")

#: What a listed day is: a holiday on a weekday (放假) or a working weekend day (调休上班).
DAY_KINDS = {"holiday": "放假", "workday": "上班"}

Punctuality = Literal["on_time", "at_risk", "overdue"]

#: Longest stretch searched for the next working day: no arrangement has come close.
_MAX_RUN = 60


def beijing_today() -> date:
    """Today's date in Beijing."""
    return datetime.now(BEIJING).date()


@dataclass(frozen=True)
class CalendarDay:
    """One day the arrangement lists: ``kind`` is ``holiday`` or ``workday``.

    ``name`` is the festival it belongs to (``春节``); ``source`` is ``shipped`` for the SDK's
    data and ``edited`` for a day the platform's administrators set.
    """

    day: date
    kind: str
    name: str
    source: str = "shipped"

    def __post_init__(self) -> None:
        if self.kind not in DAY_KINDS:
            raise ValueError(f"kind must be one of {sorted(DAY_KINDS)}, not {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """The day as the API shows it."""
        return {
            "day": self.day.isoformat(),
            "kind": self.kind,
            "kind_label": DAY_KINDS[self.kind],
            "name": self.name,
            "weekday": self.day.isoweekday(),
            "source": self.source,
        }


class WorkCalendar:
    """Which days are working days, and deadline arithmetic over them.

    ``days`` are the listed exceptions to "Monday to Friday"; ``years`` maps each year the
    calendar knows to a note on where its data comes from, and ``provisional`` names the years
    whose arrangement is not yet the State Council's final one. A calendar is immutable;
    :meth:`with_days` returns a new one with some days changed.
    """

    def __init__(
        self,
        days: Iterable[CalendarDay] = (),
        *,
        years: Mapping[int, str] | None = None,
        provisional: Iterable[int] = (),
    ) -> None:
        self._days: dict[date, CalendarDay] = {d.day: d for d in days}
        self.years: dict[int, str] = dict(years or {})
        self.provisional: frozenset[int] = frozenset(provisional)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def shipped(cls) -> WorkCalendar:
        """The arrangement shipped with the SDK (2026 and 2027), without any platform edits."""
        return _shipped()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """A calendar from the shipped JSON shape: ``{"2026": {"source", "provisional",
        "holidays": [[name, first, last], ...], "workdays": [[name, day], ...]}}``."""
        days: list[CalendarDay] = []
        years: dict[int, str] = {}
        provisional: list[int] = []
        for year_text, entry in data.items():
            year = int(year_text)
            years[year] = str(entry.get("source", ""))
            if entry.get("provisional"):
                provisional.append(year)
            for name, first, last in entry.get("holidays", []):
                day, end = date.fromisoformat(first), date.fromisoformat(last)
                while day <= end:
                    days.append(CalendarDay(day, "holiday", name))
                    day += timedelta(days=1)
            for name, day_text in entry.get("workdays", []):
                days.append(CalendarDay(date.fromisoformat(day_text), "workday", name))
        return cls(days, years=years, provisional=provisional)

    def with_days(
        self, changes: Iterable[CalendarDay], *, removed: Iterable[date] = ()
    ) -> WorkCalendar:
        """A new calendar where ``changes`` replace the listed days of the same date and the
        dates in ``removed`` become ordinary days (Monday to Friday work, weekends rest)."""
        days = dict(self._days)
        for gone in removed:
            days.pop(gone, None)
        for change in changes:
            days[change.day] = change
        years = dict(self.years)
        for day in days.values():
            years.setdefault(day.day.year, "")
        return WorkCalendar(days.values(), years=years, provisional=self.provisional)

    # -- questions --------------------------------------------------------------------------

    def listed(self, day: date) -> CalendarDay | None:
        """The arrangement's entry for ``day``, or None for an ordinary day."""
        return self._days.get(day)

    def days_of(self, year: int) -> list[CalendarDay]:
        """The listed days of ``year``, in date order."""
        return sorted((d for d in self._days.values() if d.day.year == year), key=_by_day)

    def knows(self, year: int) -> bool:
        """Whether the calendar has an arrangement for ``year`` (else only weekends count)."""
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        entry = self._days.get(day)
        if entry is not None:
            return entry.kind == "workday"
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for step in range(1, _MAX_RUN):
            candidate = day + timedelta(days=step)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_RUN} days after {day}")

    def add_working_days(self, start: date, count: int) -> date:
        """The day on which ``count`` working days after ``start`` have passed.

        ``start`` itself never counts (a case dispatched on Friday with one working day is due
        on Monday); ``count=0`` is ``start``. Negative counts go back in time.
        """
        if count == 0:
            return start
        step = timedelta(days=1 if count > 0 else -1)
        day, left = start, abs(count)
        idle = 0
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_RUN:
                    raise ValueError(f"no working day within {_MAX_RUN} days of {day}")
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end``; negative when
        ``end`` is before ``start``. ``working_days_between(d, add_working_days(d, n)) == n``."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def punctuality(
        self, due: date, *, today: date, done_on: date | None = None, warn_days: int = 1
    ) -> Punctuality:
        """Where something due on ``due`` stands: ``on_time``, ``at_risk`` or ``overdue``.

        Done things (``done_on`` given) are ``on_time`` when done by ``due``, else ``overdue``.
        Open ones are ``overdue`` after ``due``, ``at_risk`` when ``warn_days`` working days or
        fewer remain (due today: none remain), else ``on_time``.
        """
        if done_on is not None:
            return "on_time" if done_on <= due else "overdue"
        if today > due:
            return "overdue"
        if self.working_days_between(today, due) <= warn_days:
            return "at_risk"
        return "on_time"


def _by_day(day: CalendarDay) -> date:
    return day.day


@lru_cache(maxsize=1)
def _shipped() -> WorkCalendar:
    text = resources.files("shequyun_sdk").joinpath("data/holidays_cn.json").read_text("utf-8")
    return WorkCalendar.from_data(json.loads(text))
