"""``/api/v1/forms``, ``/campaigns`` and ``/tasks``: one-click collection over HTTP."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import date
from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.web import JSONResponse
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..identity import audit, scope
from ..identity.auth import request_actor, unit_ref
from ..identity.models import OrgUnit
from ..spreadsheets import xlsx_chunks
from .campaigns import FILL, RESULTS, REVIEW, _aware
from .forms import PUBLISH, form_view, version_view
from .models import Campaign, Form, FormVersion, Task
from .results import aggregate, csv_chunks, export_rows, overdue, progress

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

__all__ = ["ROUTES"]


def _kernel(request: Request) -> Any:
    return request.app.state.kernel


async def _run(request: Request, work: Callable[[Session], Any], *, commit: bool) -> Any:
    engine = _kernel(request).engine

    def run() -> Any:
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            if commit:
                session.commit()
            return result

    return await run_in_threadpool(run)


def _id(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed("编号无效", field=name)
    return int(raw)


def _within(session: Session, actor: Any, request: Request, permission: str) -> OrgUnit | None:
    code = request.query_params.get("within")
    if not code:
        return None
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None or not scope.can(actor, permission, unit_ref(unit)):
        raise ValidationFailed("within：找不到该单位或不在您的范围内", field="within")
    return unit


# -- forms -------------------------------------------------------------------------------


@requires(PUBLISH)
async def list_forms(request: Request) -> Response:
    """Forms owned by units within your grant."""
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            form_view(f, svc.forms.versions(session, f.id or 0))
            for f in svc.forms.list(session, actor)
        ]

    return JSONResponse({"items": await _run(request, work, commit=False)})


@requires(PUBLISH)
async def create_form(request: Request) -> Response:
    """Create a form with its first draft version (schema and UI are checked first)."""
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        form = svc.forms.create(session, actor, body)
        session.flush()
        return form_view(form, svc.forms.versions(session, form.id or 0))

    return JSONResponse(await _run(request, work, commit=True), status_code=201)


@requires(PUBLISH)
async def get_form(request: Request) -> Response:
    """A form and its versions."""
    form_id = _id(request, "form_id")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        form = svc.forms.get(session, actor, form_id)
        return form_view(form, svc.forms.versions(session, form_id))

    return JSONResponse(await _run(request, work, commit=False))


@requires(PUBLISH)
async def save_draft_version(request: Request) -> Response:
    """Create the next draft version or replace the current draft."""
    form_id = _id(request, "form_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = _kernel(request).collection
    version = await _run(
        request, lambda s: version_view(svc.forms.save_draft(s, actor, form_id, body)), commit=True
    )
    return JSONResponse(version, status_code=201)


@requires(PUBLISH)
async def get_version(request: Request) -> Response:
    """One version with its schema, UI layer and stable export columns."""
    form_id, number = _id(request, "form_id"), _id(request, "number")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        svc.forms.get(session, actor, form_id)
        return version_view(svc.forms.version(session, form_id, number))

    return JSONResponse(await _run(request, work, commit=False))


@requires(PUBLISH)
async def publish_version(request: Request) -> Response:
    """Publish a draft version: from now on it never changes."""
    form_id, number = _id(request, "form_id"), _id(request, "number")
    actor = request_actor(request)
    svc = _kernel(request).collection
    return JSONResponse(
        await _run(
            request,
            lambda s: version_view(svc.forms.publish(s, actor, form_id, number)),
            commit=True,
        )
    )


# -- campaigns ---------------------------------------------------------------------------


def campaign_view(session: Session, campaign: Campaign) -> dict[str, Any]:
    version = session.get(FormVersion, campaign.form_version_id)
    assert version is not None
    form = session.get(Form, version.form_id)
    assert form is not None
    return {
        "id": campaign.id,
        "title": campaign.title,
        "instructions": campaign.instructions,
        "form": {"id": form.id, "title": form.title, "version": version.number},
        "mode": campaign.mode,
        "roster_filter": campaign.roster_filter,
        "writeback": campaign.writeback,
        "status": campaign.status,
        "starts_at": _aware(campaign.starts_at).isoformat(),
        "deadline": _aware(campaign.deadline).isoformat(),
    }


@requires(PUBLISH)
async def open_campaign(request: Request) -> Response:
    """Send a published form version to units within your grant, with a deadline."""
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.open(session, actor, body)
        session.flush()
        view = campaign_view(session, campaign)
        view["tasks"] = len(
            list(session.exec(select(Task.id).where(Task.campaign_id == campaign.id)))
        )
        return view

    return JSONResponse(await _run(request, work, commit=True), status_code=201)


@requires()
async def list_campaigns(request: Request) -> Response:
    """Campaigns published within your grant."""
    actor = request_actor(request)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = session.exec(
            select(Campaign)
            .where(scope.scope_filter(actor, PUBLISH, Campaign.publisher_unit_id))
            .order_by(col(Campaign.id).desc())
            .limit(200)
        )
        return [campaign_view(session, c) for c in rows]

    return JSONResponse({"items": await _run(request, work, commit=False)})


@requires()
async def get_campaign(request: Request) -> Response:
    """A campaign you published or have a task in (404 otherwise)."""
    campaign_id = _id(request, "campaign_id")
    actor = request_actor(request)
    svc = _kernel(request).collection
    return JSONResponse(
        await _run(
            request,
            lambda s: campaign_view(s, svc.campaigns.get(s, actor, campaign_id)),
            commit=False,
        )
    )


@requires(RESULTS)
async def campaign_progress(request: Request) -> Response:
    """Live completion by ``level`` (district, street, committee) within ``within``."""
    campaign_id = _id(request, "campaign_id")
    level = request.query_params.get("level", "district")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return progress(session, actor, campaign, level, _within(session, actor, request, RESULTS))

    return JSONResponse(await _run(request, work, commit=False))


@requires(RESULTS)
async def campaign_overdue(request: Request) -> Response:
    """Committees that have not submitted yet."""
    campaign_id = _id(request, "campaign_id")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return overdue(session, actor, campaign, _within(session, actor, request, RESULTS))

    return JSONResponse({"items": await _run(request, work, commit=False)})


@requires(REVIEW)
async def remind(request: Request) -> Response:
    """Remind every committee (within scope) that has not submitted: one event per committee.

    Delivery (in-app, SMS, messaging) is for plugins subscribing to ``collection.reminder``.
    """
    campaign_id = _id(request, "campaign_id")
    actor = request_actor(request)
    kernel = _kernel(request)
    svc = kernel.collection

    def work(session: Session) -> int:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        pending = overdue(
            session, actor, campaign, _within(session, actor, request, REVIEW), limit=10000
        )
        for item in pending:
            kernel.events.publish(
                session,
                "collection.reminder",
                {
                    "campaign_id": campaign.id,
                    "title": campaign.title,
                    "task_id": item["task_id"],
                    "unit_code": item["unit"]["code"],
                    "deadline": _aware(campaign.deadline).isoformat(),
                },
            )
        audit.record(
            session,
            "collection.reminded",
            actor=actor,
            target_type="campaign",
            target_id=campaign.id,
            detail={"units": len(pending)},
        )
        return len(pending)

    return JSONResponse({"reminded": await _run(request, work, commit=True)})


@requires(RESULTS)
async def campaign_results(request: Request) -> Response:
    """Aggregates per question and per unit of ``level`` (submitted answers only)."""
    campaign_id = _id(request, "campaign_id")
    level = request.query_params.get("level", "district")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return aggregate(session, actor, campaign, level, _within(session, actor, request, RESULTS))

    return JSONResponse(await _run(request, work, commit=False))


@requires(RESULTS)
async def campaign_export(request: Request) -> Response:
    """Every submitted answer as CSV (UTF-8 with BOM) or XLSX, streamed without a row limit."""
    campaign_id = _id(request, "campaign_id")
    file_format = request.query_params.get("format", "csv")
    if file_format not in ("csv", "xlsx"):
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    actor = request_actor(request)
    kernel = _kernel(request)
    svc = kernel.collection
    session = Session(kernel.engine)
    try:
        campaign = await run_in_threadpool(svc.campaigns.get, session, actor, campaign_id)
        within = await run_in_threadpool(_within, session, actor, request, RESULTS)
        site = str(request.base_url).rstrip("/")
        header, rows = export_rows(session, actor, campaign, within, site=site)

        def log() -> None:
            audit.record_now(
                kernel.engine,
                "collection.exported",
                actor=actor,
                target_type="campaign",
                target_id=campaign.id,
                detail={"format": file_format, "within": within.code if within else None},
            )

        await run_in_threadpool(log)
    except BaseException:
        session.close()
        raise

    def chunks() -> Any:
        try:
            if file_format == "xlsx":
                yield from xlsx_chunks(campaign.title, header, rows)
            else:
                yield from csv_chunks(header, rows)
        finally:
            session.close()

    name = urllib.parse.quote(f"{campaign.title}_{date.today().isoformat()}.{file_format}")
    return StreamingResponse(
        chunks(),
        media_type=XLSX_TYPE if file_format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@requires(RESULTS)
async def campaign_submissions(request: Request) -> Response:
    """Submitted answers for bureau systems: keyset pages (``cursor``), ``limit`` ≤ 500."""
    campaign_id = _id(request, "campaign_id")
    actor = request_actor(request)
    raw_after = request.query_params.get("cursor", "0")
    raw_limit = request.query_params.get("limit", "100")
    if not raw_after.isdigit():
        raise ValidationFailed("cursor 应为上一页返回的 next_cursor", field="cursor")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise ValidationFailed("limit 应为 1-500", field="limit")
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        from .results import ExportColumns, _base

        campaign = svc.campaigns.get(session, actor, campaign_id)
        columns = ExportColumns(session, campaign)
        tasks = list(
            session.exec(
                select(Task, OrgUnit)
                .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
                .where(*_base(actor, campaign, None))
                .where(Task.status == "submitted", col(Task.id) > int(raw_after))
                .order_by(col(Task.id))
                .limit(int(raw_limit))
            )
        )
        items = []
        for task, unit in tasks:
            data = (
                {
                    "rows": [
                        {**columns.row(task, r), "resident_id": r.get("resident_id")}
                        for r in task.data.get("rows", [])
                    ]
                }
                if campaign.mode == "roster"
                else columns.row(task, task.data)
            )
            items.append(
                {
                    "task_id": task.id,
                    "unit": {"code": unit.code, "name": unit.name},
                    "submitted_at": task.submitted_at.isoformat() if task.submitted_at else None,
                    "on_time": task.on_time,
                    "version": task.version,
                    "data": data,
                }
            )
        return {
            "items": items,
            "next_cursor": str(items[-1]["task_id"]) if len(items) == int(raw_limit) else None,
        }

    return JSONResponse(await _run(request, work, commit=False))


# -- tasks -------------------------------------------------------------------------------


@requires(FILL)
async def my_tasks(request: Request) -> Response:
    """Your committee's tasks with their deadlines (open campaigns only)."""
    actor = request_actor(request)
    status = request.query_params.get("status") or None
    svc = _kernel(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            svc.campaigns.task_view(session, t, c) | {"data": None}
            for t, c, _u in svc.campaigns.my_tasks(session, actor, status=status)
        ]

    return JSONResponse({"items": await _run(request, work, commit=False)})


@requires()
async def get_task(request: Request) -> Response:
    """A task with its form (schema and UI), answers, roster rows and history."""
    task_id = _id(request, "task_id")
    actor = request_actor(request)
    svc = _kernel(request).collection

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

    return JSONResponse(await _run(request, work, commit=False))


@requires(FILL)
async def save_task_draft(request: Request) -> Response:
    """Save answers without submitting (send the task's ``version``)."""
    task_id = _id(request, "task_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        task = svc.campaigns.save_draft(
            session, actor, task_id, body.get("data"), body.get("version")
        )
        campaign = session.get(Campaign, task.campaign_id)
        return svc.campaigns.task_view(session, task, campaign)  # type: ignore[no-any-return]

    return JSONResponse(await _run(request, work, commit=True))


@requires(FILL)
async def submit_task(request: Request) -> Response:
    """Submit answers. Idempotent: resending the same ``client_key`` changes nothing."""
    task_id = _id(request, "task_id")
    body = await read_json_object(request)
    key = body.get("client_key") or request.headers.get("Idempotency-Key")
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        result = svc.campaigns.submit(session, actor, task_id, body.get("data"), key)
        session.commit()  # before the answer is built: SQLite writers wait for this commit
        campaign = session.get(Campaign, result.task.campaign_id)
        return svc.campaigns.task_view(session, result.task, campaign), result.replayed

    view, replayed = await _run(request, work, commit=False)
    return JSONResponse(
        view,
        status_code=200 if replayed else 201,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
    )


@requires(REVIEW)
async def return_task(request: Request) -> Response:
    """Send a submission back to the committee with a comment."""
    task_id = _id(request, "task_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = _kernel(request).collection

    def work(session: Session) -> dict[str, Any]:
        task = svc.campaigns.return_task(session, actor, task_id, body.get("comment"))
        campaign = session.get(Campaign, task.campaign_id)
        return svc.campaigns.task_view(session, task, campaign)  # type: ignore[no-any-return]

    return JSONResponse(await _run(request, work, commit=True))


ROUTES: list[BaseRoute] = [
    Route("/forms", list_forms, methods=["GET"]),
    Route("/forms", create_form, methods=["POST"]),
    Route("/forms/{form_id}", get_form, methods=["GET"]),
    Route("/forms/{form_id}/versions", save_draft_version, methods=["POST"]),
    Route("/forms/{form_id}/versions/{number}", get_version, methods=["GET"]),
    Route("/forms/{form_id}/versions/{number}/publish", publish_version, methods=["POST"]),
    Route("/campaigns", list_campaigns, methods=["GET"]),
    Route("/campaigns", open_campaign, methods=["POST"]),
    Route("/campaigns/{campaign_id}", get_campaign, methods=["GET"]),
    Route("/campaigns/{campaign_id}/progress", campaign_progress, methods=["GET"]),
    Route("/campaigns/{campaign_id}/overdue", campaign_overdue, methods=["GET"]),
    Route("/campaigns/{campaign_id}/remind", remind, methods=["POST"]),
    Route("/campaigns/{campaign_id}/results", campaign_results, methods=["GET"]),
    Route("/campaigns/{campaign_id}/export", campaign_export, methods=["GET"]),
    Route("/campaigns/{campaign_id}/submissions", campaign_submissions, methods=["GET"]),
    Route("/tasks", my_tasks, methods=["GET"]),
    Route("/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/tasks/{task_id}/draft", save_task_draft, methods=["PUT"]),
    Route("/tasks/{task_id}/submit", submit_task, methods=["POST"]),
    Route("/tasks/{task_id}/return", return_task, methods=["POST"]),
]
