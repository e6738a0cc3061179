"""Every shipped policy loads, passes the schema, and passes its own YAML cases."""

from __future__ import annotations

import pytest
from shequyun_advisors.policy.cases import run_cases
from shequyun_advisors.policy.loader import PolicyError, load_text, shipped_policies

POLICIES = shipped_policies()


def test_at_least_eight_policies_ship_each_with_cases_and_documents():
    assert len(POLICIES) >= 8
    for policy in POLICIES:
        assert len(policy.cases) >= 3, policy.id
        assert policy.document in policy.documents
        for parameter in policy.parameters.values():
            for dated in parameter.values:
                assert dated.document in policy.documents


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_the_cases_of_each_policy_pass(policy):
    failures = [r for r in run_cases(policy) if not r.passed]
    assert failures == []


def test_a_bad_policy_is_refused_with_every_problem_located_in_chinese():
    text = """
id: bad
name: 坏政策
issuer: 某区民政局
level: district
category: elderly
documents: [{id: doc, title: 文件, issuer: 某区}]
document: missing-doc
effective: {from: 2026-01-01}
conditions:
  all:
    - {id: age, age_min: -3}
    - {id: x, frobnicate: 1}
benefit: {kind: amount, text: 每月发放}
receiving: {recorded: true}
"""
    with pytest.raises(PolicyError) as caught:
        load_text(text)
    where = dict(caught.value.problems)
    assert "conditions.all.0.age_min" in where
    assert "conditions.all.1" in where


def test_references_to_unknown_documents_and_parameters_are_refused():
    text = """
id: bad-refs
name: 引用错误
issuer: 某区民政局
level: district
category: elderly
documents: [{id: doc, title: 文件, issuer: 某区}]
document: elsewhere
effective: {from: 2026-01-01}
conditions: {id: age, age_min: 60}
benefit: {kind: amount, parameter: nothing, text: 每月发放}
receiving: {recorded: true}
"""
    with pytest.raises(PolicyError) as caught:
        load_text(text)
    assert {w for w, _ in caught.value.problems} == {"document", "benefit.parameter"}


@pytest.mark.parametrize(
    "text",
    [
        "effective: {from: 2026-13-45}",  # YAML's date pattern, no such day: ValueError
        "effective: {from: 2026-01-01T25:00:00}",
        "[" * 5000,  # nested deeper than the parser's recursion
    ],
)
def test_text_yaml_cannot_read_is_a_policy_error_not_a_crash(text):
    """A district editing a policy in the portal gets the problem named, never a 500."""
    with pytest.raises(PolicyError) as caught:
        load_text(text)
    assert caught.value.problems[0][1].startswith("不是有效的 YAML")
