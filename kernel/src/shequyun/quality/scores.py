"""Per-unit scores: completeness, freshness, open errors and one quality score, up the tree.

Counts are taken per committee in two grouped queries (residents, findings) and added up the
tree; every share is a ratio of sums, never an average of the children's shares. The score is
``100 × (1 − (residents with an error + ½ × residents with only warnings) / residents)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, delete, distinct, func, insert
from sqlmodel import Session, col, select

from ..identity.models import OrgUnit
from ..residents.models import Resident
from .models import Finding, ScoreDay
from .rules import Rule

__all__ = ["COUNTS", "Score", "committee_counts", "roll_up", "take_scores"]

COUNTS = ("residents", "incomplete", "stale", "with_errors", "with_warnings", "errors", "warnings")


@dataclass
class Score:
    """The counts of one unit (a committee's own, or the sum over a subtree)."""

    code: str
    name: str
    level: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def add(self, counts: Mapping[str, int]) -> None:
        for key in COUNTS:
            self.counts[key] += counts.get(key, 0)

    def _share(self, key: str) -> float | None:
        people = self.counts["residents"]
        return None if not people else round(1 - self.counts[key] / people, 4)

    @property
    def completeness(self) -> float | None:
        """Share of residents with no completeness finding."""
        return self._share("incomplete")

    @property
    def freshness(self) -> float | None:
        """Share of residents checked or changed recently enough."""
        return self._share("stale")

    @property
    def score(self) -> float | None:
        people = self.counts["residents"]
        if not people:
            return None
        weighted = self.counts["with_errors"] + 0.5 * self.counts["with_warnings"]
        return round(100 * (1 - weighted / people), 1)

    def view(self) -> dict[str, Any]:
        return {
            "unit": {"code": self.code, "name": self.name, "level": self.level},
            **self.counts,
            "completeness": self.completeness,
            "freshness": self.freshness,
            "score": self.score,
        }


def committee_counts(
    session: Session, rules: Sequence[Rule], committees: Iterable[int] | None = None
) -> dict[int, dict[str, int]]:
    """Counts per committee id (all committees, or those named)."""
    chosen = None if committees is None else list(committees)
    people = select(col(Resident.unit_id), func.count()).where(Resident.status == "active")
    if chosen is not None:
        people = people.where(col(Resident.unit_id).in_(chosen))
    found: dict[int, dict[str, int]] = {}
    for unit_id, n in session.exec(people.group_by(col(Resident.unit_id))):
        found[unit_id] = {**dict.fromkeys(COUNTS, 0), "residents": n}
    completeness = [r.code for r in rules if r.kind == "completeness"]
    freshness = [r.code for r in rules if r.kind == "freshness"]
    rid, level, code = col(Finding.resident_id), col(Finding.level), col(Finding.rule_code)

    def people_where(condition: Any) -> Any:
        return func.count(distinct(case((condition, rid))))

    counts = select(  # type: ignore[call-overload]
        col(Finding.unit_id),
        people_where(code.in_(completeness)),
        people_where(code.in_(freshness)),
        people_where(level == "error"),
        func.count(distinct(rid)),
        func.sum(case((level == "error", 1), else_=0)),
        func.sum(case((level == "warning", 1), else_=0)),
    )
    if chosen is not None:
        counts = counts.where(col(Finding.unit_id).in_(chosen))
    for unit_id, incomplete, stale, errs, flagged, errors, warnings in session.exec(
        counts.group_by(col(Finding.unit_id))
    ):
        row = found.setdefault(unit_id, {**dict.fromkeys(COUNTS, 0)})
        row.update(
            incomplete=incomplete,
            stale=stale,
            with_errors=errs,
            with_warnings=flagged - errs,
            errors=int(errors or 0),
            warnings=int(warnings or 0),
        )
    return found


def roll_up(
    session: Session, unit: OrgUnit, counts: Mapping[int, Mapping[str, int]]
) -> tuple[Score, list[Score]]:
    """The unit's score and each child's, from committee counts."""
    total = Score(unit.code, unit.name, unit.level)
    children = {
        child.id: Score(child.code, child.name, child.level)
        for child in session.exec(
            select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)
        )
    }
    paths = session.exec(
        select(OrgUnit.id, OrgUnit.path).where(
            col(OrgUnit.path).startswith(unit.path), OrgUnit.level == "committee"
        )
    ).all()
    for committee_id, path in paths:
        row = counts.get(committee_id) if committee_id is not None else None
        if row is None or committee_id is None:
            continue
        total.add(row)
        if committee_id in children:
            children[committee_id].add(row)
            continue
        for child_id in (int(part) for part in path.strip("/").split("/")):
            if child_id in children:
                children[child_id].add(row)
                break
    return total, list(children.values())


def take_scores(session: Session, rules: Sequence[Rule], day: date) -> int:
    """Keep every committee's counts of ``day`` for the trends (again: replaced)."""
    counts = committee_counts(session, rules)
    session.execute(delete(ScoreDay).where(col(ScoreDay.day) == day))
    rows = [{"day": day, "unit_id": unit_id, **row} for unit_id, row in counts.items()]
    if rows:
        session.execute(insert(ScoreDay), rows)
    return len(rows)


def trend(session: Session, unit: OrgUnit, days: int, today: date) -> list[dict[str, Any]]:
    """The unit's summed counts and score per kept day, oldest first."""
    committees = select(OrgUnit.id).where(col(OrgUnit.path).startswith(unit.path))
    sums = [func.sum(getattr(ScoreDay, key)) for key in COUNTS]
    rows: Sequence[Any] = session.exec(
        select(col(ScoreDay.day), *sums)  # type: ignore[call-overload]
        .where(col(ScoreDay.unit_id).in_(committees), ScoreDay.day > today - timedelta(days=days))
        .group_by(col(ScoreDay.day))
        .order_by(col(ScoreDay.day))
    ).all()
    found = []
    for day, *values in rows:
        point = Score(unit.code, unit.name, unit.level)
        point.add({key: int(v or 0) for key, v in zip(COUNTS, values, strict=True)})
        found.append({"day": day.isoformat(), **point.view()})
    return found
