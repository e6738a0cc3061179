"""Files in the portal's collection forms: uploads kept as the form arrives, files described.

A task's form with attachment questions posts ``multipart/form-data``. Each uploaded file is
checked and kept by the attachment store before anything else happens (unclaimed, the cadre's
own), and its id takes the upload's place in the form, so the form reads back as ids and saving
or submitting claims them for the task as an API client's would. A refused file (too big, not a
photo for a photo question) becomes an error at its question; the other answers, and the files
that were accepted, are shown again with it. Every request body is bounded by
``max_body_bytes`` (10 MB) at the door, each file by ``attachment_max_bytes`` (8 MB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shequyun_sdk import ApiError, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..attachments.models import Attachment
from ..attachments.service import AttachmentService
from ..portal.common import db, kernel_of
from ..portal.form_renderer import FileInfo
from .files import FileFields, task_files
from .models import Task

__all__ = [
    "MAX_UPLOADS",
    "Uploads",
    "describe",
    "file_info",
    "read_form",
    "readable_files",
    "store_uploads",
]

#: Files one post may carry; more is refused (the body limit allows one or two photos anyway).
MAX_UPLOADS = 20
#: File inputs one post may have (a roster of 500 residents with two photo columns).
_MAX_FILE_PARTS = 1000
#: Inputs one post may have (a roster's rows times its questions).
_MAX_FIELDS = 20_000


async def read_form(request: Request) -> FormData:
    """The posted form, URL-encoded or multipart, bounded; close it when done."""
    try:
        return await request.form(max_files=_MAX_FILE_PARTS, max_fields=_MAX_FIELDS)
    except HTTPException as exc:  # a malformed or oversized multipart body
        raise ValidationFailed(f"提交的表单无法读取：{exc.detail}", field="form") from None


@dataclass
class Uploads:
    """The posted form with every upload replaced by its attachment id, and refused files."""

    form: FormData
    errors: dict[str, str]


async def store_uploads(
    request: Request, form: FormData, files: FileFields, actor: Actor, *, roster: bool
) -> Uploads:
    """Keep each file uploaded to an attachment question; see the module's rules.

    Files posted under any other name are dropped; text with a NUL character is a 400, as the
    door does for URL-encoded forms (it leaves multipart bodies alone, files hold NUL bytes).
    """
    service = kernel_of(request).attachments
    items: list[tuple[str, Any]] = []
    wanted: list[tuple[int, str, str, bytes, tuple[str, ...]]] = []
    errors: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, UploadFile):
            if "\x00" in key or "\x00" in value:
                raise ApiError(
                    "请求中含有不允许的控制字符", code="invalid_characters", status_code=400
                )
            items.append((key, value))
            continue
        field = files.field_of(key, roster=roster)
        if field is None or (not value.filename and not value.size):
            continue  # not a file question, or a file input left empty
        if len(wanted) == MAX_UPLOADS:
            errors.setdefault(key, f"一次最多上传 {MAX_UPLOADS} 个文件，请分几次保存")
            continue
        data = await value.read(service.max_bytes + 1)
        wanted.append((len(items), key, value.filename or "", data, files.accept(field)))
        items.append((key, None))
    if wanted:

        def keep(session: Session) -> dict[int, str]:
            ids: dict[int, str] = {}
            for position, key, name, data, accept in wanted:
                try:
                    row = service.store(
                        session, data=data, filename=name, actor=actor, accept=accept, field=key
                    )
                except ValidationFailed as exc:
                    errors.setdefault(key, exc.message)
                else:
                    ids[position] = row.id
            return ids

        stored = await db(request, keep, commit=True)
        items = [(k, stored.get(i, v)) for i, (k, v) in enumerate(items)]
    return Uploads(FormData([(k, v) for k, v in items if v is not None]), errors)


async def describe(
    request: Request,
    actor: Actor,
    task: Task,
    files: FileFields,
    data: Iterable[object],
    *,
    roster: bool,
) -> dict[str, FileInfo]:
    """The files each of ``data`` (answers) refers to that the task's page may show, by id."""
    if not files:
        return {}
    ids = [a.id for each in data for a in files.answers(each, roster=roster)]
    if not ids:
        return {}
    rows = await db(request, lambda s: task_files(s, task, actor, ids))
    return {i: file_info(row) for i, row in rows.items()}


def readable_files(
    service: AttachmentService, session: Session, actor: Actor, ids: Iterable[str]
) -> dict[str, FileInfo]:
    """The files among ``ids`` that ``actor`` may read, by id (a few: one check each)."""
    found = {}
    for attachment_id in dict.fromkeys(ids):
        row = service.get(session, attachment_id)
        if row is not None and row.owner is not None and service.can_read(session, actor, row):
            found[attachment_id] = file_info(row)
    return found


def file_info(row: Attachment) -> FileInfo:
    """An attachment row as the portal's templates show it."""
    return FileInfo(row.id, row.filename, row.content_type, row.size)
