"""Keeping closed periods: the scheduled job's work, and reading what it kept.

Once a week, a month or a quarter has ended, :func:`take_due` computes every indicator over the
whole tree for it and writes one snapshot: the tree as it stands that day (names, parents,
paths) and the sums of every indicator at every unit. Trends then read a few indexed rows, and
a unit split or merged afterwards still shows, under its old name, in the periods it existed.

Stocks (residents registered) are measured when the snapshot is taken, just after the period
closed; flows (submissions, check-ins) are counted inside the period. A period missed because
nothing ran is taken on the next run if it is still the latest of its kind; older gaps stay
gaps, since today's state cannot stand in for a past one. An indicator that failed, or whose
plugin was installed since, is added to the latest snapshot of each kind on a later run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shequyun_sdk.indicators import PERIOD_KINDS, Period
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..identity.models import OrgUnit
from .compute import Computed, compute
from .models import Snapshot, SnapshotUnit, SnapshotValue
from .registry import Declared, IndicatorRegistry
from .tree import Node, Tree

__all__ = ["SnapshotSource", "TakenSnapshot", "latest_closed", "snapshot_of", "take", "take_due"]

log = logging.getLogger("shequyun.indicators")

OK = "ok"
CHUNK = 5000


@dataclass(frozen=True)
class TakenSnapshot:
    period: Period
    indicators: int
    failed: tuple[str, ...]
    units: int
    added: bool  # False: an existing snapshot was completed with missing indicators


def latest_closed(kind: str, today: date) -> Period:
    """The last period of ``kind`` that has ended by ``today``."""
    return Period.of(kind, today).previous()


def take_due(
    engine: Engine, registry: IndicatorRegistry, today: date, now: datetime | None = None
) -> list[TakenSnapshot]:
    """Take (or complete) the snapshot of the latest closed week, month and quarter."""
    taken = []
    for kind in PERIOD_KINDS:
        found = take(engine, registry, latest_closed(kind, today), today=today, now=now)
        if found is not None:
            taken.append(found)
    return taken


def take(
    engine: Engine,
    registry: IndicatorRegistry,
    period: Period,
    *,
    today: date,
    now: datetime | None = None,
) -> TakenSnapshot | None:
    """Snapshot ``period`` (closed by ``today``) with the tree of ``today``; or add to its
    snapshot the indicators it lacks. None when there was nothing to do."""
    if period.end > today:
        raise ValueError(f"{period.code} has not ended on {today}")
    moment = now or datetime.now(UTC)
    with Session(engine) as session:
        existing = snapshot_of(session, period)
        if existing is not None:
            missing = [
                d for d in registry.active() if (existing.indicators or {}).get(d.name) != OK
            ]
            if not missing:
                return None
            trees = _snapshot_trees(session, existing)
        else:
            missing = registry.active()
            trees = _current_trees(session, today)
    results = [
        (declared, [compute(engine, declared, tree, period, period.ends_at) for tree in trees])
        for declared in missing
    ]
    statuses = {d.name: _status(parts) for d, parts in results}
    with Session(engine) as session:
        try:
            if existing is None:
                snapshot = Snapshot(
                    period_kind=period.kind,
                    start=period.start,
                    end=period.end,
                    taken_at=moment,
                    indicators=statuses,
                )
                session.add(snapshot)
                session.flush()
                assert snapshot.id is not None
                _write_units(session, snapshot.id, trees)
            else:
                found = session.get(Snapshot, existing.id)
                assert found is not None and found.id is not None
                snapshot = found
                snapshot.indicators = {**(snapshot.indicators or {}), **statuses}
                session.add(snapshot)
                session.execute(
                    delete(SnapshotValue).where(
                        col(SnapshotValue.snapshot_id) == snapshot.id,
                        col(SnapshotValue.indicator).in_(list(statuses)),
                    )
                )
            assert snapshot.id is not None
            for declared, parts in results:
                _write_values(session, snapshot.id, declared, parts)
            session.commit()
        except IntegrityError:  # another process took this period meanwhile
            session.rollback()
            return None
    failed = tuple(sorted(name for name, status in statuses.items() if status != OK))
    return TakenSnapshot(
        period,
        len(statuses),
        failed,
        sum(len(t.nodes) for t in trees),
        existing is None,
    )


def _status(parts: Sequence[Computed]) -> str:
    errors = [p.error for p in parts if p.error]
    return errors[0] if errors else OK


def _current_trees(session: Session, today: date) -> list[Tree]:
    roots = session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None))).all()
    return [Tree.load(session, root, today) for root in roots]


def _snapshot_trees(session: Session, snapshot: Snapshot) -> list[Tree]:
    nodes = [
        _node(u)
        for u in session.exec(
            select(SnapshotUnit).where(SnapshotUnit.snapshot_id == snapshot.id)
        ).all()
    ]
    return [Tree(root, nodes) for root in nodes if root.parent_id is None]


def _node(unit: SnapshotUnit) -> Node:
    return Node(
        id=unit.unit_id,
        parent_id=unit.parent_id,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        path=unit.path,
        closed=unit.closed,
    )


def _write_units(session: Session, snapshot_id: int, trees: Iterable[Tree]) -> None:
    rows = [
        {
            "snapshot_id": snapshot_id,
            "unit_id": node.id,
            "parent_id": node.parent_id,
            "code": node.code,
            "name": node.name,
            "level": node.level,
            "path": node.path,
            "closed": node.closed,
        }
        for tree in trees
        for node in tree.walk()
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(SnapshotUnit), rows[start : start + CHUNK])


def _write_values(
    session: Session, snapshot_id: int, declared: Declared, parts: Sequence[Computed]
) -> None:
    rows = []
    for part in parts:
        for unit_id, cells in part.sums.items():
            for key, (value, base) in cells.items():
                if not value and not base:
                    continue
                rows.append(
                    {
                        "snapshot_id": snapshot_id,
                        "indicator": declared.name,
                        "unit_id": unit_id,
                        "key": key,
                        "label": part.labels.get(key, key)[:120] if key else "",
                        "value": value,
                        "base": base if declared.spec.aggregation == "ratio" else None,
                    }
                )
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(SnapshotValue), rows[start : start + CHUNK])


def snapshot_of(session: Session, period: Period) -> Snapshot | None:
    """The snapshot kept for ``period``, if any."""
    return session.exec(
        select(Snapshot).where(Snapshot.period_kind == period.kind, Snapshot.start == period.start)
    ).first()


def snapshot_periods(session: Session, kind: str, limit: int) -> list[Period]:
    """The latest ``limit`` periods of ``kind`` that have a snapshot, newest first."""
    starts = session.exec(
        select(col(Snapshot.start))
        .where(Snapshot.period_kind == kind)
        .order_by(col(Snapshot.start).desc())
        .limit(limit)
    ).all()
    return [Period.of(kind, start) for start in starts]


@dataclass
class SnapshotSource:
    """One indicator's sums over a unit and its children, as a snapshot kept them.

    ``unit`` and ``children`` are the tree of the snapshot's day; ``unit`` is None when the
    unit did not exist then (it was created by a later split or merge).
    """

    declared: Declared
    snapshot: Snapshot
    unit: Node | None
    children: list[Node]
    error: str | None = None
    keys: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    _cells: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def read(
        cls, session: Session, snapshot: Snapshot, declared: Declared, unit_id: int
    ) -> SnapshotSource:
        assert snapshot.id is not None
        units = session.exec(
            select(SnapshotUnit).where(
                SnapshotUnit.snapshot_id == snapshot.id,
                (col(SnapshotUnit.unit_id) == unit_id) | (col(SnapshotUnit.parent_id) == unit_id),
            )
        ).all()
        nodes = sorted((_node(u) for u in units), key=lambda n: n.code)
        unit = next((n for n in nodes if n.id == unit_id), None)
        children = [n for n in nodes if n.id != unit_id]
        source = cls(declared, snapshot, unit, children)
        if unit is None:
            return source
        status = (snapshot.indicators or {}).get(declared.name)
        if status != OK:
            source.error = status or "该时段的快照中没有这项指标"
            return source
        values = session.exec(
            select(SnapshotValue).where(
                SnapshotValue.snapshot_id == snapshot.id,
                SnapshotValue.indicator == declared.name,
                col(SnapshotValue.unit_id).in_([n.id for n in nodes]),
            )
        ).all()
        labels: dict[str, str] = {}
        for v in values:
            source._cells[(v.unit_id, v.key)] = (v.value, v.base or 0.0)
            if v.key:
                labels[v.key] = v.label or v.key
        breakdown = declared.spec.breakdown
        if breakdown is not None:
            declared_keys = [k for k in breakdown.labels if k in labels or not breakdown.label_for]
            source.keys = declared_keys + sorted(k for k in labels if k not in declared_keys)
            source.labels = {k: labels.get(k) or breakdown.labels.get(k, k) for k in source.keys}
        return source

    def cell(self, unit_id: int, key: str = "") -> tuple[float, float]:
        return self._cells.get((unit_id, key), (0.0, 0.0))


def trend(
    session: Session, declared: Declared, unit_id: int, kind: str, key: str, limit: int
) -> list[tuple[Period, float | None]]:
    """The figure of ``unit_id`` in the latest ``limit`` snapshots of ``kind``, oldest first.

    A snapshot in which the indicator was unavailable, or the unit did not exist, gives None.
    """
    snapshots = session.exec(
        select(Snapshot)
        .where(Snapshot.period_kind == kind)
        .order_by(col(Snapshot.start).desc())
        .limit(limit)
    ).all()
    if not snapshots:
        return []
    ids = [s.id for s in snapshots]
    cells = {
        snapshot_id: (value, base or 0.0)
        for snapshot_id, value, base in session.execute(
            select(
                col(SnapshotValue.snapshot_id), col(SnapshotValue.value), col(SnapshotValue.base)
            ).where(
                SnapshotValue.indicator == declared.name,
                SnapshotValue.unit_id == unit_id,
                SnapshotValue.key == key,
                col(SnapshotValue.snapshot_id).in_(ids),
            )
        )
    }
    existed = set(
        session.execute(
            select(col(SnapshotUnit.snapshot_id)).where(
                col(SnapshotUnit.snapshot_id).in_(ids), SnapshotUnit.unit_id == unit_id
            )
        ).scalars()
    )
    points: list[tuple[Period, float | None]] = []
    for snapshot in reversed(snapshots):
        period = Period.of(kind, snapshot.start)
        if (snapshot.indicators or {}).get(declared.name) != OK or snapshot.id not in existed:
            points.append((period, None))
            continue
        value, base = cells.get(snapshot.id, (0.0, 0.0))
        points.append((period, declared.spec.figure(value, base)))
    return points
