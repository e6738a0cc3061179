"""Importing (批量导入) and downloading (下载) residents in the portal.

An import is uploaded, checked into a row report and applied on confirmation; a download names
its columns and its purpose. Both run the engines the API runs.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.csvfiles import csv_bytes
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import query_int
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ..identity.auth import client_ip
from ..portal.common import actor_of, db, kernel_of, page, render
from ..sessions import download_engine
from .api import filters_from
from .exporting import ResidentExport, check_purpose, column_catalogue, resolve_columns
from .importing import MAX_IMPORT_BYTES, ImportReport, apply_import, plan_import
from .models import REGISTRATIONS
from .pages_support import EXPORT, IMPORT, errors_of, field_titles, page_crumbs, tr
from .service import REVEAL, ResidentFilters

#: Row problems shown on the import report page; the full list is a CSV download.
SHOWN_ERRORS = 500
#: An uploaded file waits this long for its "确认导入".
PENDING_SECONDS = 3600
TEMPLATE_HEADERS = (
    "姓名,性别,出生日期,身份证号,联系电话,户籍类型,所属居委编码,小区,楼栋,单元,室,户号,标签"
)


# -- import ---------------------------------------------------------------------------------


def _pending_dir(request: Request) -> Path:
    path = Path(kernel_of(request).settings.data_dir) / "pending_imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _keep_upload(
    request: Request, actor: Actor, data: bytes, filename: str, report: ImportReport
) -> str:
    """Keep an uploaded file (and its report) until it is confirmed, for an hour at most."""
    folder = _pending_dir(request)
    now = time.time()
    for old in folder.iterdir():  # whatever nobody confirmed
        if now - old.stat().st_mtime > PENDING_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    meta = {
        "user_id": actor.user_id,
        "grant_id": actor.grant_id,
        "filename": filename,
        "report": report.to_dict(),
    }
    for suffix, content in ((".data", data), (".json", json.dumps(meta).encode())):
        target = folder / f"{token}{suffix}"
        target.touch(mode=0o600)
        target.write_bytes(content)
    return token


def _pending(request: Request, actor: Actor, token: str) -> tuple[Path, dict[str, Any]] | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 40:
        return None
    folder = _pending_dir(request)
    data, meta_path = folder / f"{token}.data", folder / f"{token}.json"
    if not data.is_file() or not meta_path.is_file():
        return None
    if time.time() - meta_path.stat().st_mtime > PENDING_SECONDS:
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("user_id") != actor.user_id or meta.get("grant_id") != actor.grant_id:
        return None
    return data, meta


def _drop_pending(request: Request, token: str) -> None:
    folder = _pending_dir(request)
    for suffix in (".data", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _import_context(request: Request, **values: Any) -> dict[str, Any]:
    return {
        "breadcrumbs": page_crumbs(
            request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("批量导入", None)
        ),
        "errors": {},
        "report": None,
        "token": None,
        "shown_errors": SHOWN_ERRORS,
        **values,
    }


@page(IMPORT)
async def import_page(request: Request) -> Response:
    """Step 1 (upload) and step 2 (the dry run's row report)."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    if request.method == "GET":
        params = request.query_params
        notice = None
        if params.get("done") == "1":
            counts = {
                k: query_int(request, k, 0, high=2**62) for k in ("created", "updated", "unchanged")
            }
            notice = tr(
                request,
                "导入完成：新增 {created} 人，更新 {updated} 人，未变 {unchanged} 人。",
                **counts,
            )
        return render(request, "residents/import.html", _import_context(request, notice=notice))
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        data, filename = b"", ""
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_IMPORT_BYTES + 1)
            filename = upload.filename or ""
    if not data:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": "请选择要导入的 CSV 或 XLSX 文件"}),
            status_code=422,
        )
    try:
        report = await run_in_threadpool(plan_import, kernel, actor, data, filename)
    except ValidationFailed as exc:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": exc.message}, filename=filename),
            status_code=422,
        )
    token = await run_in_threadpool(_keep_upload, request, actor, data, filename, report)
    return render(
        request,
        "residents/import.html",
        _import_context(request, report=report, token=token, filename=filename),
    )


@page(IMPORT)
async def import_confirm(request: Request) -> Response:
    """Step 3: import the checked file, all or nothing."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    form = await request.form()
    token = str(form.get("token") or "")
    pending = await run_in_threadpool(_pending, request, actor, token)
    if pending is None:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": "上传的文件已过期或已导入，请重新上传"}),
            status_code=422,
        )
    path, meta = pending
    data = await run_in_threadpool(path.read_bytes)
    filename = str(meta.get("filename") or "")
    report = await run_in_threadpool(
        lambda: apply_import(kernel, actor, data, filename, client_ip=client_ip(request))
    )
    if not report.applied:
        # The data changed since the dry run (someone registered one of these meanwhile).
        return render(
            request,
            "residents/import.html",
            _import_context(request, report=report, token=token, filename=filename),
            status_code=422,
        )
    await run_in_threadpool(_drop_pending, request, token)
    query = urlencode(
        {
            "done": "1",
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
    )
    return RedirectResponse(f"/residents/import?{query}", status_code=303)


@page(IMPORT)
async def import_errors(request: Request) -> Response:
    """The full row report of a checked file, as a CSV to open next to the file."""
    actor = actor_of(request)
    pending = await run_in_threadpool(_pending, request, actor, str(request.path_params["token"]))
    if pending is None:
        raise NotFound("问题清单已过期，请重新上传文件")
    # The file's own header cells come back in "列" and in messages: never as formulas.
    rows = ([e["row"], e["column"], e["message"]] for e in pending[1]["report"]["errors"])
    return Response(
        csv_bytes(rows, header=["行", "列", "问题"]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="import_problems.csv"',
            "Cache-Control": "no-store",
        },
    )


@page(IMPORT)
async def import_template(request: Request) -> Response:
    """An empty file with the headers the import understands."""
    return Response(
        ("\ufeff" + TEMPLATE_HEADERS + "\r\n").encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="residents_template.csv"'},
    )


# -- export ---------------------------------------------------------------------------------


@page(EXPORT)
async def export_page(request: Request) -> Response:
    """Choose columns and a format, state the purpose, download (streamed, audited)."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    vocabulary = kernel.residents.vocabulary
    errors: dict[str, str] = {}
    try:
        filters = filters_from(request)
    except ValidationFailed as exc:
        errors = errors_of(exc)
        filters = ResidentFilters(q=None)
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if v])
    catalogue = column_catalogue(vocabulary)
    can_reveal = actor.has(REVEAL)
    values: dict[str, Any] = {
        "columns": [c.key for c in catalogue if not c.sensitive],
        "format": "csv",
        "purpose": "",
        "include_sensitive": False,
    }
    if request.method == "POST" and not errors:
        form = await request.form()
        values = {
            "columns": [c for c in form.getlist("columns") if isinstance(c, str)],
            "format": str(form.get("format") or ""),
            "purpose": str(form.get("purpose") or "").strip(),
            "include_sensitive": can_reveal and form.get("include_sensitive") == "1",
        }
        columns = []
        try:
            if not values["columns"]:
                raise ValidationFailed("请至少选择一列", field="columns")
            columns = resolve_columns(vocabulary, ",".join(values["columns"]))
        except ValidationFailed as exc:
            errors["columns"] = exc.message
        try:
            check_purpose(values["purpose"])
        except ValidationFailed as exc:
            errors["purpose"] = exc.message
        if values["format"] not in {"csv", "xlsx"}:
            errors["format"] = "请选择 CSV 或 Excel（XLSX）"
        if not errors:
            export = ResidentExport(
                kernel,
                actor,
                filters,
                columns,
                purpose=values["purpose"],
                file_format=values["format"],
                reveal=values["include_sensitive"],
                reading=await run_in_threadpool(download_engine, request),
            )
            rows = await run_in_threadpool(export.start, client_ip=client_ip(request))
            return StreamingResponse(
                export.chunks(),
                media_type=export.media_type,
                headers={
                    "Content-Disposition": export.content_disposition(),
                    "Cache-Control": "no-store",
                    "X-Row-Count": str(rows),
                },
            )

    def count(session: Session) -> int:
        scoped = kernel.residents.scoped_query(actor, filters, EXPORT)
        return int(session.exec(select(func.count()).select_from(scoped.subquery())).one())

    return render(
        request,
        "residents/export.html",
        {
            "catalogue": catalogue,
            "v": values,
            "errors": errors,
            "titles": field_titles(vocabulary),
            "rows": await db(request, count),
            "query": query,
            "filters": _filter_summary(request),
            "can_reveal": can_reveal,
            "breadcrumbs": page_crumbs(
                request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("下载", None)
            ),
        },
        status_code=422 if errors else 200,
    )


def _filter_summary(request: Request) -> list[tuple[str, str]]:
    """The list's filters as the cadre chose them, to say what the download holds."""
    params = request.query_params
    titles = {
        "q": "姓名",
        "tag": "标签",
        "compound": "小区",
        "building": "楼栋",
        "unit": "居委编码",
    }
    shown = [(titles[k], v) for k, v in params.multi_items() if k in titles and v]
    if params.get("age_min") or params.get("age_max"):
        shown.append(("年龄", f"{params.get('age_min') or 0}–{params.get('age_max') or ''}"))
    if params.get("registration"):
        registration = params["registration"]
        shown.append(("户籍类型", REGISTRATIONS.get(registration, registration)))
    chosen = len(set(params.getlist("id")))
    if chosen:
        shown.append(("在名单中勾选", tr(request, "{n} 人", n=chosen)))
    return shown
