"""The indicators' use cases, one function each, called by the API, the portal and the job.

Every read starts from :meth:`IndicatorService.unit`: the unit must lie inside the actor's
``indicators.view`` grant, or it does not exist for them (404, audited) — so a street user can
neither read a sibling street nor the district's children table. Within the unit, only the
indicators whose own ``permission`` the actor holds there are shown. Values of the current
period are computed on request over the unit's subtree (a district's or the city's at most every
few minutes, :mod:`.live`); closed periods are read from their snapshot.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from shequyun_sdk.indicators import BEIJING, PERIOD_KINDS, Period
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..enablement import Enablement
from ..identity import orgunits, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from . import live as live_module
from . import snapshots
from .compute import compute
from .figures import Figures, TrendPoint, figures
from .live import LiveFigures
from .models import Pin
from .registry import Declared, IndicatorRegistry
from .tree import Node, Tree

__all__ = ["VIEW", "Dashboard", "IndicatorService"]

VIEW = "indicators.view"
#: Closed periods a trend shows before the current one.
TREND_LENGTH = 12
#: Periods offered in the period picker.
PICKER_LENGTH = 24
MAX_PINS = 20


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


@dataclass
class Dashboard:
    """A unit's indicators for one period: each panel the unit's figure and its children's."""

    unit: Node
    ancestors: list[Node]
    period: Period
    live: bool
    taken_at: datetime | None
    panels: list[Figures]
    #: Live figures shown as computed earlier (a district's or the city's): the oldest moment.
    computed_at: datetime | None = None
    periods: list[Period] = field(default_factory=list)
    missing: bool = False  # a closed period nobody took a snapshot of

    @property
    def recomputed_every(self) -> int:
        """Minutes a district's or the city's live figures are shown before computing again."""
        return int(live_module.REUSE_SECONDS // 60)

    @property
    def children(self) -> list[Node]:
        """Every child shown in at least one panel, by code (the table's rows)."""
        seen: dict[int, Node] = {}
        for panel in self.panels:
            for row in panel.children:
                seen.setdefault(row.node.id, row.node)
        return sorted(seen.values(), key=lambda n: n.code)


class IndicatorService:
    """Indicators for the portal, the API and the snapshot job."""

    def __init__(
        self, engine: Engine, registry: IndicatorRegistry, enablement: Enablement | None = None
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.enablement = enablement
        self.live_figures = LiveFigures()

    # -- what an actor may read ------------------------------------------------------------

    def catalogue(self, actor: Actor | None) -> list[Declared]:
        """The indicators ``actor`` may read at their own unit."""
        if actor is None or actor.unit is None or not scope.can(actor, VIEW, actor.unit):
            return []
        unit = actor.unit
        return [
            d
            for d in self.registry.active()
            if scope.can(actor, d.spec.permission, unit) and self._switched_on(d, unit)
        ]

    def unit(self, session: Session, actor: Actor | None, code: str | None) -> OrgUnit:
        """The unit ``code`` (the actor's own unit when None) if ``actor`` may read its
        indicators; :class:`NotFound` otherwise, the same for a unit out of reach as for one
        that does not exist."""
        if code is None:
            if actor is None or actor.unit is None:
                raise NotFound("找不到该单位")
            code = actor.unit.code
        return orgunits.find(session, code, by=_require(actor), permission=VIEW)

    def readable(self, actor: Actor | None, unit: OrgUnit) -> list[Declared]:
        """The indicators ``actor`` may read at ``unit``: they hold the indicator's permission
        there, and its plugin is switched on there or somewhere below (per-unit enablement)."""
        ref = unit_ref(unit)
        return [
            d
            for d in self.registry.active()
            if scope.can(actor, d.spec.permission, ref) and self._switched_on(d, ref)
        ]

    def _switched_on(self, declared: Declared, unit: UnitRef) -> bool:
        if self.enablement is None or self.enablement.enabled_at(declared.plugin, unit):
            return True
        # Switched on inside the unit's subtree: the unit oversees the units that use it.
        rules = self.enablement.rules(declared.plugin)
        return any(r.enabled and r.unit_path.startswith(unit.path) for r in rules)

    def declared(self, actor: Actor | None, unit: OrgUnit, name: str) -> Declared:
        """The indicator ``name`` if ``actor`` may read it at ``unit``."""
        for declared in self.readable(actor, unit):
            if declared.name == name:
                return declared
        raise NotFound(f"找不到指标 {name}")

    # -- periods ---------------------------------------------------------------------------

    @staticmethod
    def period(code: str | None, kind: str | None, today: date) -> tuple[Period, bool]:
        """The period asked for and whether it is the current one (computed live)."""
        if kind is not None and kind not in PERIOD_KINDS:
            raise ValidationFailed("kind 应为 week、month 或 quarter", field="kind")
        if not code:
            return Period.of(kind or "month", today), True
        try:
            period = Period.parse(code)
        except ValueError:
            raise ValidationFailed(
                "period 应为 2026-11（月）、2026-W47（周）或 2026-Q4（季度）", field="period"
            ) from None
        if period.start > today:
            raise ValidationFailed("不能查看尚未开始的时段", field="period")
        return period, period.end > today

    # -- the dashboard ---------------------------------------------------------------------

    def dashboard(
        self,
        actor: Actor | None,
        code: str | None = None,
        *,
        period: str | None = None,
        kind: str | None = None,
        only: str | None = None,
        key: str = "",
        today: date | None = None,
        now: datetime | None = None,
        engine: Engine | None = None,
    ) -> Dashboard:
        """``actor``'s view of unit ``code`` for ``period`` (the current month by default):
        every indicator they may read there, or only the one named ``only``; read through
        ``engine`` when given (a replica), else the primary."""
        engine = engine or self.engine
        today = today or beijing_today()
        moment = now or datetime.now(UTC)
        chosen, live = self.period(period, kind, today)
        with Session(engine) as session:
            unit = self.unit(session, actor, code)
            if only is not None:
                wanted = [self.declared(actor, unit, only)]
            else:
                wanted = self._ordered(session, actor, self.readable(actor, unit))
            pinned = self._pinned(session, actor)
            ancestors = self._ancestors(session, actor, unit)
            kept = snapshots.snapshot_periods(session, chosen.kind, PICKER_LENGTH)
            periods = [Period.of(chosen.kind, today), *kept]
            computed_at = None
            if live:
                tree = Tree.load(session, unit, today)
                node, children = tree.root, tree.children(tree.root.id)
                panels = []
                for d in wanted:
                    computed, at = self.live_figures.get(
                        d,
                        tree,
                        chosen,
                        moment,
                        functools.partial(compute, engine, d, tree, chosen, moment),
                    )
                    if at != moment:
                        computed_at = at if computed_at is None else min(computed_at, at)
                    panels.append(figures(computed, node, children, key=key))
                taken_at, missing = None, False
            else:
                snapshot = snapshots.snapshot_of(session, chosen)
                node = _node(unit, today)
                panels, taken_at, missing = [], None, snapshot is None
                if snapshot is not None:
                    taken_at = snapshot.taken_at
                    sources = [
                        snapshots.SnapshotSource.read(session, snapshot, d, node.id) for d in wanted
                    ]
                    # A unit set up after the period (by a split or a merge) has no figures.
                    missing = any(s.unit is None for s in sources)
                    if not missing:
                        panels = [figures(s, s.unit or node, s.children, key=key) for s in sources]
            for panel in panels:
                panel.pinned = panel.declared.name in pinned
                if panel.error is None:
                    panel.trend = self._trend(session, panel, node.id, chosen, live)
        return Dashboard(
            unit=node,
            ancestors=ancestors,
            period=chosen,
            live=live,
            taken_at=taken_at,
            panels=panels,
            computed_at=computed_at,
            periods=periods,
            missing=missing,
        )

    def _trend(
        self, session: Session, panel: Figures, unit_id: int, period: Period, live: bool
    ) -> list[TrendPoint]:
        key = panel.headline_key()
        points = [
            TrendPoint(p, figure)
            for p, figure in snapshots.trend(
                session, panel.declared, unit_id, period.kind, key, TREND_LENGTH
            )
            if p.start < period.start or not live
        ]
        if live and panel.unit is not None:
            points.append(TrendPoint(period, panel.unit.figure, live=True))
        return points

    def _ancestors(self, session: Session, actor: Actor | None, unit: OrgUnit) -> list[Node]:
        """The units from the actor's own down to ``unit``'s parent (the breadcrumbs)."""
        if actor is None or actor.unit is None:
            return []
        ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        top = len([p for p in actor.unit.path.strip("/").split("/") if p])
        wanted = ids[top - 1 : -1]
        if not wanted:
            return []
        rows = session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(wanted))).all()
        by_id = {u.id: u for u in rows}
        today = beijing_today()
        return [_node(by_id[i], today) for i in wanted if i in by_id]

    def _ordered(
        self, session: Session, actor: Actor | None, found: Sequence[Declared]
    ) -> list[Declared]:
        """Pinned indicators first, in the order pinned, then the others."""
        pins = self._pinned(session, actor)
        return sorted(found, key=lambda d: (pins.get(d.name, MAX_PINS + 1),))

    # -- pins --------------------------------------------------------------------------------

    def _pinned(self, session: Session, actor: Actor | None) -> dict[str, int]:
        if actor is None or actor.user_id is None:  # a plugin's or an app's actor pins nothing
            return {}
        rows = session.exec(
            select(Pin).where(Pin.user_id == actor.user_id).order_by(col(Pin.position))
        ).all()
        return {p.indicator: i for i, p in enumerate(rows)}

    def pins(self, actor: Actor | None) -> list[str]:
        """The indicators ``actor`` pinned, in order."""
        with Session(self.engine) as session:
            return list(self._pinned(session, actor))

    def pin(self, actor: Actor | None, name: str) -> list[str]:
        """Pin indicator ``name`` to the top of ``actor``'s dashboards; return the pins."""
        actor = _require(actor)
        user_id = actor.user_id
        if user_id is None:
            raise ValidationFailed("只有工作人员账号可以关注指标", field="indicator")
        if self.registry.get(name) is None or not actor.has(VIEW):
            raise ValidationFailed(f"没有名为 {name} 的指标", field="indicator")
        with Session(self.engine) as session:
            current = session.exec(select(Pin).where(Pin.user_id == user_id)).all()
            if all(p.indicator != name for p in current):
                if len(current) >= MAX_PINS:
                    raise ValidationFailed(f"最多关注 {MAX_PINS} 项指标", field="indicator")
                last = session.exec(
                    select(func.max(Pin.position)).where(Pin.user_id == user_id)
                ).one()
                session.add(Pin(user_id=user_id, indicator=name, position=(last or 0) + 1))
                session.commit()
        return self.pins(actor)

    def unpin(self, actor: Actor | None, name: str) -> list[str]:
        """Take indicator ``name`` off ``actor``'s pins (nothing happens if it was not)."""
        actor = _require(actor)
        with Session(self.engine) as session:
            session.execute(
                delete(Pin).where(col(Pin.user_id) == actor.user_id, col(Pin.indicator) == name)
            )
            session.commit()
        return self.pins(actor)

    # -- snapshots --------------------------------------------------------------------------

    def take_due_snapshots(
        self, today: date | None = None, now: datetime | None = None
    ) -> list[snapshots.TakenSnapshot]:
        """Keep the latest closed week, month and quarter (the scheduled job's work)."""
        return snapshots.take_due(self.engine, self.registry, today or beijing_today(), now)


def _require(actor: Actor | None) -> Actor:
    if actor is None or actor.unit is None:
        raise NotFound("找不到该单位")
    return actor


def _node(unit: OrgUnit, today: date) -> Node:
    assert unit.id is not None
    return Node(
        id=unit.id,
        parent_id=unit.parent_id,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        path=unit.path,
        closed=not unit.is_open_on(today),
    )


def snapshot_query(params: Mapping[str, str]) -> dict[str, Any]:
    """Which snapshot a request asks for: ``period``, ``kind`` and ``key`` (at most 80 long)."""
    key = params.get("key") or ""
    if len(key) > 80:
        raise ValidationFailed("key 过长", field="key")
    return {"period": params.get("period") or None, "kind": params.get("kind") or None, "key": key}
