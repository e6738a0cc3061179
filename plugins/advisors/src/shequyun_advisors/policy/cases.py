"""Each policy's YAML cases (person or household → verdict, amount, reasons), as tests.

``shequyun advisors test`` and the plugin's pytest suite both run them through
:func:`run_cases`. A case names the reference day (``on``), the person (and household), and what
to expect; only what ``expect`` names is checked::

    - name: 缺少出生日期为需补充信息
      day: 2026-12-01
      person: {birth_date: null, registration: huji}
      expect: {verdict: needs_information, conditions: {age: unknown}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .evaluate import Facts, evaluate
from .model import OUTCOME_NAMES, Policy

__all__ = ["CaseResult", "run_cases"]


@dataclass(frozen=True)
class CaseResult:
    policy: str
    name: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def run_cases(policy: Policy) -> list[CaseResult]:
    """Run every case of ``policy``; a case passes when everything it expects holds."""
    return [
        CaseResult(policy.id, case.get("name", f"case {i + 1}"), tuple(_check(policy, case)))
        for i, case in enumerate(policy.cases)
    ]


def _check(policy: Policy, case: Mapping[str, Any]) -> list[str]:
    try:
        day = case["day"] if isinstance(case["day"], date) else date.fromisoformat(case["day"])
        facts = Facts.from_mapping(case)
        expect: Mapping[str, Any] = case["expect"]
    except (KeyError, TypeError, ValueError) as exc:
        return [f"用例写法有误：{exc!r}"]
    problems = []
    if "in_force" in expect and policy.in_force(day) != expect["in_force"]:
        problems.append(f"in_force: expected {expect['in_force']}, got {policy.in_force(day)}")
    result = evaluate(policy, facts, day)
    if "verdict" in expect and result.verdict != expect["verdict"]:
        problems.append(f"verdict: expected {expect['verdict']}, got {result.verdict}")
    if "amount" in expect and result.amount != expect["amount"]:
        problems.append(f"amount: expected {expect['amount']}, got {result.amount}")
    if "receiving" in expect and result.receiving != expect["receiving"]:
        problems.append(f"receiving: expected {expect['receiving']}, got {result.receiving}")
    if "clue" in expect:
        got = OUTCOME_NAMES[result.clue] if result.clue is not None else None
        if got != expect["clue"]:
            problems.append(f"clue: expected {expect['clue']}, got {got}")
    outcomes = {o.id: o for o in (*result.outcomes, *result.clue_outcomes)}
    for leaf_id, wanted in (expect.get("conditions") or {}).items():
        found = outcomes.get(leaf_id)
        got = found.outcome if found is not None else "(no such condition)"
        if got != wanted:
            problems.append(f"condition {leaf_id}: expected {wanted}, got {got}")
    for leaf_id, wanted in (expect.get("reasons") or {}).items():
        found = outcomes.get(leaf_id)
        got = found.reason if found is not None else "(no such condition)"
        if got != wanted:
            problems.append(f"reason {leaf_id}: expected {wanted!r}, got {got!r}")
    return problems
