"""Routes of the attachment store: upload (API), metadata, and content (API and portal)."""

from __future__ import annotations

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import actor_from_request, requires
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import describe
from .responses import file_response
from .service import AttachmentService, to_ref

__all__ = ["API_ROUTES", "PORTAL_ROUTES", "read_upload"]


def _service(request: Request) -> AttachmentService:
    service: AttachmentService = request.app.state.kernel.attachments
    return service


async def read_upload(request: Request, field: str = "file") -> tuple[str, bytes]:
    """The one file of a multipart request under ``field``: its name and its bytes (bounded)."""
    limit = _service(request).max_bytes
    try:
        async with request.form(max_files=1, max_fields=10, max_part_size=64 * 1024) as form:
            upload = form.get(field)
            if not isinstance(upload, UploadFile):
                raise ValidationFailed("请选择要上传的文件（multipart 表单字段 file）", field=field)
            data = await upload.read(limit + 1)
            return upload.filename or "", data
    except HTTPException as exc:  # a malformed multipart body
        raise ValidationFailed(f"上传的表单无法读取：{exc.detail}", field=field) from exc


_ATTACHMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^att_"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "kind": {"type": "string", "enum": ["image", "document"]},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "url": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "claimed": {"type": "boolean"},
        "public": {"type": "boolean"},
    },
}


@describe(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    },
    responses={
        "201": {
            "description": "已保存（尚未被记录引用）",
            "content": {"application/json": {"schema": _ATTACHMENT}},
        },
        "413": {"description": "文件太大"},
        "415": {"description": "不支持的文件类型"},
    },
)
@requires()
async def upload(request: Request) -> Response:
    """Upload one file (multipart field ``file``); 201 with the unclaimed attachment.

    Refer to its ``id`` from a record (a collection answer, a plugin's form) to attach it;
    until then only you can read it, and it is removed after a week.
    """
    name, data = await read_upload(request)
    kernel = request.app.state.kernel
    actor = actor_from_request(request)
    service = _service(request)

    def keep() -> dict[str, object]:
        with Session(kernel.engine) as session:
            row = service.store(session, data=data, filename=name, actor=actor)
            session.commit()
            return to_ref(row).to_dict()

    return JSONResponse(await run_in_threadpool(keep), status_code=201)


@describe(
    responses={
        "200": {"description": "附件信息", "content": {"application/json": {"schema": _ATTACHMENT}}}
    }
)
async def metadata(request: Request) -> Response:
    """One attachment's name, type, size and hash; 404 to those who may not read it."""
    kernel = request.app.state.kernel
    actor = actor_from_request(request)
    service = _service(request)
    attachment_id = request.path_params["attachment_id"]

    def read() -> dict[str, object]:
        with Session(kernel.engine) as session:
            row = service.get(session, attachment_id)
            if row is None or not service.can_read(session, actor, row):
                raise NotFound("附件不存在", field="attachment_id")
            return to_ref(row).to_dict()

    return JSONResponse(await run_in_threadpool(read))


@describe(
    parameters=[{"name": "download", "in": "query", "schema": {"type": "string", "enum": ["1"]}}],
    responses={
        "200": {
            "description": "文件内容",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def content(request: Request) -> Response:
    """The file itself (``?download=1`` to save it rather than show it)."""
    kernel = request.app.state.kernel
    actor = actor_from_request(request)
    service = _service(request)
    attachment_id = request.path_params["attachment_id"]

    def read() -> Response:
        with Session(kernel.engine) as session:
            row = service.get(session, attachment_id)
            if row is None or not service.can_read(session, actor, row):
                raise NotFound("附件不存在", field="attachment_id")
            if not service.blobs.exists(row.sha256):
                raise NotFound("附件的文件已丢失，请联系运维人员", field="attachment_id")
            download = request.query_params.get("download") == "1"
            return file_response(service, row, download=download)

    return await run_in_threadpool(read)


API_ROUTES: list[BaseRoute] = [
    Route("/attachments", upload, methods=["POST"]),
    Route("/attachments/{attachment_id}", metadata, methods=["GET"]),
    Route("/attachments/{attachment_id}/content", content, methods=["GET"]),
]
PORTAL_ROUTES: list[BaseRoute] = [Route("/attachments/{attachment_id}", content, methods=["GET"])]
