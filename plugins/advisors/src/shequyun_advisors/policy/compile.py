"""Compile a policy to SQL over the SDK's scope-filtered resident population.

The whole population is evaluated by the database in one query per policy: each leaf condition
becomes a ``CASE`` giving the same code as the Python evaluator (0 fail, 1 unknown, 2 confirm,
3 pass), groups become ``LEAST``/``GREATEST`` of their parts, the amount a ``CASE`` over birth
dates computed from the age bands in force on the reference day. Nothing is read row by row in
Python; the scope is the kernel's, carried by :meth:`Population.select`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shequyun_sdk.identity import UnitRef
from shequyun_sdk.population import Population, years_before
from sqlalchemy import and_, case, false, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Integer

from .model import CONFIRM, FAIL, PASS, UNKNOWN, Leaf, Node, Policy

__all__ = ["Compiled", "compile_policy"]

Recorded = Callable[[str], Any]


class _Least(GenericFunction[int]):
    type = Integer()
    name = "least"
    inherit_cache = True


class _Greatest(GenericFunction[int]):
    type = Integer()
    name = "greatest"
    inherit_cache = True


@compiles(_Least, "sqlite")
def _least_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(_Greatest, "sqlite")
def _greatest_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class Compiled:
    """A policy as SQL for one reference day: ``query`` has one row per resident in scope.

    Columns: ``resident_id``, ``unit_id``, ``household_id``, one ``c_<leaf id>`` per condition
    and ``k_<leaf id>`` per clue leaf (codes), ``verdict``, ``clue`` (NULL without a clue),
    ``receiving`` (0/1), ``amount`` (NULL unless eligible or to confirm, or without a figure).
    ``candidate`` is the condition on those columns for "worth finding".
    """

    policy: Policy
    day: date
    query: Any
    columns: Any

    @property
    def candidate(self) -> Any:
        c = self.columns
        clue = c.clue.is_(None) | (c.clue == PASS) if self.policy.clue is not None else None
        parts = [c.verdict != FAIL, c.receiving == 0]
        return and_(*parts, clue) if clue is not None else and_(*parts)

    def leaf_codes(self, row: Any) -> dict[str, int]:
        return {leaf.id: getattr(row, f"c_{leaf.id}") for leaf in self.policy.leaves()}

    def clue_codes(self, row: Any) -> dict[str, int]:
        return {leaf.id: getattr(row, f"k_{leaf.id}") for leaf in self.policy.clue_leaves()}


def compile_policy(
    policy: Policy,
    people: Population,
    day: date,
    *,
    recorded: Recorded | None = None,
    units: Mapping[str, UnitRef] | None = None,
    extra_columns: Sequence[Any] = (),
) -> Compiled:
    """``policy`` on ``day`` over ``people``.

    ``recorded(policy_id)`` is a SQL condition for "a benefit is recorded for this resident" (the
    plugin's own register); ``units`` resolves the unit codes of ``place`` conditions (a code
    not given matches nobody).
    """
    builder = _Builder(people, day, units or {})
    leaf_columns = [builder.leaf(leaf).label(f"c_{leaf.id}") for leaf in policy.leaves()] + [
        builder.leaf(leaf).label(f"k_{leaf.id}") for leaf in policy.clue_leaves()
    ]
    receiving = _receiving(policy, people, recorded)
    inner = people.select(
        people.resident_id.label("resident_id"),
        people.unit_id.label("unit_id"),
        people.household_id.label("household_id"),
        people.birth_date.label("birth_date"),
        *leaf_columns,
        case((receiving, 1), else_=0).label("receiving"),
        *extra_columns,
        households=policy.needs_households,
    ).subquery(f"policy_{policy.id.replace('-', '_')}")
    verdict = _combine(policy.conditions, inner.c, "c_")
    clue = _combine(policy.clue, inner.c, "k_") if policy.clue is not None else literal(None)
    amount = _amount(policy, inner.c.birth_date, day)
    from sqlalchemy import select

    query = select(
        *inner.c,
        verdict.label("verdict"),
        clue.label("clue"),
        case((verdict >= CONFIRM, amount), else_=None).label("amount"),
    ).subquery(f"verdict_{policy.id.replace('-', '_')}")
    return Compiled(policy, day, query, query.c)


class _Builder:
    def __init__(self, people: Population, day: date, units: Mapping[str, UnitRef]) -> None:
        self.people, self.day, self.units = people, day, units

    def leaf(self, leaf: Leaf) -> Any:
        p, day, args = self.people, self.day, leaf.args
        value = args.get("value")
        kind = leaf.kind
        if kind == "confirm":
            return literal(CONFIRM, Integer())
        if kind == "age_min":
            return _code(p.birth_date, p.birth_date <= years_before(day, value))
        if kind == "age_below":
            return _code(p.birth_date, p.birth_date > years_before(day, value))
        if kind == "registration":
            return _code(p.registration, p.registration.in_(list(value)))
        if kind == "gender":
            return _code(p.gender, p.gender == value)
        if kind in ("tag", "tags_any"):
            wanted = [value] if kind == "tag" else list(value)
            return case((or_(*(p.has_tag(t) for t in wanted)), PASS), else_=FAIL)
        if kind == "attribute":
            return _attribute(p, args)
        if kind == "place":
            inside = [p.in_unit(self.units[code]) for code in value if code in self.units]
            return case((or_(false(), *inside), PASS), else_=FAIL)
        if kind == "household_size":
            members = p.household_members
            conditions = []
            if args.get("min") is not None:
                conditions.append(members >= args["min"])
            if args.get("max") is not None:
                conditions.append(members <= args["max"])
            return _code(members, and_(*conditions))
        youngest = p.household_youngest_birth
        if kind == "household_all_aged":
            return _code(youngest, youngest <= years_before(day, value))
        if kind == "household_child_under":
            return _code(youngest, youngest > years_before(day, value))
        raise ValueError(f"unknown condition kind {kind!r}")


def _code(known: Any, condition: Any) -> Any:
    return case((known.is_(None), UNKNOWN), (condition, PASS), else_=FAIL)


def _attribute(people: Population, args: Mapping[str, Any]) -> Any:
    if args.get("type", "string") == "integer":
        value = people.attribute(args["key"], "integer")
        conditions = []
        if "in" in args:
            conditions.append(value.in_([int(v) for v in args["in"]]))
        if "min" in args:
            conditions.append(value >= args["min"])
        if "max" in args:
            conditions.append(value <= args["max"])
        return _code(value, and_(*conditions))
    value = people.attribute(args["key"], "string")
    if "in" not in args:
        return _code(value, value.is_not(None))
    return _code(value, value.in_([str(v) for v in args["in"]]))


def _combine(node: Node | None, columns: Any, prefix: str) -> Any:
    assert node is not None
    if isinstance(node, Leaf):
        return columns[f"{prefix}{node.id}"]
    parts = [_combine(child, columns, prefix) for child in node.children]
    if node.op == "not":
        (part,) = parts
        return case((part == PASS, FAIL), (part == FAIL, PASS), else_=part)
    if len(parts) == 1:
        return parts[0]
    return _Least(*parts) if node.op == "all" else _Greatest(*parts)


def _receiving(policy: Policy, people: Population, recorded: Recorded | None) -> Any:
    marker = policy.receiving
    parts = [people.has_tag(tag) for tag in marker.tags]
    parts += [people.attribute(key, "string").is_not(None) for key in marker.attributes]
    if marker.recorded and recorded is not None:
        parts.append(recorded(policy.id))
    return or_(false(), *parts)


def _amount(policy: Policy, birth_date: Any, day: date) -> Any:
    parameter = policy.amount_parameter()
    dated = parameter.at(day) if parameter is not None else None
    if dated is None:
        return literal(None, Integer())
    if not dated.bands:
        return literal(dated.value, Integer())
    whens = []
    for band in dated.bands:
        inside = birth_date <= years_before(day, band.min_age)
        if band.max_age is not None:
            inside = and_(inside, birth_date > years_before(day, band.max_age + 1))
        whens.append((inside, band.value))
    return case(*whens, else_=None)
