"""``/api/v1/plugins/governance/stats``: the 民情 figures of a unit, as the dashboard shows them."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import platform_from_request, requires
from shequyun_sdk.openapi import STRING, UNIT_CODE, array, describe, obj, query_param
from shequyun_sdk.web import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import stats
from .core import VIEW
from .web import actor_of

__all__ = ["ROUTES"]


@describe(
    query=[
        query_param("unit_code", UNIT_CODE, "单位编码（缺省为自己的单位）"),
        query_param("period", {"enum": ["week", "month"], "default": "month"}, "按周或按月"),
    ],
    response=obj({"trail": array(obj({"code": STRING, "name": STRING}))}, required=["trail"]),
)
@requires(VIEW)
async def unit_stats(request: Request) -> Response:
    """Field logs and cases of ``unit_code`` (default: the caller's unit) over the last twelve
    weeks or months (``period``: ``week`` or ``month``): the trend, each child unit's counts and
    on-time rate (drill down by a child's ``code``), categories, sources, statuses and the
    buildings with most cases. A unit outside the caller's subtree answers 404."""
    platform = platform_from_request(request)
    actor = actor_of(request)
    params = request.query_params

    def work() -> dict[str, Any]:
        with platform.session() as session:
            found, trail = stats.figures_at(
                platform, session, actor, params.get("unit_code"), params.get("period", "month")
            )
            return {
                **stats.as_dict(found),
                "trail": [{"code": u.code, "name": u.name} for u in trail],
            }

    return JSONResponse(await run_in_threadpool(work))


ROUTES: list[BaseRoute] = [Route("/stats", unit_stats, methods=["GET"])]
