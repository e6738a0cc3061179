"""``/api/v1/quality/rounds``: verification rounds (核对) and their before/after scores."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import DATETIME, INTEGER, STRING, any_object, array, describe, obj
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from .api import in_session
from .service import READ

__all__ = ["ROUTES"]


def _rounds(request: Request) -> Any:
    return request.app.state.kernel.quality_rounds


@describe(
    body=obj(
        {"rules": array(STRING), "deadline": DATETIME, "title": STRING},
        required=["rules", "deadline"],
    ),
    response=obj(
        {"round": obj({"id": INTEGER, "campaign_id": INTEGER, "rules": array(STRING)})},
        required=["round"],
    ),
    status=201,
)
@requires(READ)
async def start_round(request: Request) -> Response:
    """Start a round for ``rules`` (codes) with a ``deadline``: a roster campaign goes to every
    committee of your area with findings of those rules, listing those residents."""
    body = await read_json_object(request)
    actor = request_actor(request)

    def work(session: Session) -> dict[str, Any]:
        found = _rounds(request).start(
            session, actor, body.get("rules"), body.get("deadline"), body.get("title")
        )
        return {"id": found.id, "campaign_id": found.campaign_id, "rules": found.rules}

    return JSONResponse({"round": await in_session(request, work, commit=True)}, status_code=201)


@describe(response=obj({"round": any_object("一轮整改与各居委的得分")}, required=["round"]))
@requires(READ)
async def get_round(request: Request) -> Response:
    """A round and each committee's score when it started and now."""
    round_id = path_id(request, "round_id")
    actor = request_actor(request)
    view = await in_session(
        request, lambda s: _rounds(request).view(s, actor, round_id), commit=False
    )
    return JSONResponse({"round": view})


ROUTES: list[BaseRoute] = [
    Route("/quality/rounds", start_round, methods=["POST"]),
    Route("/quality/rounds/{round_id}", get_round, methods=["GET"]),
]
