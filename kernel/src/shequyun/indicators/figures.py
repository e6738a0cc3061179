"""What a page or the API shows of one indicator at one unit: its figure, its children side by
side with the outliers named, its breakdown and its trend.

The figures come from one place or the other — computed now (:mod:`.compute`) or read from a
snapshot (:mod:`.snapshots`) — and look the same either way: a :class:`Source` of sums over a
unit and its children.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Protocol

from shequyun_sdk.indicators import Period

from .registry import Declared
from .tree import Node

__all__ = [
    "Figures",
    "Row",
    "Source",
    "TrendPoint",
    "figures",
    "format_figure",
    "outliers",
]

#: Robust z-score beyond which a child is named an outlier (Iglewicz and Hoaglin's 3.5).
OUTLIER_Z = 3.5
#: Fewer siblings than this are too few to call one of them unusual.
OUTLIER_MIN_SIBLINGS = 4


class Source(Protocol):
    """Sums of one indicator over a unit and its children (now, or in a snapshot)."""

    declared: Declared
    error: str | None
    keys: list[str]
    labels: dict[str, str]

    def cell(self, unit_id: int, key: str = "") -> tuple[float, float]: ...


@dataclass
class Row:
    """One unit's line: the summed value and base, the figure, the figure of each key."""

    node: Node
    value: float
    base: float
    figure: float | None
    by_key: dict[str, float | None] = field(default_factory=dict)
    outlier: str | None = None  # "high" or "low" against its siblings


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    figure: float | None
    live: bool = False


@dataclass
class Figures:
    """One indicator at one unit, ready to show."""

    declared: Declared
    unit: Row | None
    children: list[Row]
    keys: list[str]
    labels: dict[str, str]
    error: str | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    pinned: bool = False

    @property
    def additive(self) -> bool:
        breakdown = self.declared.spec.breakdown
        return breakdown is None or breakdown.additive

    @property
    def ranked(self) -> list[Row]:
        """The children with a figure, highest first (the ranked comparison)."""
        rows = [r for r in self.children if r.figure is not None]
        return sorted(rows, key=lambda r: (-(r.figure or 0.0), r.node.code))

    @property
    def named_outliers(self) -> list[Row]:
        return [r for r in self.children if r.outlier]

    def headline_key(self) -> str:
        """The key the headline figure and the comparison use: the total when there is one,
        else the breakdown's first declared key (户籍 of registration), else its largest."""
        if self.additive or not self.keys:
            return ""
        breakdown = self.declared.spec.breakdown
        first = next(iter(breakdown.labels), None) if breakdown is not None else None
        if first is not None and first in self.keys:
            return first
        unit = self.unit
        if unit is None:
            return self.keys[0]
        return max(self.keys, key=lambda k: (unit.by_key.get(k) or 0.0, k))


def _row(source: Source, node: Node, keys: list[str], key: str) -> Row:
    value, base = source.cell(node.id, key)
    spec = source.declared.spec
    return Row(
        node=node,
        value=value,
        base=base,
        figure=spec.figure(value, base),
        by_key={k: spec.figure(*source.cell(node.id, k)) for k in keys},
    )


def figures(source: Source, unit: Node, children: list[Node], *, key: str = "") -> Figures:
    """The figures of ``source`` at ``unit`` and each of ``children``.

    ``key`` picks a breakdown key for the comparison (``""``: the total). Closed children are
    listed only when something was counted at them.
    """
    if source.error is not None:
        return Figures(source.declared, None, [], [], {}, error=source.error)
    keys = list(source.keys)
    unit_row = _row(source, unit, keys, key)
    rows = []
    for child in children:
        row = _row(source, child, keys, key)
        if child.closed and not row.value and not row.base:
            continue
        rows.append(row)
    result = Figures(source.declared, unit_row, rows, keys, dict(source.labels))
    if not key and not result.additive and keys:
        chosen = result.headline_key()
        for row in [unit_row, *rows]:
            value, base = source.cell(row.node.id, chosen)
            row.value, row.base = value, base
            row.figure = source.declared.spec.figure(value, base)
    if source.declared.spec.aggregation == "ratio":
        outliers(rows)
    return result


def outliers(rows: list[Row]) -> None:
    """Name the rows far from their siblings: robust z-score (median and MAD) beyond 3.5.

    The median and the median absolute deviation are not pulled by the outliers themselves,
    as a mean and a standard deviation would be; with fewer than four siblings none is named.
    """
    known = [r for r in rows if r.figure is not None and not r.node.closed]
    if len(known) < OUTLIER_MIN_SIBLINGS:
        return
    values = [r.figure for r in known if r.figure is not None]
    middle = statistics.median(values)
    spread = statistics.median(abs(v - middle) for v in values)
    if spread == 0:
        spread = statistics.mean(abs(v - middle) for v in values) * 1.2533
    if spread == 0:
        return
    for row in known:
        assert row.figure is not None
        z = 0.6745 * (row.figure - middle) / spread
        if abs(z) > OUTLIER_Z:
            row.outlier = "high" if z > 0 else "low"


def format_figure(declared: Declared, figure: float | None) -> str:
    """A figure as readers expect it: ``12,345``, ``62.3``; ``—`` when there is none."""
    if figure is None:
        return "—"
    decimals = declared.spec.decimals
    if declared.spec.aggregation == "sum" and float(figure).is_integer():
        decimals = 0
    return f"{figure:,.{decimals}f}"
