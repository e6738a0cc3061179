"""Downloading a table the indicator pages show, as CSV or XLSX: the one rule for it.

The table is built by :mod:`.tables` from the same dashboard the page draws, so the file holds
exactly what was shown; each download is written to the audit log (who, which unit, which
table, which period), as every export of the platform is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.csvfiles import csv_chunks
from shequyun_sdk.identity import Actor
from sqlmodel import Session

from ..identity import audit
from ..spreadsheets import xlsx_chunks
from .service import Dashboard, IndicatorService
from .tables import Table, children_table, detail_table, trend_table

__all__ = ["FORMATS", "TABLES", "Download", "export_table"]

TABLES = ("children", "detail", "trend")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Download:
    """A file ready to stream: its chunks, media type and ``Content-Disposition``."""

    chunks: Iterator[bytes]
    media_type: str
    disposition: str


def export_table(
    service: IndicatorService,
    actor: Actor | None,
    code: str,
    *,
    table: str,
    fmt: str,
    indicator: str | None = None,
    english: bool = False,
    period: str | None = None,
    kind: str | None = None,
    key: str = "",
) -> Download:
    """The table ``table`` of unit ``code`` (``children``: the unit and its children, one column
    per indicator; ``detail`` and ``trend``: one indicator's) as ``fmt``; audited."""
    if fmt not in FORMATS:
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    if table not in TABLES or (table != "children" and indicator is None):
        raise ValidationFailed(
            "table 应为 children、detail 或 trend（后两者需 indicator）", field="table"
        )
    dashboard = service.dashboard(actor, code, only=indicator, period=period, kind=kind, key=key)
    shown = _table(dashboard, table, english=english)
    with Session(service.engine) as session:
        audit.record(
            session,
            "indicators.exported",
            actor=actor,
            target_type="org_unit",
            target_id=dashboard.unit.code,
            unit_id=dashboard.unit.id,
            detail={
                "table": table,
                "indicator": indicator,
                "period": dashboard.period.code,
                "format": fmt,
                "rows": len(shown.rows),
            },
        )
        session.commit()
    filename = f"{shown.title}.{fmt}"
    fallback = f"indicators_{dashboard.unit.code}_{dashboard.period.code}.{fmt}"
    disposition = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return Download(_chunks(shown, fmt), FORMATS[fmt], disposition)


def _table(dashboard: Dashboard, which: str, *, english: bool) -> Table:
    if which == "children":
        return children_table(dashboard, english=english)
    if not dashboard.panels or dashboard.panels[0].error is not None:
        raise NotFound("该指标在此时段没有可导出的数据")
    panel = dashboard.panels[0]
    if which == "detail":
        return detail_table(dashboard, panel, english=english)
    return trend_table(dashboard, panel, english=english)


def _chunks(table: Table, fmt: str) -> Iterator[bytes]:
    header = [c.title for c in table.columns]
    rows = table.export_rows()
    if fmt == "csv":
        # Unit names, campaign titles and tags are typed by people: none may run as a formula.
        return csv_chunks(rows, header=header)
    widths = [max(10, min(40, 2 * len(c.title) + 4)) for c in table.columns]
    return xlsx_chunks(table.title[:31], header, rows, widths=widths)
