"""The plain Python evaluator: one person's facts → verdict, reasons, amount.

It answers a questionnaire (``POST /evaluate``), runs the YAML cases, and is the reference the
SQL compiler is tested against: on any residents and households, both give the same outcome for
every condition, the same amount and the same receiving flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shequyun_sdk.population import age_on

from .model import (
    CONFIRM,
    FAIL,
    PASS,
    UNKNOWN,
    VERDICT_TITLES,
    VERDICTS,
    Group,
    Leaf,
    Node,
    Policy,
)
from .reasons import render_reason

__all__ = ["Facts", "Outcome", "Result", "amount_for", "combine", "evaluate"]


@dataclass(frozen=True)
class Facts:
    """What is known of one person; None (or a missing key) means "not known".

    ``household`` holds the birth dates of the active members of their household (the person
    included), or None when no household is recorded. ``units`` are the codes of their committee
    and every unit above it. ``recorded`` names the policies recorded as being received.
    """

    birth_date: date | None = None
    gender: str | None = None
    registration: str | None = None
    tags: frozenset[str] | None = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    units: tuple[str, ...] | None = None
    household: tuple[date | None, ...] | None = None
    recorded: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Facts:
        """Facts from a YAML case or a JSON questionnaire (dates as ISO text or dates)."""
        person = data.get("person", data)
        household = data.get("household")
        tags = person.get("tags", [])
        return cls(
            birth_date=_date(person.get("birth_date")),
            gender=person.get("gender"),
            registration=person.get("registration"),
            tags=None if tags is None else frozenset(tags),
            attributes=dict(person.get("attributes") or {}),
            units=tuple(person["units"]) if person.get("units") is not None else None,
            household=(
                None
                if household is None
                else tuple(_date(m.get("birth_date")) for m in household.get("members", []))
            ),
            recorded=frozenset(person.get("recorded", [])),
        )


@dataclass(frozen=True)
class Outcome:
    id: str
    code: int
    reason: str

    @property
    def outcome(self) -> str:
        return {PASS: "pass", CONFIRM: "confirm", UNKNOWN: "unknown", FAIL: "fail"}[self.code]


@dataclass(frozen=True)
class Result:
    policy: str
    code: int
    outcomes: tuple[Outcome, ...]
    amount: int | None
    receiving: bool
    clue: int | None = None
    clue_outcomes: tuple[Outcome, ...] = ()

    @property
    def candidate(self) -> bool:
        """Worth finding: not (yet) ruled out, not receiving, and the clue (if any) holds."""
        return self.code != FAIL and not self.receiving and self.clue in (None, PASS)

    @property
    def verdict(self) -> str:
        return VERDICTS[self.code]

    @property
    def verdict_title(self) -> str:
        return VERDICT_TITLES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "verdict": self.verdict,
            "verdict_title": self.verdict_title,
            "receiving": self.receiving,
            "amount": self.amount,
            "conditions": [
                {"id": o.id, "outcome": o.outcome, "reason": o.reason} for o in self.outcomes
            ],
            "clue": [
                {"id": o.id, "outcome": o.outcome, "reason": o.reason} for o in self.clue_outcomes
            ],
            "candidate": self.candidate,
        }


def combine(op: str, codes: Iterable[int]) -> int:
    """``all`` is the weakest part, ``any`` the strongest, ``not`` swaps pass and fail."""
    values = list(codes)
    if op == "all":
        return min(values)
    if op == "any":
        return max(values)
    (value,) = values
    return {PASS: FAIL, FAIL: PASS}.get(value, value)


def evaluate(policy: Policy, facts: Facts, day: date) -> Result:
    """The verdict of ``policy`` for ``facts`` on ``day``, with a reason per condition."""
    codes: dict[str, int] = {}
    code = _node(policy.conditions, facts, day, codes)
    outcomes = tuple(
        Outcome(leaf.id, codes[leaf.id], render_reason(policy, leaf, codes[leaf.id], day))
        for leaf in policy.leaves()
    )
    amount = amount_for(policy, facts.birth_date, day) if code >= CONFIRM else None
    clue = None
    clue_outcomes: tuple[Outcome, ...] = ()
    if policy.clue is not None:
        clue = _node(policy.clue, facts, day, codes)
        clue_outcomes = tuple(
            Outcome(leaf.id, codes[leaf.id], render_reason(policy, leaf, codes[leaf.id], day))
            for leaf in policy.clue_leaves()
        )
    return Result(policy.id, code, outcomes, amount, receiving(policy, facts), clue, clue_outcomes)


def receiving(policy: Policy, facts: Facts) -> bool:
    marker = policy.receiving
    if facts.tags is not None and any(tag in facts.tags for tag in marker.tags):
        return True
    if any(facts.attributes.get(key) is not None for key in marker.attributes):
        return True
    return marker.recorded and policy.id in facts.recorded


def amount_for(policy: Policy, birth_date: date | None, day: date) -> int | None:
    """The amount in force on ``day`` (by age band when the parameter has bands)."""
    parameter = policy.amount_parameter()
    dated = parameter.at(day) if parameter is not None else None
    if dated is None:
        return None
    if not dated.bands:
        return dated.value
    if birth_date is None:
        return None
    age = age_on(birth_date, day)
    for band in dated.bands:
        if age >= band.min_age and (band.max_age is None or age <= band.max_age):
            return band.value
    return None


def _node(node: Node, facts: Facts, day: date, codes: dict[str, int]) -> int:
    if isinstance(node, Group):
        return combine(node.op, [_node(child, facts, day, codes) for child in node.children])
    codes[node.id] = _leaf(node, facts, day)
    return codes[node.id]


def _yes(condition: bool) -> int:
    return PASS if condition else FAIL


def _leaf(leaf: Leaf, facts: Facts, day: date) -> int:
    kind, args = leaf.kind, leaf.args
    value = args.get("value")
    if kind == "confirm":
        return CONFIRM
    if kind in ("age_min", "age_below"):
        if facts.birth_date is None:
            return UNKNOWN
        old_enough = age_on(facts.birth_date, day) >= value
        return _yes(old_enough if kind == "age_min" else not old_enough)
    if kind == "registration":
        return UNKNOWN if facts.registration is None else _yes(facts.registration in value)
    if kind == "gender":
        return UNKNOWN if facts.gender is None else _yes(facts.gender == value)
    if kind in ("tag", "tags_any"):
        if facts.tags is None:
            return UNKNOWN
        wanted = [value] if kind == "tag" else value
        return _yes(any(tag in facts.tags for tag in wanted))
    if kind == "attribute":
        found = facts.attributes.get(args["key"])
        if found is None:
            return UNKNOWN
        return _yes(_attribute_matches(found, args))
    if kind == "place":
        return UNKNOWN if facts.units is None else _yes(any(u in facts.units for u in value))
    return _household(kind, args, facts.household, day)


def _attribute_matches(found: Any, args: Mapping[str, Any]) -> bool:
    if args.get("type", "string") == "integer":
        try:
            number = int(found)
        except (TypeError, ValueError):
            return False
        if "in" in args and number not in [int(v) for v in args["in"]]:
            return False
        if "min" in args and number < args["min"]:
            return False
        return not ("max" in args and number > args["max"])
    return "in" not in args or str(found) in [str(v) for v in args["in"]]


def _household(
    kind: str, args: Mapping[str, Any], members: tuple[date | None, ...] | None, day: date
) -> int:
    if not members:
        return UNKNOWN
    if kind == "household_size":
        size = len(members)
        low, high = args.get("min"), args.get("max")
        return _yes((low is None or size >= low) and (high is None or size <= high))
    if any(birth is None for birth in members):
        return UNKNOWN
    ages = [age_on(birth, day) for birth in members if birth is not None]
    if kind == "household_all_aged":
        return _yes(min(ages) >= args["value"])
    if kind == "household_child_under":
        return _yes(min(ages) < args["value"])
    raise ValueError(f"unknown condition kind {kind!r}")


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
