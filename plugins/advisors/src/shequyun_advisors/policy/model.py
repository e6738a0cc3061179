"""A policy as data: conditions, dated parameters, benefit, receiving marker.

Each condition evaluates to one of four codes, ordered so that "all of" is the minimum and
"any of" the maximum of its parts (Kleene logic with a fourth value for what the person must
confirm): a failed condition decides "not eligible" whatever else is missing, a missing input
gives "needs information" (never "not eligible"), a condition the data cannot check gives
"needs confirmation". The SQL compiler and the Python evaluator both produce these codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "CONFIRM",
    "FAIL",
    "PASS",
    "UNKNOWN",
    "VERDICTS",
    "VERDICT_TITLES",
    "Band",
    "Benefit",
    "DatedValue",
    "Document",
    "Group",
    "Leaf",
    "Node",
    "Parameter",
    "Policy",
    "Receiving",
]

FAIL, UNKNOWN, CONFIRM, PASS = 0, 1, 2, 3

#: Verdict names by code, as the API shows them.
VERDICTS = {
    PASS: "eligible",
    CONFIRM: "needs_confirmation",
    UNKNOWN: "needs_information",
    FAIL: "not_eligible",
}
#: Chinese titles by verdict name.
VERDICT_TITLES = {
    "eligible": "符合条件",
    "needs_confirmation": "需核实",
    "needs_information": "需补充信息",
    "not_eligible": "不符合",
}
OUTCOME_NAMES = {PASS: "pass", CONFIRM: "confirm", UNKNOWN: "unknown", FAIL: "fail"}


@dataclass(frozen=True)
class Document:
    """A legal or administrative document a policy or a figure comes from."""

    id: str
    title: str
    issuer: str
    number: str = ""
    effective: date | None = None
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class Band:
    """An amount for an age band, both ends included (``max_age`` None: no upper end)."""

    min_age: int
    max_age: int | None
    value: int


@dataclass(frozen=True)
class DatedValue:
    """A parameter's value from ``start`` on: a number or amounts by age band."""

    start: date
    document: str
    value: int | None = None
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Parameter:
    """A figure that changes over time; the value in force on a day is the latest started."""

    name: str
    title: str
    unit: str
    values: tuple[DatedValue, ...]

    def at(self, day: date) -> DatedValue | None:
        current = None
        for dated in self.values:  # sorted by start
            if dated.start <= day:
                current = dated
        return current


@dataclass(frozen=True)
class Leaf:
    """One condition over what the resident database knows (or a "to confirm" statement)."""

    id: str
    kind: str
    args: Mapping[str, Any]
    reasons: Mapping[str, str]
    label: str = ""


@dataclass(frozen=True)
class Group:
    """``all`` / ``any`` of several conditions, or ``not`` of one."""

    op: str
    children: tuple[Node, ...]


Node = Leaf | Group


@dataclass(frozen=True)
class Benefit:
    """What an eligible person gets: an amount (from a parameter) or a service."""

    kind: str  # "amount" or "service"
    text: str
    parameter: str | None = None
    per: str = "month"


@dataclass(frozen=True)
class Receiving:
    """How the data says someone already receives it (any marker is enough)."""

    tags: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()  # present (not null) means receiving
    recorded: bool = False  # a benefit recorded in the advisors' own register


@dataclass(frozen=True)
class Policy:
    """One policy of the pool, as loaded and validated from its file."""

    id: str
    version: int
    name: str
    name_en: str
    issuer: str
    level: str
    category: str
    summary: str
    documents: Mapping[str, Document]
    document: str
    effective_from: date
    effective_until: date | None
    conditions: Node
    benefit: Benefit
    parameters: Mapping[str, Parameter]
    receiving: Receiving
    clue: Node | None = None
    cases: tuple[Mapping[str, Any], ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )

    def leaves(self) -> list[Leaf]:
        """The leaf conditions in document order: the order of reasons everywhere."""
        return _leaves(self.conditions)

    def clue_leaves(self) -> list[Leaf]:
        """The leaves of the clue (线索): what makes a "needs confirmation" worth a visit."""
        return _leaves(self.clue) if self.clue is not None else []

    @property
    def needs_households(self) -> bool:
        return any(
            leaf.kind.startswith("household_") for leaf in self.leaves() + self.clue_leaves()
        )

    def amount_parameter(self) -> Parameter | None:
        if self.benefit.kind != "amount" or self.benefit.parameter is None:
            return None
        return self.parameters[self.benefit.parameter]


def _leaves(root: Node) -> list[Leaf]:
    found: list[Leaf] = []

    def walk(node: Node) -> None:
        if isinstance(node, Leaf):
            found.append(node)
        else:
            for child in node.children:
                walk(child)

    walk(root)
    return found
