"""``/api/v1/calendar``: the working-day calendar in force, and administrators' edits."""

from __future__ import annotations

from datetime import date
from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import array, json_response, obj
from shequyun_sdk.params import query_int
from shequyun_sdk.workdays import WorkCalendar, beijing_today
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..db import session_scope
from ..identity.auth import request_actor
from ..openapi import describe
from . import service

__all__ = ["ROUTES", "calendar_document"]

_DAY = {
    "type": "object",
    "properties": {
        "day": {"type": "string", "format": "date"},
        "kind": {"type": "string", "enum": ["holiday", "workday", "ordinary"]},
        "kind_label": {"type": "string"},
        "name": {"type": "string"},
        "weekday": {"type": "integer", "minimum": 1, "maximum": 7},
        "source": {"type": "string", "enum": ["shipped", "edited"]},
    },
}


def calendar_document(calendar: WorkCalendar, year: int) -> dict[str, Any]:
    """A year of ``calendar`` as the API shows it."""
    return {
        "year": year,
        "known": calendar.knows(year),
        "provisional": year in calendar.provisional,
        "source": calendar.years.get(year, ""),
        "days": [d.to_dict() for d in calendar.days_of(year)],
    }


def _year(request: Request) -> int:
    return query_int(request, "year", beijing_today().year, low=2000, high=2100)


def _day(request: Request) -> date:
    try:
        return date.fromisoformat(str(request.path_params["day"]))
    except ValueError:
        raise ValidationFailed("日期应写作 YYYY-MM-DD", field="day") from None


@describe(
    parameters=[
        {
            "name": "year",
            "in": "query",
            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
        }
    ],
    responses={
        "200": json_response(
            obj(
                {
                    "year": {"type": "integer"},
                    "known": {"type": "boolean"},
                    "provisional": {"type": "boolean"},
                    "source": {"type": "string"},
                    "days": array(_DAY),
                }
            ),
            {"description": "该年的放假与调休上班日"},
        )
    },
)
@requires()
async def year_view(request: Request) -> Response:
    """The holidays and make-up working days of a year (default: this year, Beijing time)."""
    year = _year(request)
    engine = request.app.state.kernel.engine

    def work() -> dict[str, Any]:
        with session_scope(engine) as session:
            return calendar_document(service.load(session), year)

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["holiday", "workday", "ordinary"]},
                        "name": {"type": "string"},
                        "note": {"type": "string"},
                    },
                    "required": ["kind"],
                }
            }
        },
    },
    responses={"200": {"description": "已保存", "content": {"application/json": {"schema": _DAY}}}},
)
@requires(service.MANAGE)
async def set_day(request: Request) -> Response:
    """Make a day a holiday, a working day, or ordinary again (``calendar.manage``)."""
    day = _day(request)
    body = await read_json_object(request)
    actor = request_actor(request)
    engine = request.app.state.kernel.engine

    def work() -> dict[str, Any]:
        with session_scope(engine) as session:
            service.set_day(
                session,
                actor,
                day,
                str(body.get("kind", "")),
                str(body.get("name") or ""),
                str(body.get("note") or ""),
            )
            session.flush()
            listed = service.load(session).listed(day)
            return listed.to_dict() if listed else {"day": day.isoformat(), "kind": "ordinary"}

    return JSONResponse(await run_in_threadpool(work))


@describe(response=obj({"cleared": {"type": "boolean"}}, required=["cleared"]))
@requires(service.MANAGE)
async def clear_day(request: Request) -> Response:
    """Drop the edit of a day: the shipped arrangement applies again."""
    day = _day(request)
    actor = request_actor(request)
    engine = request.app.state.kernel.engine

    def work() -> bool:
        with session_scope(engine) as session:
            return service.clear_day(session, actor, day)

    return JSONResponse({"cleared": await run_in_threadpool(work)})


ROUTES: list[BaseRoute] = [
    Route("/calendar", year_view, methods=["GET"]),
    Route("/calendar/days/{day}", set_day, methods=["PUT"]),
    Route("/calendar/days/{day}", clear_day, methods=["DELETE"]),
]
