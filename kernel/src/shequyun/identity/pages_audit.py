"""审计日志: the audit log of the admin's subtree, filtered, newest first, paged by cursor.

The filters are the API's (:func:`~shequyun.identity.audit_log.parse_filters`) and so is the
query (:func:`~shequyun.identity.audit_log.query_entries`), limited to the entries the reader
may see; the page only turns the form's dates (Beijing days) into the API's moments and shows
the entries in Chinese.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ValidationFailed
from shequyun_sdk.csvfiles import csv_bytes
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..portal.common import SHANGHAI, actor_of, db, kernel_of, page, render
from ..spreadsheets import xlsx_chunks
from . import audit_log, audit_reading
from .pages_admin import AUDIT_READ, crumbs, errors_of, tr

__all__ = ["ROUTES"]

PAGE_SIZE = 50
#: A download holds at most this many entries (newest first); narrow the filters for more.
EXPORT_LIMIT = 5000
FIELDS = ("action", "outcome", "actor", "unit", "date_from", "date_to", "target_type", "target_id")
#: The API's parameter each form field feeds, to put its errors next to the right field.
API_FIELDS = {"from": "date_from", "to": "date_to"}


def _api_params(
    shown: dict[str, str], cursor: str, limit: int
) -> tuple[QueryParams, dict[str, str]]:
    """The API's query for the form's values; problems with the dates by form field."""
    errors: dict[str, str] = {}
    texts = ("action", "outcome", "actor", "unit", "target_type", "target_id")
    query = {k: shown[k] for k in texts if shown[k]}
    for name, key, shift in (("date_from", "from", 0), ("date_to", "to", 1)):
        if not shown[name]:
            continue
        try:
            day = date.fromisoformat(shown[name]) + timedelta(days=shift)
        except ValueError:
            errors[name] = "日期格式应为 2025-01-01"
            continue
        query[key] = f"{day.isoformat()}T00:00:00+08:00"  # whole days in Beijing time
    if cursor:
        query["cursor"] = cursor
    query["limit"] = str(limit)
    return QueryParams(query), errors


def catalogue(request: Request) -> audit_reading.ActionCatalogue:
    """The kernel's actions and those of the active plugins."""
    kernel = kernel_of(request)
    records = kernel.host.records.values()
    return audit_reading.catalogue_of(
        (r.manifest for r in records if r.active and r.manifest), kernel.residents.field_titles()
    )


def _filters(request: Request, *, limit: int) -> tuple[dict[str, str], Any, dict[str, str]]:
    params = request.query_params
    shown = {k: params.get(k, "").strip()[:80] for k in FIELDS}
    cursor = params.get("cursor", "").strip()[:12]
    query, errors = _api_params(shown, cursor, min(limit, audit_log.MAX_LIMIT))
    filters = None
    if not errors:
        try:
            filters = replace(audit_log.parse_filters(query), limit=limit)
        except ValidationFailed as exc:
            errors = {API_FIELDS.get(k, k): v for k, v in errors_of(exc).items()}
    return shown, filters, errors


@page(AUDIT_READ)
async def audit_page(request: Request) -> Response:
    actor = actor_of(request)
    shown, filters, errors = _filters(request, limit=PAGE_SIZE)
    actions = catalogue(request)
    entries: list[audit_reading.ReadableEntry] = []
    next_cursor = None
    if filters is not None:

        def fetch(session: Session) -> tuple[list[audit_reading.ReadableEntry], str | None]:
            rows = audit_log.query_entries(session, actor, filters)
            more = str(rows[PAGE_SIZE - 1][0].id) if len(rows) > PAGE_SIZE else None
            return audit_reading.readable(session, actor, rows[:PAGE_SIZE], actions), more

        try:
            entries, next_cursor = await db(request, fetch)
        except ValidationFailed as exc:
            errors = {API_FIELDS.get(k, k): v for k, v in errors_of(exc).items()}
    filters_only = {k: v for k, v in shown.items() if v}
    cursor = request.query_params.get("cursor")
    return render(
        request,
        "admin/audit.html",
        {
            "f": shown,
            "entries": entries,
            "errors": errors,
            "outcomes": audit_reading.OUTCOMES,
            "groups": actions.groups,
            "known_action": shown["action"] in actions.titles
            or any(shown["action"] == g[0] for g in actions.groups),
            "query": urlencode(filters_only),
            "export_limit": EXPORT_LIMIT,
            "next_href": f"?{urlencode({**filters_only, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_href": f"?{urlencode(filters_only)}" if cursor else None,
            "breadcrumbs": crumbs(request, (tr(request, "审计日志"), None)),
        },
        status_code=422 if errors else 200,
    )


@page(AUDIT_READ)
async def audit_export(request: Request) -> Response:
    """The filtered log as CSV or XLSX, newest first, as people read it; the download is audited."""
    actor = actor_of(request)
    fmt = request.query_params.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    shown, filters, errors = _filters(request, limit=EXPORT_LIMIT)
    if filters is None:
        raise ValidationFailed(next(iter(errors.values())), field=next(iter(errors)))
    actions = catalogue(request)

    def fetch(session: Session) -> list[list[str]]:
        return audit_reading.export_rows(
            session, actor, filters, actions, {k: v for k, v in shown.items() if v}, fmt
        )

    rows = await db(request, fetch, commit=True)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    name = f"audit-{stamp}.{fmt}"
    header = [tr(request, t) for t in audit_reading.EXPORT_HEADER]
    if fmt == "xlsx":
        return StreamingResponse(
            xlsx_chunks("审计日志", header, rows, widths=[20, 18, 22, 14, 16, 26, 24, 40, 8, 16]),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        csv_bytes(rows, header=header),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES: list[BaseRoute] = [
    Route("/admin/audit", audit_page, methods=["GET"]),
    Route("/admin/audit/export", audit_export, methods=["GET"]),
]
