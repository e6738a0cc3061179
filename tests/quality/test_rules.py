"""Each shipped rule finds the case planted for it in generated data, and nothing in a clean
record; rules are validated data."""

from __future__ import annotations

import pytest
from shequyun_sdk import ValidationFailed

from shequyun.quality.checks import CHECKS
from shequyun.quality.rules import clean_rule, shipped_rules

from .conftest import LONG_AGO, Town


def plant(town: Town) -> dict[str, int]:
    """One resident per shipped rule, wrong in exactly the way that rule looks for."""
    planted = {
        "missing_phone": town.add(phone=None),
        "missing_address": town.add(address=None),
        "missing_household": town.add(household_number=None),
        "age_over_110": town.add(born="19100305"),
        "household_head_under_16": town.add(born="20150601", household_number="KID-1"),
        "dibao_without_household": town.add(
            household_number=None, registration="常住", tags=["低保"]
        ),
    }
    alone = town.add(born="19400101", household_number="ALONE-1", tags=["独居老人"])
    town.add(household_number="ALONE-1")
    planted["alone_with_members"] = alone
    # The same person (name, gender, birth date) active as 常住 in two committees.
    twin = town.add(name="李重名", born="19770707", registration="常住")
    town.serial += 1  # the same parity of serial: the same gender
    town.add("310104003001", name="李重名", born="19770707", registration="常住")
    planted["two_active_changzhu"] = twin
    shared = [town.add(phone="13900001111") for _ in range(4)]
    planted["shared_phone"] = shared[0]
    stale = town.add()
    town.age_record(stale, LONG_AGO)
    planted["not_confirmed_12_months"] = stale
    return planted


def test_each_shipped_rule_finds_its_planted_case_and_nothing_in_a_clean_record(town: Town):
    planted = plant(town)
    clean = town.add(born="19600520", tags=["党员"])
    town.add(household_number=f"T-{town.serial}")  # a second, adult member of the same household
    town.kernel.quality.scan()

    found = town.findings()
    assert set(planted) == {rule.code for rule in shipped_rules()}
    missed = [code for code, resident in planted.items() if resident not in found.get(code, ())]
    assert missed == []
    assert town.of(clean) == set()
    # Each planted resident is wrong in one way only (the planted households are adults').
    for code, resident in planted.items():
        assert town.of(resident) == {code}, code


def test_a_planted_case_is_found_only_by_its_own_rule_in_generated_data(town: Town):
    town.kernel.quality.scan()
    generated = town.findings()
    # The generator leaves phones out now and then: the completeness rule sees them.
    assert generated.get("missing_phone")
    # Nobody in the generated data is over 110 or in a household of children only.
    assert "age_over_110" not in generated
    assert "household_head_under_16" not in generated


def test_the_shipped_rules_cover_every_kind_and_explain_the_fix():
    rules = shipped_rules()
    assert {r.kind for r in rules} == {"completeness", "plausibility", "consistency", "freshness"}
    assert {r.level for r in rules} == {"error", "warning"}
    assert all(r.fix and r.title for r in rules)
    assert {r.check for r in rules} == set(CHECKS)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "X"}, "code"),
        ({"check": "nonsense"}, "check"),
        ({"level": "fatal"}, "level"),
        ({"fix": ""}, "fix"),
        ({"params": {"years": "old"}}, "params.years"),
        ({"params": {"years": 100, "colour": "red"}}, "params"),
        ({"kind": "freshness"}, "kind"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(change, field):
    rule = {
        "code": "age_over_100",
        "check": "age_over",
        "params": {"years": 100},
        "level": "warning",
        "title": "年龄超过 100 岁",
        "fix": "核对出生日期",
        **change,
    }
    with pytest.raises(ValidationFailed) as refused:
        clean_rule(rule)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"years": "一百"}, "参数 years：应为整数"),
        ({"years": 0}, "参数 years：不能小于 1"),
        ({}, "参数缺少 years"),
        ({"years": 100, "colour": "red"}, "参数中有不认识的项：colour"),
        ({"years": 100, "registrations": ["tourist"]}, "参数 registrations.0：应为以下之一："),
    ],
)
def test_a_bad_parameter_is_explained_in_chinese(params, message):
    rule = {"code": "age_over_100", "check": "age_over", "params": params, "level": "warning",
            "title": "年龄超过 100 岁", "fix": "核对出生日期"}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        clean_rule(rule)
    assert refused.value.message.startswith(message)
