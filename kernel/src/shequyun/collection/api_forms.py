"""``/api/v1/forms``: forms and their versions, drafted, checked, published once."""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ValidationFailed, read_json_object
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import STRING, describe, query_param
from shequyun_sdk.params import path_id
from shequyun_sdk.web import JSONResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from ..attachments.api import read_upload
from ..identity.auth import request_actor
from . import api_schemas as docs
from .api_support import XLSX_TYPE, kernel_of, run_work
from .form_sheets import MAX_SHEET_BYTES
from .forms import PUBLISH, form_view, version_view

# -- forms -------------------------------------------------------------------------------


@describe(response=docs.FORMS)
@requires(PUBLISH)
async def list_forms(request: Request) -> Response:
    """Forms owned by units within your grant."""
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [form_view(f, versions) for f, versions in svc.forms.listing(session, actor)]

    return JSONResponse({"items": await run_work(request, work, commit=False)})


@describe(body=docs.NEW_FORM, response=docs.FORM, status=201)
@requires(PUBLISH)
async def create_form(request: Request) -> Response:
    """Create a form with its first draft version (schema and UI are checked first)."""
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        form = svc.forms.create(session, actor, body)
        session.flush()
        return form_view(form, svc.forms.versions(session, form.id or 0))

    return JSONResponse(await run_work(request, work, commit=True), status_code=201)


@describe(response=docs.FORM)
@requires(PUBLISH)
async def get_form(request: Request) -> Response:
    """A form and its versions."""
    form_id = path_id(request, "form_id")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        return form_view(*svc.forms.with_versions(session, actor, form_id))

    return JSONResponse(await run_work(request, work, commit=False))


@describe(body=docs.DRAFT, response=docs.VERSION, status=201)
@requires(PUBLISH)
async def save_draft_version(request: Request) -> Response:
    """Create the next draft version or replace the current draft."""
    form_id = path_id(request, "form_id")
    body = await read_json_object(request)
    actor = request_actor(request)
    svc = kernel_of(request).collection
    version = await run_work(
        request, lambda s: version_view(svc.forms.save_draft(s, actor, form_id, body)), commit=True
    )
    return JSONResponse(version, status_code=201)


@describe(response=docs.VERSION)
@requires(PUBLISH)
async def get_version(request: Request) -> Response:
    """One version with its schema, UI layer and stable export columns."""
    form_id, number = path_id(request, "form_id"), path_id(request, "number")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        _form, version = svc.forms.get_version(session, actor, form_id, number)
        return version_view(version)

    return JSONResponse(await run_work(request, work, commit=False))


@describe(response=docs.VERSION)
@requires(PUBLISH)
async def publish_version(request: Request) -> Response:
    """Publish a draft version: from now on it never changes."""
    form_id, number = path_id(request, "form_id"), path_id(request, "number")
    actor = request_actor(request)
    svc = kernel_of(request).collection
    return JSONResponse(
        await run_work(
            request,
            lambda s: version_view(svc.forms.publish(s, actor, form_id, number)),
            commit=True,
        )
    )


@describe(
    query=[query_param("title", STRING, "表单标题（缺省取自工作簿）")],
    requestBody=docs.WORKBOOK_UPLOAD,
    response=docs.FORM,
    status=201,
)
@requires(PUBLISH)
async def create_form_from_workbook(request: Request) -> Response:
    """Create a form from an XLSX workbook (multipart field ``file``; ``?title=`` optional):
    201 with the form, or 422 listing every problem with its ``sheet``, ``row`` and ``column``."""
    _name, data = await read_upload(request)
    if len(data) > MAX_SHEET_BYTES:
        raise ValidationFailed("文件不能超过 5 MB", field="file")
    title = request.query_params.get("title", "")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> dict[str, Any]:
        form = svc.forms.create_from_workbook(session, actor, data, title)
        session.flush()
        return form_view(form, svc.forms.versions(session, form.id or 0))

    return JSONResponse(await run_work(request, work, commit=True), status_code=201)


@describe(responses=docs.WORKBOOK_FILE)
@requires(PUBLISH)
async def version_workbook(request: Request) -> Response:
    """A version as the XLSX workbook ``POST /forms/xlsx`` reads (422 when the builder cannot
    hold the form, e.g. one using ``$ref``)."""
    form_id, number = path_id(request, "form_id"), path_id(request, "number")
    actor = request_actor(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> bytes:
        _form, data = svc.forms.workbook(session, actor, form_id, number)
        return data  # type: ignore[no-any-return]

    data = await run_work(request, work, commit=False)
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="form-{form_id}-v{number}.xlsx"'},
    )
