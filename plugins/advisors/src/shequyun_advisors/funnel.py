"""The outreach funnel per committee, street and district: found → contacted → applied → receiving.

One ``GROUP BY unit_id`` over the cases in scope gives each committee's counts; they are added up
to the children of the unit being looked at (a district's streets, a street's committees) over
the committees' unit paths — a few hundred rows for a district, whatever the population.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import Actor, Platform, UnitRef
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from .core import OUTREACH, STAGES
from .models import Case

__all__ = ["committee_ids", "funnel"]


def committees(platform: Platform, session: Session, unit: UnitRef) -> list[UnitRef]:
    """The committees in ``unit``'s subtree (``[unit]`` for a committee)."""
    return list(platform.unit_committees(session, unit))


def committee_ids(platform: Platform, session: Session, unit: UnitRef) -> list[int] | None:
    """Ids to narrow a case query to ``unit`` (None for the whole city: no condition)."""
    if unit.level == "city":
        return None
    return [c.id for c in committees(platform, session, unit)]


def _segments(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def funnel(
    platform: Platform,
    session: Session,
    actor: Actor,
    unit: UnitRef,
    *,
    policy_id: str | None = None,
) -> dict[str, Any]:
    """Counts per stage for ``unit`` and each unit directly below it."""
    inside = committees(platform, session, unit)
    by_id = {c.id: c for c in inside}
    counts = [func.count()] + [
        func.sum(case((col(Case.reached) >= level, 1), else_=0)) for level in (1, 2, 3)
    ]
    query = (
        select(col(Case.unit_id), *counts)
        .where(platform.scope_filter(actor, OUTREACH, Case.unit_id))
        .group_by(col(Case.unit_id))
    )
    if unit.level != "city":
        query = query.where(col(Case.unit_id).in_(list(by_id)))
    if policy_id:
        query = query.where(Case.policy_id == policy_id)
    depth = len(_segments(unit.path))
    children: dict[int, list[int]] = {}
    total = [0, 0, 0, 0]
    for unit_id, *values in session.execute(query).all():
        committee = by_id.get(unit_id)
        if committee is None:
            continue
        segments = _segments(committee.path)
        child = segments[depth] if len(segments) > depth else committee.id
        sums = children.setdefault(child, [0, 0, 0, 0])
        for i, value in enumerate(values):
            sums[i] += int(value or 0)
            total[i] += int(value or 0)
    rows = []
    for child_id, sums in children.items():
        child_unit = platform.unit_by_id(session, child_id)
        rows.append(
            {
                "unit": {"code": child_unit.code, "name": child_unit.name} if child_unit else None,
                **dict(zip([s for s, _ in STAGES], sums, strict=True)),
            }
        )
    rows.sort(key=lambda r: (r["unit"] or {}).get("code", ""))
    return {
        "unit": {"code": unit.code, "name": unit.name, "level": unit.level},
        "policy": policy_id,
        "stages": [{"key": key, "title": title} for key, title in STAGES],
        "total": dict(zip([s for s, _ in STAGES], total, strict=True)),
        "children": rows,
    }
