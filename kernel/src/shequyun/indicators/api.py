"""``/api/v1/indicators``: the catalogue, a unit's values for a period, its children, pins.

Handlers translate query parameters into one call of :class:`.service.IndicatorService` and its
answer into JSON; the rules (scope, permissions, periods) are the service's, the same as the
portal's.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import BOOLEAN, DATE, DATETIME, STRING, any_object, array, nullable, obj
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from ..openapi import describe
from ..replicas import reads_replica
from ..sessions import reading_engine
from .figures import Figures, Row
from .registry import Declared
from .service import VIEW, Dashboard, snapshot_query
from .tree import Node

__all__ = ["ROUTES", "declared_view", "figures_view"]


def _service(request: Request) -> Any:
    return request.app.state.kernel.indicators


def declared_view(declared: Declared) -> dict[str, Any]:
    """How the catalogue describes an indicator."""
    spec = declared.spec
    breakdown = spec.breakdown
    return {
        "name": declared.name,
        "plugin": declared.plugin,
        "title": spec.title,
        "title_en": spec.title_en,
        "unit": spec.unit,
        "unit_en": spec.unit_en,
        "aggregation": spec.aggregation,
        "scale": spec.scale,
        "decimals": spec.decimals,
        "kind": spec.kind,
        "permission": spec.permission,
        "description": spec.description,
        "description_en": spec.description_en,
        "higher_is_better": spec.higher_is_better,
        "breakdown": None
        if breakdown is None
        else {
            "title": breakdown.title,
            "title_en": breakdown.title_en,
            "additive": breakdown.additive,
        },
    }


def _unit(node: Node) -> dict[str, Any]:
    return {"code": node.code, "name": node.name, "level": node.level, "closed": node.closed}


def _row(row: Row, ratio: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"unit": _unit(row.node), "figure": row.figure, "value": row.value}
    if ratio:
        found["base"] = row.base
    if row.by_key:
        found["by_key"] = row.by_key
    if row.outlier:
        found["outlier"] = row.outlier
    return found


def figures_view(figures: Figures, *, children: bool = True) -> dict[str, Any]:
    """One indicator at one unit: its figure, breakdown, children and trend."""
    ratio = figures.declared.spec.aggregation == "ratio"
    found: dict[str, Any] = {"indicator": figures.declared.name, "available": not figures.error}
    if figures.error is not None:
        found["error"] = "该指标暂时无法计算"
        return found
    found["unit"] = _row(figures.unit, ratio) if figures.unit is not None else None
    if figures.keys:
        found["keys"] = [{"key": k, "label": figures.labels.get(k, k)} for k in figures.keys]
    if children:
        found["children"] = [_row(r, ratio) for r in figures.children]
    found["trend"] = [
        {"period": p.period.code, "label": p.period.label, "figure": p.figure, "live": p.live}
        for p in figures.trend
    ]
    return found


def _dashboard_view(dashboard: Dashboard, *, children: bool = True) -> dict[str, Any]:
    return {
        "unit": _unit(dashboard.unit),
        "period": {
            "code": dashboard.period.code,
            "label": dashboard.period.label,
            "kind": dashboard.period.kind,
            "start": dashboard.period.start.isoformat(),
            "end": dashboard.period.end.isoformat(),
            "live": dashboard.live,
        },
        "snapshot_taken_at": dashboard.taken_at.isoformat() if dashboard.taken_at else None,
        "no_snapshot": dashboard.missing,
        "indicators": [figures_view(p, children=children) for p in dashboard.panels],
    }


_INDICATOR = any_object("一项指标在该单位的数值、分列、下级对比与趋势")
_DASHBOARD = obj(
    {
        "unit": any_object(),
        "period": obj(
            {
                "code": STRING,
                "label": STRING,
                "kind": STRING,
                "start": DATE,
                "end": DATE,
                "live": BOOLEAN,
            }
        ),
        "snapshot_taken_at": nullable(DATETIME),
        "no_snapshot": BOOLEAN,
        "indicators": array(_INDICATOR),
        "indicator": nullable(_INDICATOR),
    },
    required=["unit", "period"],
)
_PINS = obj({"pins": array(STRING)}, required=["pins"])

_PERIOD_PARAMETERS = [
    {
        "name": "period",
        "in": "query",
        "description": "时段：2026-11（月）、2026-W47（周）、2026-Q4（季度）；缺省为本月（实时）",
        "schema": {"type": "string"},
    },
    {
        "name": "kind",
        "in": "query",
        "description": "未给 period 时当前时段的类型：week、month（缺省）或 quarter",
        "schema": {"type": "string", "enum": ["week", "month", "quarter"]},
    },
    {
        "name": "key",
        "in": "query",
        "description": "分列指标的某一项（如某次采集活动），用于下级对比",
        "schema": {"type": "string"},
    },
]


@describe(
    response=obj({"indicators": array(any_object("一项指标的声明"))}, required=["indicators"])
)
@requires(VIEW)
async def catalogue(request: Request) -> Response:
    """The indicators you may read at your own unit, in dashboard order."""
    actor = request_actor(request)
    found = _service(request).catalogue(actor)
    return JSONResponse({"indicators": [declared_view(d) for d in found]})


@reads_replica
@describe(parameters=_PERIOD_PARAMETERS, response=_DASHBOARD)
@requires(VIEW)
async def unit_values(request: Request) -> Response:
    """Every indicator you may read at a unit, with each child's figure beside it.

    Values of the current period are computed now; closed periods come from their snapshot
    (``no_snapshot`` when none was kept). 404 when the unit lies outside your grant.
    """
    actor = request_actor(request)
    code = request.path_params["code"]
    query = snapshot_query(request.query_params)
    dashboard = await run_in_threadpool(
        lambda: _service(request).dashboard(actor, code, engine=reading_engine(request), **query)
    )
    return JSONResponse(_dashboard_view(dashboard))


@reads_replica
@describe(parameters=_PERIOD_PARAMETERS, response=_DASHBOARD)
@requires(VIEW)
async def unit_indicator(request: Request) -> Response:
    """One indicator at a unit: its figure, breakdown, children side by side and trend."""
    actor = request_actor(request)
    code, name = request.path_params["code"], request.path_params["name"]
    query = snapshot_query(request.query_params)
    dashboard = await run_in_threadpool(
        lambda: _service(request).dashboard(
            actor, code, only=name, engine=reading_engine(request), **query
        )
    )
    view = _dashboard_view(dashboard)
    view["indicator"] = view.pop("indicators")[0] if view["indicators"] else None
    return JSONResponse(view)


@describe(response=_PINS)
@requires(VIEW)
async def list_pins(request: Request) -> Response:
    """The indicators you pinned to the top of your dashboards, in order."""
    pins = await run_in_threadpool(_service(request).pins, request_actor(request))
    return JSONResponse({"pins": pins})


@describe(response=_PINS)
@requires(VIEW)
async def put_pin(request: Request) -> Response:
    """Pin an indicator to the top of your dashboards (and the wall display)."""
    pins = await run_in_threadpool(
        _service(request).pin, request_actor(request), request.path_params["name"]
    )
    return JSONResponse({"pins": pins})


@describe(response=_PINS)
@requires(VIEW)
async def delete_pin(request: Request) -> Response:
    """Unpin an indicator."""
    pins = await run_in_threadpool(
        _service(request).unpin, request_actor(request), request.path_params["name"]
    )
    return JSONResponse({"pins": pins})


ROUTES: list[BaseRoute] = [
    Route("/indicators", catalogue, methods=["GET"]),
    Route("/indicators/pins", list_pins, methods=["GET"]),
    Route("/indicators/pins/{name}", put_pin, methods=["PUT"]),
    Route("/indicators/pins/{name}", delete_pin, methods=["DELETE"]),
    Route("/indicators/units/{code}", unit_values, methods=["GET"]),
    Route("/indicators/units/{code}/{name}", unit_indicator, methods=["GET"]),
]
