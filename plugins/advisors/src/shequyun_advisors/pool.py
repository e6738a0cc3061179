"""The policy pool (政策池): shipped policies plus those the city and districts add in the portal.

Shipped policies are the YAML files of ``policies/``; a portal policy is the newest non-retired
:class:`~.models.PolicyVersion` of its id (a new version replaces the previous one, which stays
for the record; a shipped id may be given a newer version the same way). Evaluation glue lives
here too: the SQL for "a benefit is recorded" and the units of ``place`` conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from shequyun_sdk import Platform
from shequyun_sdk.identity import UnitRef
from shequyun_sdk.population import Population
from sqlalchemy import exists
from sqlmodel import Session, col, select

from .models import PolicyVersion, Receipt
from .policy.compile import Compiled, compile_policy
from .policy.loader import load_text, shipped_policies
from .policy.model import Policy

__all__ = ["compiled", "get_policy", "pool", "recorded_condition", "today"]

BEIJING = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in Beijing: the reference day of every evaluation unless one is given."""
    return datetime.now(BEIJING).date()


@cache
def _shipped() -> tuple[Policy, ...]:
    return tuple(shipped_policies())


def pool(session: Session, *, day: date | None = None, in_force: bool = True) -> list[Policy]:
    """Every policy of the pool (newest version of each), those in force on ``day`` by default."""
    policies = {p.id: p for p in _shipped()}
    newest: dict[str, PolicyVersion] = {}
    for row in session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version))):
        newest[row.policy_id] = row
    for policy_id, row in newest.items():
        if row.retired:
            policies.pop(policy_id, None)
        else:
            policies[policy_id] = load_text(row.source, where=policy_id)
    chosen = sorted(policies.values(), key=lambda p: (p.category, p.id))
    if in_force:
        day = day or today()
        chosen = [p for p in chosen if p.in_force(day)]
    return chosen


def get_policy(session: Session, policy_id: str) -> Policy | None:
    for policy in pool(session, in_force=False):
        if policy.id == policy_id:
            return policy
    return None


def recorded_condition(people: Population) -> Any:
    """``recorded(policy_id)``: SQL for "a current receipt of that policy is on record"."""
    receipt = Receipt.__table__

    def recorded(policy_id: str) -> Any:
        return exists().where(
            receipt.c.resident_id == people.resident_id,
            receipt.c.policy_id == policy_id,
            receipt.c.ended_on.is_(None),
        )

    return recorded


def place_units(
    platform: Platform, session: Session, policies: Iterable[Policy]
) -> dict[str, UnitRef]:
    codes = {
        code
        for policy in policies
        for leaf in policy.leaves() + policy.clue_leaves()
        if leaf.kind == "place"
        for code in leaf.args["value"]
    }
    found = {code: platform.unit(session, code) for code in sorted(codes)}
    return {code: unit for code, unit in found.items() if unit is not None}


def compiled(
    platform: Platform,
    session: Session,
    policy: Policy,
    people: Population,
    day: date,
) -> Compiled:
    """``policy`` compiled over ``people`` with the plugin's receipts and the policy's places."""
    return compile_policy(
        policy,
        people,
        day,
        recorded=recorded_condition(people),
        units=place_units(platform, session, [policy]),
    )
