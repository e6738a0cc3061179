"""The working-day clock of the SDK: weekends, the State Council's holidays and 调休 days."""

from __future__ import annotations

from datetime import date

import pytest
from shequyun_sdk.workdays import CalendarDay, WorkCalendar

CAL = WorkCalendar.shipped()


def test_the_shipped_arrangement_covers_this_year_and_the_next():
    assert CAL.knows(2026) and CAL.knows(2027)
    assert 2026 not in CAL.provisional  # the State Council's notice of 2025-11-04
    assert 2027 in CAL.provisional  # statutory days only until the notice is entered
    spring = [d.day for d in CAL.days_of(2026) if d.name == "春节" and d.kind == "holiday"]
    assert spring[0] == date(2026, 2, 15) and spring[-1] == date(2026, 2, 23) and len(spring) == 9


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # 国庆 on a Thursday
        (date(2026, 10, 9), True),  # an ordinary Friday
        (date(2026, 10, 10), True),  # a Saturday made a working day (调休上班)
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 2, 14), True),  # Saturday before 春节
        (date(2026, 5, 5), False),  # 劳动节 on a Tuesday
        (date(2027, 2, 8), False),  # 春节 2027 (statutory 初三, a Monday)
    ],
)
def test_working_days(day, working):
    assert CAL.is_working_day(day) is working


def test_a_deadline_skips_the_national_day_holiday():
    # Dispatched on Wednesday 30 September 2026: 1 to 7 October are holidays, 8 and 9 are
    # Thursday and Friday, 10 October is a Saturday worked in exchange.
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CAL.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert CAL.add_working_days(date(2026, 10, 12), -4) == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 10, 12), 0) == date(2026, 10, 12)


def test_a_friday_case_with_one_working_day_is_due_on_monday():
    assert CAL.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert CAL.next_working_day(date(2026, 12, 4)) == date(2026, 12, 7)


def test_punctuality():
    due = date(2026, 12, 10)  # a Thursday
    assert CAL.punctuality(due, today=date(2026, 12, 7)) == "on_time"
    assert CAL.punctuality(due, today=date(2026, 12, 9)) == "at_risk"
    assert CAL.punctuality(due, today=due) == "at_risk"
    assert CAL.punctuality(due, today=date(2026, 12, 11)) == "overdue"
    assert CAL.punctuality(due, today=date(2026, 12, 20), done_on=due) == "on_time"
    assert CAL.punctuality(due, today=date(2026, 12, 20), done_on=date(2026, 12, 11)) == "overdue"


def test_edits_replace_and_remove_listed_days():
    edited = CAL.with_days(
        [CalendarDay(date(2027, 2, 20), "workday", "春节")], removed=[date(2027, 2, 8)]
    )
    assert edited.is_working_day(date(2027, 2, 20))  # a Saturday now worked
    assert edited.is_working_day(date(2027, 2, 8))  # back to an ordinary Monday
    assert not CAL.is_working_day(date(2027, 2, 8))  # the original is unchanged
    with pytest.raises(ValueError, match="kind"):
        CalendarDay(date(2027, 1, 1), "party", "")
