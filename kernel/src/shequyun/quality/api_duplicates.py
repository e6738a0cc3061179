"""``/api/v1/quality/duplicates`` and ``/merges``: review duplicate pairs, merge, undo."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import (
    BOOLEAN,
    INTEGER,
    STRING,
    any_object,
    array,
    describe,
    obj,
    query_param,
)
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity.auth import request_actor
from .api import in_session
from .service import READ

__all__ = ["ROUTES"]


def _duplicates(request: Request) -> Any:
    return request.app.state.kernel.quality.duplicates


def merge_view(merge: Any) -> dict[str, Any]:
    return {
        "id": merge.id,
        "kept_id": merge.kept_id,
        "merged_id": merge.merged_id,
        "moved": merge.moved,
        "undone": merge.undone_at is not None,
    }


_MERGE = obj(
    {
        "merge": obj(
            {
                "id": INTEGER,
                "kept_id": INTEGER,
                "merged_id": INTEGER,
                "moved": any_object(),
                "undone": BOOLEAN,
            }
        )
    },
    required=["merge"],
)


@describe(
    query=[query_param("status", {"enum": ["open", "merged", "different"]}, "状态")],
    response=obj({"pairs": array(any_object("可能是同一人的两条记录"))}, required=["pairs"]),
)
@requires(READ)
async def list_pairs(request: Request) -> Response:
    """Pairs of records that may be the same person, both within your area."""
    actor = request_actor(request)
    status = request.query_params.get("status") or "open"
    found = await in_session(
        request, lambda s: _duplicates(request).pairs(s, actor, status=status), commit=False
    )
    return JSONResponse({"pairs": found})


@describe(
    body=obj({"keep": {**INTEGER, "minimum": 1}}, required=["keep"]),
    response=_MERGE,
    status=201,
)
@requires(READ)
async def merge_pair(request: Request) -> Response:
    """Merge a pair: ``{"keep": <resident id>}``; the other record is removed, reversibly."""
    body = await read_json_object(request)
    actor = request_actor(request)
    pair_id = path_id(request, "pair_id")

    def work(session: Session) -> dict[str, Any]:
        merge = _duplicates(request).merge(session, actor, pair_id, body.get("keep"), source="api")
        session.flush()
        return merge_view(merge)

    return JSONResponse({"merge": await in_session(request, work, commit=True)}, status_code=201)


@describe(response=obj({"status": STRING}, required=["status"]))
@requires(READ)
async def mark_different(request: Request) -> Response:
    """Decide that a pair's records are two different people."""
    actor = request_actor(request)
    pair_id = path_id(request, "pair_id")
    await in_session(
        request, lambda s: _duplicates(request).mark_different(s, actor, pair_id), commit=True
    )
    return JSONResponse({"status": "different"})


@describe(response=_MERGE)
@requires(READ)
async def undo_merge(request: Request) -> Response:
    """Undo a merge: the removed record is active again and everything moved goes back."""
    actor = request_actor(request)
    merge_id = path_id(request, "merge_id")

    def work(session: Session) -> dict[str, Any]:
        return merge_view(_duplicates(request).undo(session, actor, merge_id, source="api"))

    return JSONResponse({"merge": await in_session(request, work, commit=True)})


ROUTES: list[BaseRoute] = [
    Route("/quality/duplicates", list_pairs, methods=["GET"]),
    Route("/quality/duplicates/{pair_id}/merge", merge_pair, methods=["POST"]),
    Route("/quality/duplicates/{pair_id}/different", mark_different, methods=["POST"]),
    Route("/quality/merges/{merge_id}/undo", undo_merge, methods=["POST"]),
]
