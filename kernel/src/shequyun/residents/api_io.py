"""``/api/v1/residents/import`` and ``/api/v1/residents/export``: files in and out."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import Actor, requires
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..identity.auth import client_ip, request_actor
from ..openapi import describe
from ..replicas import reads_replica
from ..sessions import reading_engine
from .api import filters_from
from .api_schemas import FILTERS
from .exporting import EXPORT, FORMATS, REVEAL, ResidentExport, check_purpose, resolve_columns
from .importing import IMPORT, MAX_IMPORT_BYTES, apply_import, plan_import

__all__ = ["ROUTES"]


def _actor(request: Request) -> Actor:
    actor = request_actor(request)
    assert actor is not None  # the route is guarded by requires()
    return actor


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = (request.query_params.get(name) or "").lower()
    if raw == "":
        return default
    if raw in {"true", "1", "yes"}:
        return True
    if raw in {"false", "0", "no"}:
        return False
    raise ValidationFailed(f"{name} 应为 true 或 false", field=name)


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


@reads_replica
@describe(
    parameters=[
        {
            **_param("purpose", {"type": "string", "minLength": 2, "maxLength": 200}, "下载用途"),
            "required": True,
        },
        _param("format", {"enum": ["csv", "xlsx"], "default": "csv"}, "文件格式"),
        _param("columns", {"type": "string"}, "列（逗号分隔的列名或中文表头；缺省为全部）"),
        _param(
            "include_sensitive",
            {"type": "boolean", "default": False},
            "完整导出身份证号、电话等敏感列（需要 residents.reveal）",
        ),
        *FILTERS,
    ],
    responses={
        "200": {
            "description": "文件（流式传输）；X-Row-Count 为行数",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        },
    },
)
@requires(EXPORT)
async def export_residents(request: Request) -> Response:
    """Download the residents you may see as CSV or XLSX, with a stated ``purpose``.

    Takes the list's filters; ``columns`` (comma-separated keys or Chinese headers, all when
    absent); ``include_sensitive=true`` exports ID and phone numbers in full and needs
    ``residents.reveal``. Audited when it starts; streamed.
    """
    kernel = request.app.state.kernel
    actor = _actor(request)
    params = request.query_params
    purpose = check_purpose(params.get("purpose"))
    file_format = (params.get("format") or "csv").lower()
    if file_format not in FORMATS:
        raise ValidationFailed("format 应为 csv 或 xlsx", field="format")
    filters = filters_from(request)
    columns = resolve_columns(kernel.residents.vocabulary, params.get("columns"))
    reveal = _flag(request, "include_sensitive", False)
    if reveal and not actor.has(REVEAL):
        await run_in_threadpool(request.app.state.platform.audit_denial, request, actor, REVEAL)
    export = ResidentExport(
        kernel,
        actor,
        filters,
        columns,
        purpose=purpose,
        file_format=file_format,
        reveal=reveal,
        # Chosen off the event loop: picking a replica may check the replicas' health.
        reading=await run_in_threadpool(reading_engine, request),
    )
    rows = await run_in_threadpool(export.start, client_ip=client_ip(request))
    return StreamingResponse(
        export.chunks(),  # a synchronous iterator: Starlette runs it in the thread pool
        media_type=export.media_type,
        headers={
            "Content-Disposition": export.content_disposition(),
            "Cache-Control": "no-store",
            "X-Row-Count": str(rows),
        },
    )


_REPORT = {
    "type": "object",
    "properties": {
        "dry_run": {"type": "boolean"},
        "applied": {"type": "boolean"},
        "rows": {"type": "integer"},
        "valid": {"type": "integer"},
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "error_count": {"type": "integer"},
        "errors_truncated": {"type": "boolean"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer"},
                    "column": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


@describe(
    parameters=[_param("dry_run", {"type": "boolean", "default": True}, "只检查，不写入")],
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
    responses={
        "200": {
            "description": "检查报告（dry_run=true），或导入结果",
            "content": {"application/json": {"schema": _REPORT}},
        },
        "422": {"description": "文件有错误行（errors 与 error.details），未写入任何数据"},
    },
)
@requires(IMPORT)
async def import_residents(request: Request) -> Response:
    """Import residents from a CSV or XLSX file (multipart field ``file``).

    ``dry_run`` (default true) checks every row and writes nothing. With ``dry_run=false`` the
    file is imported all or nothing: 200 with the counts, or 422 with the full report.
    """
    kernel = request.app.state.kernel
    actor = _actor(request)
    dry_run = _flag(request, "dry_run", True)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("请以表单字段 file 上传 CSV 或 XLSX 文件", field="file")
        data = await upload.read(MAX_IMPORT_BYTES + 1)
        filename = upload.filename or ""
    if dry_run:
        report = await run_in_threadpool(plan_import, kernel, actor, data, filename)
        return JSONResponse(report.to_dict())
    report = await run_in_threadpool(
        lambda: apply_import(kernel, actor, data, filename, client_ip=client_ip(request))
    )
    body: dict[str, Any] = report.to_dict()
    if not report.applied:
        body["error"] = {
            "code": "validation_failed",
            "message": f"文件中有 {report.error_count} 处错误，未导入任何数据",
            "field": "file",
            "details": [e.to_dict() for e in report.errors],
        }
        return JSONResponse(body, status_code=422)
    return JSONResponse(body)


ROUTES: list[BaseRoute] = [
    Route("/residents/export", export_residents, methods=["GET"]),
    Route("/residents/import", import_residents, methods=["POST"]),
]
