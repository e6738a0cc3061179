"""The tables the indicator pages show, built once for the page and for its CSV/XLSX export.

A page renders a :class:`Table` and its export link asks for the same table by name, so what is
downloaded is exactly what was shown: the same rows, the same columns, the figures unrounded
beyond the indicator's decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk import Period

from .figures import Figures, Row, format_figure
from .service import Dashboard
from .tree import Node

__all__ = [
    "Cell",
    "Column",
    "Table",
    "TableRow",
    "children_table",
    "detail_table",
    "period_label",
    "trend_table",
]

LEVEL_WORDS = {"city": "市", "district": "区", "street": "街镇", "committee": "居村委"}
LEVEL_WORDS_EN = {
    "city": "City",
    "district": "District",
    "street": "Street",
    "committee": "Committee",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(period: Period, *, english: bool = False) -> str:
    """``2026年11月`` (the period's own label); in English ``Nov 2026``, ``2026 week 47``,
    ``2026 Q4``."""
    if not english:
        return period.label
    if period.kind == "week":
        year, week = period.code.split("-W")
        return f"{year} week {int(week)}"
    if period.kind == "quarter":
        return period.code.replace("-", " ")
    return f"{_MONTHS[period.start.month - 1]} {period.start.year}"


@dataclass(frozen=True)
class Column:
    title: str
    decimals: int | None = None  # None: text


@dataclass(frozen=True)
class Cell:
    """A figure with how to show it; ``outlier`` is ``high``/``low`` against the siblings."""

    figure: float | None
    shown: str
    outlier: str | None = None


@dataclass
class TableRow:
    cells: list[Any]
    node: Node | None = None
    own: bool = False  # the unit itself (its total), above its children


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[TableRow] = field(default_factory=list)

    def export_rows(self) -> list[list[Any]]:
        """The rows as a spreadsheet holds them: numbers rounded to the shown decimals."""
        out = []
        for row in self.rows:
            values: list[Any] = []
            for cell, column in zip(row.cells, self.columns, strict=True):
                if isinstance(cell, Cell):
                    if cell.figure is None:
                        values.append("")
                    else:
                        decimals = column.decimals or 0
                        number = round(cell.figure, decimals)
                        values.append(int(number) if decimals == 0 else number)
                else:
                    values.append(cell)
            out.append(values)
        return out


def _cell(figures: Figures, row: Row | None, key: str | None = None) -> Cell:
    if row is None:
        return Cell(None, "—")
    figure = row.figure if key is None else row.by_key.get(key)
    return Cell(
        figure, format_figure(figures.declared, figure), row.outlier if key is None else None
    )


def _name(node: Node, own: bool, english: bool = False) -> str:
    if english:
        return node.name + (" (own total)" if own else (" (closed)" if node.closed else ""))
    suffix = "（本级合计）" if own else ("（已撤销）" if node.closed else "")
    return node.name + suffix


def _plain_title(figures: Figures, english: bool) -> str:
    spec = figures.declared.spec
    return spec.title_en if english and spec.title_en else spec.title


def _title(figures: Figures, english: bool) -> str:
    spec = figures.declared.spec
    title = spec.title_en if english and spec.title_en else spec.title
    unit = spec.unit_en if english and spec.unit_en else spec.unit
    if not unit:
        return title
    return f"{title} ({unit})" if english else f"{title}（{unit}）"


def children_table(dashboard: Dashboard, *, english: bool = False) -> Table:
    """The unit and its children side by side, one column per indicator."""
    panels = [p for p in dashboard.panels if p.error is None and p.unit is not None]
    columns = [Column("单位"), Column("编码"), Column("层级")]
    columns += [Column(_title(p, english), p.declared.spec.decimals) for p in panels]
    label = period_label(dashboard.period, english=english)
    table = Table(
        "children",
        f"{dashboard.unit.name} {label}: indicators by subunit"
        if english
        else f"{dashboard.unit.name} {label} 各下级指标对比",
        columns,
    )
    by_panel = [{r.node.id: r for r in p.children} for p in panels]
    table.rows.append(
        TableRow(
            [
                _name(dashboard.unit, True, english),
                dashboard.unit.code,
                _level(dashboard.unit, english),
            ]
            + [_cell(p, p.unit) for p in panels],
            dashboard.unit,
            own=True,
        )
    )
    for child in dashboard.children:
        cells: list[Any] = [_name(child, False, english), child.code, _level(child, english)]
        cells += [_cell(p, rows.get(child.id)) for p, rows in zip(panels, by_panel, strict=True)]
        table.rows.append(TableRow(cells, child))
    return table


def detail_table(dashboard: Dashboard, figures: Figures, *, english: bool = False) -> Table:
    """One indicator at the unit and each child: figure, value, base and each key's figure."""
    spec = figures.declared.spec
    columns = [Column("单位"), Column("编码"), Column(_title(figures, english), spec.decimals)]
    ratio = spec.aggregation == "ratio"
    if ratio:
        columns += [Column("分子", 0), Column("分母", 0)]
    keyed = list(figures.keys)
    columns += [Column(figures.labels.get(k, k), spec.decimals) for k in keyed]
    table = Table(
        f"detail-{figures.declared.name}",
        f"{dashboard.unit.name} {period_label(dashboard.period, english=english)} "
        f"{_plain_title(figures, english)}",
        columns,
    )
    ranked = figures.ranked + [r for r in figures.children if r.figure is None]
    rows: list[tuple[Row, bool]] = [(figures.unit, True)] if figures.unit else []
    rows += [(r, False) for r in ranked]
    for row, own in rows:
        cells: list[Any] = [_name(row.node, own, english), row.node.code, _cell(figures, row)]
        if ratio:
            cells += [Cell(row.value, f"{row.value:,.0f}"), Cell(row.base, f"{row.base:,.0f}")]
        cells += [_cell(figures, row, k) for k in keyed]
        table.rows.append(TableRow(cells, row.node, own=own))
    return table


def trend_table(dashboard: Dashboard, figures: Figures, *, english: bool = False) -> Table:
    """The indicator's figure at the unit, period by period."""
    spec = figures.declared.spec
    table = Table(
        f"trend-{figures.declared.name}",
        f"{dashboard.unit.name} {_plain_title(figures, english)} "
        + ("trend" if english else "趋势"),
        [Column("时段"), Column(_title(figures, english), spec.decimals), Column("说明")],
    )
    for point in figures.trend:
        note = (
            ("In progress (live)", "No data", "Snapshot")
            if english
            else ("进行中（实时）", "无数据", "快照")
        )[0 if point.live else (1 if point.figure is None else 2)]
        table.rows.append(
            TableRow(
                [
                    period_label(point.period, english=english),
                    Cell(point.figure, format_figure(figures.declared, point.figure)),
                    note,
                ]
            )
        )
    return table


def _level(node: Node, english: bool = False) -> str:
    return (LEVEL_WORDS_EN if english else LEVEL_WORDS).get(node.level, node.level)
