"""Portal pages: a dashboard per unit, one indicator in detail, the wall display, exports, pins.

Every page is the service's :meth:`~.service.IndicatorService.dashboard` drawn: the unit's
figures, its children side by side (ranked, the unit's own figure as the reference line, the
outliers named), a trend per indicator, and the tables that the export links download as they
are shown. Drilling down is following a child's link: the same page one level lower.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import NotFound, Period, charts
from shequyun_sdk.identity import Actor
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, kernel_of, page, render
from ..replicas import reads_replica
from ..sessions import reading_engine
from ..templating import language_of
from .exporting import export_table
from .figures import Figures, format_figure
from .registry import Declared
from .service import VIEW, Dashboard, beijing_today, snapshot_query
from .tables import children_table, detail_table, period_label, trend_table

__all__ = ["ROUTES"]

#: Bars a dashboard tile shows; the detail page shows every child.
TILE_BARS = 15
#: Chart widths: tiles (one drawing, readable from a phone to a desktop), the wall, and the
#: detail page (a narrow drawing for phones and a wide one, switched by CSS).
TILE_WIDTH = 340
WALL_WIDTH = 340
WIDE, HALF, NARROW = 720, 480, 340
#: Seconds between two refreshes of the wall display.
WALL_REFRESH = 300
WALL_TILES = 8
#: Keys a breakdown chart shows when its keys are open-ended (tags, campaigns).
BREAKDOWN_BARS = 10


def _service(request: Request) -> Any:
    return kernel_of(request).indicators


def _keep(request: Request, **changes: str | None) -> str:
    """The page's query string with ``changes`` applied (None removes a parameter)."""
    params = {k: v for k, v in request.query_params.items() if k in {"period", "kind", "key"}}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return f"?{urlencode(params)}" if params else ""


class Words:
    """What a template needs to show indicators in the reader's language."""

    def __init__(self, request: Request) -> None:
        self.english = language_of(request) == "en"

    def title(self, declared: Declared) -> str:
        spec = declared.spec
        return spec.title_en if self.english and spec.title_en else spec.title

    def unit(self, declared: Declared) -> str:
        spec = declared.spec
        return spec.unit_en if self.english and spec.unit_en else spec.unit

    def description(self, declared: Declared) -> str:
        spec = declared.spec
        return spec.description_en if self.english and spec.description_en else spec.description

    def period(self, period: Period) -> str:
        """``2026年11月``, or ``Nov 2026`` in English."""
        return period_label(period, english=self.english)

    @staticmethod
    def figure(declared: Declared, figure: float | None) -> str:
        return format_figure(declared, figure)


def _tile_chart(
    panel: Figures, dashboard: Dashboard, words: Words, *, width: int, every: bool
) -> str:
    ranked = panel.ranked
    if not every and len(ranked) > TILE_BARS:
        half = 6
        flagged = [r for r in ranked[half:-half] if r.outlier]
        ranked = ranked[:half] + flagged + ranked[-half:]
    spec = panel.declared.spec
    unit = words.unit(panel.declared)
    reference, reference_label = _reference(panel, dashboard, words)
    return charts.ranked_bars(
        f"{dashboard.unit.name} {words.title(panel.declared)}: by subunit"
        if words.english
        else f"{dashboard.unit.name} {words.title(panel.declared)}：各下级对比",
        [(r.node.name, r.figure or 0.0, r.outlier) for r in ranked],
        width=width,
        reference=reference,
        reference_label=reference_label,
        unit=unit if unit in {"%"} else "",
        decimals=spec.decimals,
    )


def _reference(panel: Figures, dashboard: Dashboard, words: Words) -> tuple[float | None, str]:
    """The line the children's bars are read against: the parent's own figure for a ratio (its
    share is comparable with theirs); for a sum, the parent's total per child (the total itself
    is the sum of the bars and would squash every one of them)."""
    if panel.unit is None or panel.unit.figure is None:
        return None, ""
    if panel.declared.spec.aggregation == "ratio":
        return panel.unit.figure, dashboard.unit.name
    counted = [r for r in panel.children if not r.node.closed]
    if not counted:
        return None, ""
    average = "average" if words.english else "平均"
    return panel.unit.figure / len(counted), f"{dashboard.unit.name} {average}"


def _trend_chart(panel: Figures, words: Words, *, width: int, height: int) -> str:
    unit = words.unit(panel.declared)
    return charts.line_chart(
        f"{words.title(panel.declared)} {'trend' if words.english else '趋势'}",
        [_short(p.period, live=p.live, english=words.english) for p in panel.trend],
        [(words.title(panel.declared), [p.figure for p in panel.trend])],
        width=width,
        height=height,
        unit=unit if unit in {"%"} else "",
    )


def _short(period: Period, *, live: bool = False, english: bool = False) -> str:
    """A period's label on a chart's axis: ``11月``, ``第47周``, ``2026Q4``; ``本月`` and
    the like for the current period, whose figure is still moving. In English ``Nov``,
    ``W47``, ``2026Q4``, ``this month``."""
    if live:
        if english:
            return {"week": "this week", "month": "this month", "quarter": "this quarter"}[
                period.kind
            ]
        return {"week": "本周", "month": "本月", "quarter": "本季度"}[period.kind]
    if period.kind == "quarter":
        return period.code.replace("-", "")
    if english:  # W47 (of 2026-W47), Nov (of Nov 2026)
        if period.kind == "week":
            return period.code.split("-", 1)[1]
        return period_label(period, english=True).split(" ", 1)[0]
    return period.label.split("年", 1)[-1]


def _breakdown_chart(panel: Figures, words: Words, *, width: int) -> str | None:
    """The unit's figure for each key of the breakdown (age bands, campaigns, tags)."""
    breakdown = panel.declared.spec.breakdown
    if not panel.keys or panel.unit is None or breakdown is None:
        return None
    items = [(panel.labels.get(k, k), panel.unit.by_key.get(k) or 0.0) for k in panel.keys]
    if not breakdown.labels:  # open-ended keys (tags, campaigns): the largest first
        items.sort(key=lambda item: -item[1])
        items = items[:BREAKDOWN_BARS]
    unit = words.unit(panel.declared)
    return charts.ranked_bars(
        f"{words.title(panel.declared)}: by {breakdown.title_en or breakdown.title}"
        if words.english
        else f"{words.title(panel.declared)}：按{breakdown.title}",
        [(label, value, None) for label, value in items],
        width=width,
        unit=unit if unit in {"%"} else "",
        decimals=panel.declared.spec.decimals,
    )


def _base_context(request: Request, dashboard: Dashboard) -> dict[str, Any]:
    unit = dashboard.unit
    crumbs: list[tuple[str, str | None]] = [
        ("Indicators" if Words(request).english else "指标", "/indicators")
    ]
    crumbs += [
        (a.name, f"/indicators/u/{a.code}{_keep(request, key=None)}") for a in dashboard.ancestors
    ]
    return {
        "dashboard": dashboard,
        "words": Words(request),
        "keep": lambda **changes: _keep(request, **changes),
        "breadcrumbs": crumbs,
        "unit_href": lambda code: f"/indicators/u/{code}{_keep(request, key=None)}",
        "export_href": lambda **params: (
            f"/indicators/u/{unit.code}/export?" + urlencode({**_period_params(request), **params})
        ),
        "today": beijing_today(),
    }


def _period_params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in {"period", "kind", "key"} and v}


async def _dashboard(request: Request, code: str | None, **extra: Any) -> Dashboard:
    actor = actor_of(request)
    query = {**snapshot_query(request.query_params), **extra}
    dashboard: Dashboard = await run_in_threadpool(
        lambda: _service(request).dashboard(actor, code, engine=reading_engine(request), **query)
    )
    if not Words(request).english:
        return dashboard
    # The breakdowns' keys (age bands, registration, the kernel's tags) through the catalog;
    # copies, so that nothing the service may keep is changed.
    _ = kernel_of(request).platform.translator(request)
    panels = [
        dataclasses.replace(panel, labels={k: _(v) for k, v in panel.labels.items()})
        for panel in dashboard.panels
    ]
    return dataclasses.replace(dashboard, panels=panels)


@page(VIEW)
async def home(request: Request) -> Response:
    actor = actor_of(request)
    if actor.unit is None:
        raise NotFound("找不到该单位")
    return RedirectResponse(f"/indicators/u/{actor.unit.code}{_keep(request)}", status_code=303)


def _tile(
    panel: Figures, dashboard: Dashboard, words: Words, *, width: int, trend_height: int
) -> dict[str, Any]:
    """A panel's charts: its breakdown when it has one (age bands, campaigns), else its
    children ranked; its trend when there is one."""
    tile: dict[str, Any] = {"panel": panel, "bars": None, "breakdown": None, "trend": None}
    if panel.error is not None:
        return tile
    if panel.keys:
        tile["breakdown"] = _breakdown_chart(panel, words, width=width)
    elif panel.ranked:
        tile["bars"] = _tile_chart(panel, dashboard, words, width=width, every=False)
    if len(panel.trend) > 1:
        tile["trend"] = _trend_chart(panel, words, width=width, height=trend_height)
    return tile


@reads_replica
@page(VIEW)
async def dashboard_page(request: Request) -> Response:
    dashboard = await _dashboard(request, request.path_params["code"])
    words = Words(request)
    tiles = [
        _tile(panel, dashboard, words, width=TILE_WIDTH, trend_height=110)
        for panel in dashboard.panels
    ]
    table = children_table(dashboard, english=words.english)
    return render(
        request,
        "indicators/dashboard.html",
        {**_base_context(request, dashboard), "tiles": tiles, "table": table},
    )


@reads_replica
@page(VIEW)
async def detail_page(request: Request) -> Response:
    name = request.path_params["name"]
    dashboard = await _dashboard(request, request.path_params["code"], only=name)
    if not dashboard.panels:
        empty = {**_base_context(request, dashboard), "panel": None}
        return render(request, "indicators/detail.html", empty)
    panel = dashboard.panels[0]
    words = Words(request)
    context: dict[str, Any] = {**_base_context(request, dashboard), "panel": panel}
    if panel.error is None:
        context.update(
            bars=[_tile_chart(panel, dashboard, words, width=w, every=True) for w in (WIDE, NARROW)]
            if panel.ranked
            else None,
            trend=[_trend_chart(panel, words, width=w, height=240) for w in (HALF, NARROW)]
            if len(panel.trend) > 1
            else None,
            breakdown=[_breakdown_chart(panel, words, width=w) for w in (WIDE, NARROW)]
            if panel.keys
            else None,
            table=detail_table(dashboard, panel, english=words.english),
            trend_table=trend_table(dashboard, panel, english=words.english),
        )
    context["breadcrumbs"] = [
        *context["breadcrumbs"],
        (dashboard.unit.name, f"/indicators/u/{dashboard.unit.code}{_keep(request, key=None)}"),
    ]
    return render(request, "indicators/detail.html", context)


@reads_replica
@page(VIEW)
async def wall_page(request: Request) -> Response:
    dashboard = await _dashboard(request, request.path_params["code"])
    words = Words(request)
    shown = [p for p in dashboard.panels if p.pinned] or dashboard.panels
    tiles = [
        _tile(panel, dashboard, words, width=WALL_WIDTH, trend_height=140)
        for panel in shown[:WALL_TILES]
    ]
    return render(
        request,
        "indicators/wall.html",
        {**_base_context(request, dashboard), "tiles": tiles, "refresh": WALL_REFRESH},
    )


@page(VIEW)
async def export(request: Request) -> Response:
    """A table of the dashboard or of an indicator's page, as CSV or XLSX."""
    params = request.query_params
    actor = actor_of(request)
    download = await run_in_threadpool(
        lambda: export_table(
            _service(request),
            actor,
            request.path_params["code"],
            table=params.get("table") or "children",
            fmt=params.get("format") or "xlsx",
            indicator=params.get("indicator") or None,
            english=Words(request).english,
            **snapshot_query(request.query_params),
        )
    )
    return StreamingResponse(
        iterate_in_threadpool(download.chunks),
        media_type=download.media_type,
        headers={"Content-Disposition": download.disposition},
    )


@page(VIEW)
async def pin(request: Request) -> Response:
    """Pin or unpin an indicator (form: ``indicator``, ``action`` pin/unpin, ``next``)."""
    form = await request.form()
    name = str(form.get("indicator") or "")
    action = str(form.get("action") or "pin")
    target = str(form.get("next") or "/indicators")
    if not target.startswith("/indicators"):
        target = "/indicators"
    actor: Actor = actor_of(request)
    work: Callable[..., Any] = (
        _service(request).unpin if action == "unpin" else _service(request).pin
    )
    await run_in_threadpool(work, actor, name)
    return RedirectResponse(target, status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/indicators", home, methods=["GET"]),
    Route("/indicators/pins", pin, methods=["POST"]),
    Route("/indicators/u/{code}", dashboard_page, methods=["GET"]),
    Route("/indicators/u/{code}/wall", wall_page, methods=["GET"]),
    Route("/indicators/u/{code}/export", export, methods=["GET"]),
    Route("/indicators/u/{code}/{name}", detail_page, methods=["GET"]),
]
