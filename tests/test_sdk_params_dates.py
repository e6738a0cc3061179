"""``shequyun_sdk.params.parse_date``: a plugin's form reads dates by the resident base's rule."""

from __future__ import annotations

from datetime import date

import pytest
from shequyun_sdk import ValidationFailed
from shequyun_sdk.params import DATE_EXAMPLES, parse_date, read_date

from shequyun.residents import dates


@pytest.mark.parametrize(
    "typed", ["2026-12-01", "2026/12/1", "2026.12.1", "2026年12月1日", "２０２６／１２／１"]
)
def test_a_day_written_as_cadres_write_it(typed):
    assert parse_date(typed, "day", label="服务日期") == date(2026, 12, 1)


@pytest.mark.parametrize(
    "typed", ["12/01/2026", "20261201", "2026-W49-2", "2026-02-30", "", None, 3]
)
def test_anything_else_is_a_422_naming_the_field_in_chinese(typed):
    with pytest.raises(ValidationFailed) as refused:
        parse_date(typed, "day", label="服务日期")
    assert refused.value.to_dict()["error"] == {
        "code": "validation_failed",
        "message": f"服务日期：应为日期，如 {DATE_EXAMPLES}",
        "field": "day",
    }


def test_without_a_label_the_field_is_named():
    with pytest.raises(ValidationFailed, match=r"^served_on：应为日期"):
        parse_date("yesterday", "served_on")


def test_the_resident_base_reads_dates_by_the_same_rule():
    assert dates.read_date is read_date and dates.DATE_EXAMPLES == DATE_EXAMPLES
