"""``/api/v1/tasks``: a committee's tasks, drafts, submissions and returns."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id
from shequyun_sdk.web import JSONResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from ..identity.auth import request_actor
from . import api_schemas as docs
from .api_support import kernel_of, run_work
from .campaigns import FILL, RESULTS, REVIEW
from .forms import version_view
from .models import Campaign, FormVersion

# -- tasks -------------------------------------------------------------------------------


@describe(query=[docs.TASK_STATUS], response=docs.TASKS)
@requires(FILL)
async def my_tasks(request: Request) -> Response:
    """Your committee's tasks with their deadlines (open campaigns only)."""
    actor = request_actor(request)
    status = request.query_params.get("status") or None
    svc = kernel_of(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            svc.campaigns.task_view(session, t, c) | {"data": None}
            for t, c, _u in svc.campaigns.my_tasks(session, actor, status=status)
        ]

    return JSONResponse({"items": await run_work(request, work, commit=False)})


@describe(response=docs.TASK)
@requires()
async def get_task(request: Request) -> Response:
    """A task with its form (schema and UI), answers, roster rows and history."""
    task_id = path_id(request, "task_id")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        permission = next(
            (p for p in (FILL, REVIEW, RESULTS) if actor is not None and actor.has(p)),
            FILL,
        )
        task = svc.campaigns.task(session, actor, task_id, permission)
        campaign = session.get(Campaign, task.campaign_id)
        assert campaign is not None
        version = session.get(FormVersion, campaign.form_version_id)
        assert version is not None
        view: dict[str, Any] = svc.campaigns.task_view(session, task, campaign)
        view["form"] = version_view(version)
        view["instructions"] = campaign.instructions
        view["history"] = svc.campaigns.history(session, task_id)
        if campaign.mode == "roster" and actor is not None and actor.has("residents.read"):
            view["roster"] = svc.campaigns.roster(session, actor, task, campaign)
        return view

    return JSONResponse(await run_work(request, work, commit=False))


@describe(body=docs.DRAFT_ANSWERS, response=docs.TASK)
@requires(FILL)
async def save_task_draft(request: Request) -> Response:
    """Save answers without submitting (send the task's ``version``)."""
    task_id = path_id(request, "task_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        task = svc.campaigns.save_draft(
            session, actor, task_id, body.get("data"), body.get("version")
        )
        campaign = session.get(Campaign, task.campaign_id)
        return svc.campaigns.task_view(session, task, campaign)  # type: ignore[no-any-return]

    return JSONResponse(await run_work(request, work, commit=True))


@describe(body=docs.SUBMISSION, response=docs.TASK, status=201)
@requires(FILL)
async def submit_task(request: Request) -> Response:
    """Submit answers. Idempotent: resending the same ``client_key`` changes nothing."""
    task_id = path_id(request, "task_id")
    body = await read_json_object(request)
    key = body.get("client_key") or request.headers.get("Idempotency-Key")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        result = svc.campaigns.submit(session, actor, task_id, body.get("data"), key)
        return result.view, result.replayed

    view, replayed = await run_work(request, work, commit=True)
    return JSONResponse(
        view,
        status_code=200 if replayed else 201,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
    )


@describe(body=docs.RETURN, response=docs.TASK)
@requires(REVIEW)
async def return_task(request: Request) -> Response:
    """Send a submission back to the committee with a comment."""
    task_id = path_id(request, "task_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        task = svc.campaigns.return_task(session, actor, task_id, body.get("comment"))
        campaign = session.get(Campaign, task.campaign_id)
        return svc.campaigns.task_view(session, task, campaign)  # type: ignore[no-any-return]

    return JSONResponse(await run_work(request, work, commit=True))
