"""``/api/v1/campaigns``: opening a campaign, its progress, reminders, results and exports."""

from __future__ import annotations

import urllib.parse
from datetime import date
from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.csvfiles import csv_chunks
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import describe
from shequyun_sdk.params import path_id, query_int
from shequyun_sdk.web import JSONResponse
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..identity.auth import request_actor
from ..identity.models import OrgUnit
from ..replicas import reads_replica
from ..spreadsheets import xlsx_chunks
from . import api_schemas as docs
from . import follow_up
from .api_support import XLSX_TYPE, kernel_of, run_work, within_unit
from .campaigns import RESULTS, REVIEW
from .for_plugins import campaign_view
from .forms import PUBLISH
from .models import Task
from .results import ExportColumns, aggregate, overdue, progress, task_scope


@describe(body=docs.NEW_CAMPAIGN, response=docs.CAMPAIGN, status=201)
@requires(PUBLISH)
async def open_campaign(request: Request) -> Response:
    """Send a published form version to units within your grant, with a deadline."""
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.open(session, actor, body)
        session.flush()
        view = campaign_view(session, campaign)
        view["tasks"] = len(
            list(session.exec(select(Task.id).where(Task.campaign_id == campaign.id)))
        )
        return view

    return JSONResponse(await run_work(request, work, commit=True), status_code=201)


@describe(response=docs.CAMPAIGNS)
@requires()
async def list_campaigns(request: Request) -> Response:
    """Campaigns you published or that reach your units, with your part of the progress."""
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {
                **campaign_view(session, item["campaign"]),
                "published_here": item["published_here"],
                "expected": item["expected"],
                "submitted": item["submitted"],
            }
            for item in svc.campaigns.listing(session, actor)
        ]

    return JSONResponse({"items": await run_work(request, work, commit=False)})


@describe(response=docs.CAMPAIGN)
@requires()
async def get_campaign(request: Request) -> Response:
    """A campaign you published or have a task in (404 otherwise)."""
    campaign_id = path_id(request, "campaign_id")
    actor = request_actor(request)
    svc = kernel_of(request).collection
    return JSONResponse(
        await run_work(
            request,
            lambda s: campaign_view(s, svc.campaigns.get(s, actor, campaign_id)),
            commit=False,
        )
    )


@reads_replica
@describe(query=[docs.LEVEL, docs.WITHIN], response=docs.PROGRESS)
@requires(RESULTS)
async def campaign_progress(request: Request) -> Response:
    """Live completion by ``level`` (district, street, committee) within ``within``."""
    campaign_id = path_id(request, "campaign_id")
    level = request.query_params.get("level", "district")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return progress(
            session, actor, campaign, level, within_unit(session, actor, request, RESULTS)
        )

    return JSONResponse(await run_work(request, work, commit=False))


@reads_replica
@describe(query=[docs.WITHIN], response=docs.OVERDUE)
@requires(RESULTS)
async def campaign_overdue(request: Request) -> Response:
    """Committees that have not submitted yet."""
    campaign_id = path_id(request, "campaign_id")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return overdue(session, actor, campaign, within_unit(session, actor, request, RESULTS))

    return JSONResponse({"items": await run_work(request, work, commit=False)})


@describe(query=[docs.WITHIN], response=docs.REMINDED)
@requires(REVIEW)
async def remind(request: Request) -> Response:
    """Remind every committee (within scope) that has not submitted: one event per committee.

    Delivery (in-app, SMS, messaging) is for plugins subscribing to ``collection.reminder``.
    """
    campaign_id = path_id(request, "campaign_id")
    actor = request_actor(request)
    campaigns = kernel_of(request).collection.campaigns
    within = request.query_params.get("within")

    def work(session: Session) -> int:
        return follow_up.remind(campaigns, session, actor, campaign_id, within)

    return JSONResponse({"reminded": await run_work(request, work, commit=True)})


@reads_replica
@describe(query=[docs.LEVEL, docs.WITHIN], response=docs.RESULTS)
@requires(RESULTS)
async def campaign_results(request: Request) -> Response:
    """Aggregates per question and per unit of ``level`` (submitted answers only)."""
    campaign_id = path_id(request, "campaign_id")
    level = request.query_params.get("level", "district")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        return aggregate(
            session, actor, campaign, level, within_unit(session, actor, request, RESULTS)
        )

    return JSONResponse(await run_work(request, work, commit=False))


@describe(
    query=[docs.EXPORT_FORMAT, docs.WITHIN, docs.EXPORT_ROWS],
    responses={
        "200": {
            "description": "文件（流式）",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                docs.XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
@requires(RESULTS)
async def campaign_export(request: Request) -> Response:
    """Every submitted answer as CSV (UTF-8 with BOM) or XLSX, streamed without a row limit.

    Times are Beijing time; ``rows=<table column>`` gives one line per row of that table.
    """
    campaign_id = path_id(request, "campaign_id")
    file_format = request.query_params.get("format", "csv")
    if file_format not in follow_up.FORMATS:
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    actor = request_actor(request)
    kernel = kernel_of(request)
    session = Session(kernel.engine, expire_on_commit=False)

    def start() -> follow_up.Export:
        export = follow_up.start_export(
            kernel.collection.campaigns,
            session,
            actor,
            campaign_id,
            within_code=request.query_params.get("within"),
            file_format=file_format,
            site=str(request.base_url).rstrip("/"),
            table=request.query_params.get("rows") or None,
        )
        session.commit()  # the audit entry, before the first row leaves
        return export

    try:
        export = await run_in_threadpool(start)
    except BaseException:
        session.close()
        raise
    campaign, header, rows = export.campaign, export.header, export.rows

    def chunks() -> Any:
        try:
            if file_format == "xlsx":
                yield from xlsx_chunks(campaign.title, header, rows)
            else:
                yield from csv_chunks(rows, header=header)
        finally:
            session.close()

    name = urllib.parse.quote(f"{campaign.title}_{date.today().isoformat()}.{file_format}")
    return StreamingResponse(
        chunks(),
        media_type=XLSX_TYPE if file_format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@describe(query=docs.PAGE, response=docs.SUBMISSIONS)
@requires(RESULTS)
async def campaign_submissions(request: Request) -> Response:
    """Submitted answers for bureau systems: keyset pages (``cursor``), ``limit`` ≤ 500."""
    campaign_id = path_id(request, "campaign_id")
    actor = request_actor(request)
    after = query_int(request, "cursor", 0)
    limit = query_int(request, "limit", 100, low=1, high=500)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        columns = ExportColumns(session, campaign)
        tasks = list(
            session.exec(
                select(Task, OrgUnit)
                .join(OrgUnit, col(OrgUnit.id) == Task.unit_id)
                .where(*task_scope(actor, campaign, None))
                .where(Task.status == "submitted", col(Task.id) > after)
                .order_by(col(Task.id))
                .limit(limit)
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
            "next_cursor": str(items[-1]["task_id"]) if len(items) == limit else None,
        }

    return JSONResponse(await run_work(request, work, commit=False))
