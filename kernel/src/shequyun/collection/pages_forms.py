"""Forms (管理表单): the list, a new form, its versions, publishing a version."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shequyun_sdk import ApiError, Conflict, ValidationFailed
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..portal.common import actor_of, db, kernel_of, page, render
from ..portal.form_renderer import FormLayout
from .forms import PUBLISH
from .models import Form, FormVersion
from .pages_support import field_errors, notice_of, see_other, translator
from .questions import NotBuildable, from_form

# -- forms -------------------------------------------------------------------------------

EXAMPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "households": {"type": "integer", "minimum": 0},
        "visited": {"type": "boolean"},
        "remark": {"type": "string", "maxLength": 200},
    },
    "required": ["households", "visited"],
    "additionalProperties": False,
}
EXAMPLE_UI = {
    "order": ["households", "visited", "remark"],
    "fields": {
        "households": {"label": "本居委户数", "help": "按本月底统计"},
        "visited": {"label": "是否已全部走访"},
        "remark": {"label": "备注", "widget": "textarea"},
    },
}


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _read_json(form: FormData, name: str, errors: dict[str, str]) -> Any:
    text = str(form.get(name) or "").strip()
    if not text:
        errors[name] = "请填写 JSON"
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        errors[name] = f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}"
        return None


def _problems(exc: ApiError) -> list[dict[str, str]]:
    return [
        {"field": str(d.get("field", "")), "message": str(d.get("message", ""))}
        for d in (exc.details or [{"field": exc.field or "", "message": exc.message}])
    ]


@page(PUBLISH)
async def forms_page(request: Request) -> Response:
    actor = actor_of(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> list[dict[str, Any]]:
        return [{"form": f, "versions": v} for f, v in svc.forms.listing(session, actor)]

    t = translator(request)
    return render(
        request,
        "collection/forms.html",
        {
            "items": await db(request, work),
            "breadcrumbs": [(t("采集管理"), "/collection/campaigns"), (t("表单"), None)],
            "notice": notice_of(request),
        },
    )


def _form_editor(
    request: Request,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    problems: list[dict[str, str]],
    status_code: int = 200,
) -> Response:
    t = translator(request)
    return render(
        request,
        "collection/form_new.html",
        {
            "values": values,
            "errors": errors,
            "problems": problems,
            "breadcrumbs": [
                (t("采集管理"), "/collection/campaigns"),
                (t("表单"), "/collection/forms"),
                (t("新建表单"), None),
            ],
        },
        status_code=status_code,
    )


@page(PUBLISH)
async def form_new(request: Request) -> Response:
    actor = actor_of(request)
    svc = kernel_of(request).collection
    if request.method == "GET":
        values = {
            "title": "",
            "description": "",
            "schema": _pretty(EXAMPLE_SCHEMA),
            "ui": _pretty(EXAMPLE_UI),
        }
        return _form_editor(request, values, {}, [])
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("title", "description", "schema", "ui")}
    errors: dict[str, str] = {}
    if not values["title"].strip():
        errors["title"] = "请填写表单标题"
    schema = _read_json(form, "schema", errors)
    ui = _read_json(form, "ui", errors) if values["ui"].strip() else {}
    if errors:
        return _form_editor(request, values, errors, [], 422)
    body = {"title": values["title"], "description": values["description"], "schema": schema}
    body["ui"] = ui
    try:
        created = await db(request, lambda s: svc.forms.create(s, actor, body), commit=True)
    except ValidationFailed as exc:
        problems = _problems(exc)
        errors = {k: v for k, v in field_errors(exc).items() if k in ("title", "description")}
        return _form_editor(request, values, errors, problems, 422)
    return see_other(f"/collection/forms/{created.id}?done=created")


async def _form_detail(
    request: Request,
    form_id: int,
    *,
    draft: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    problems: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    svc = kernel_of(request).collection

    def work(session: Session) -> tuple[Form, list[FormVersion]]:
        form, versions = svc.forms.with_versions(session, actor, form_id)
        return form, versions

    form, versions = await db(request, work)
    shown_raw = request.query_params.get("version", "")
    shown = next(
        (v for v in versions if str(v.number) == shown_raw), versions[-1] if versions else None
    )
    latest = versions[-1] if versions else None
    not_buildable = ""
    if shown is not None:
        try:
            from_form(shown.schema_, shown.ui)
        except NotBuildable as exc:
            not_buildable = str(exc)
    t = translator(request)
    return render(
        request,
        "collection/form.html",
        {
            "form": form,
            "versions": versions,
            "shown": shown,
            "not_buildable": not_buildable,
            "preview": FormLayout(shown.schema_, shown.ui).view(readonly=True) if shown else None,
            "draft": draft
            or {
                "schema": _pretty(latest.schema_ if latest else EXAMPLE_SCHEMA),
                "ui": _pretty(latest.ui if latest else EXAMPLE_UI),
            },
            "errors": errors or {},
            "problems": problems or [],
            "notice": notice_of(request),
            "breadcrumbs": [
                (t("采集管理"), "/collection/campaigns"),
                (t("表单"), "/collection/forms"),
                (form.title, None),
            ],
        },
        status_code=status_code,
    )


@page(PUBLISH)
async def form_page(request: Request) -> Response:
    return await _form_detail(request, path_id(request, "form_id"))


@page(PUBLISH)
async def form_version_new(request: Request) -> Response:
    form_id = path_id(request, "form_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    form = await request.form()
    draft = {k: str(form.get(k) or "") for k in ("schema", "ui")}
    errors: dict[str, str] = {}
    schema = _read_json(form, "schema", errors)
    ui = _read_json(form, "ui", errors) if draft["ui"].strip() else {}
    if errors:
        return await _form_detail(request, form_id, draft=draft, errors=errors, status_code=422)
    try:
        version = await db(
            request,
            lambda s: svc.forms.save_draft(s, actor, form_id, {"schema": schema, "ui": ui}),
            commit=True,
        )
    except ValidationFailed as exc:
        return await _form_detail(
            request, form_id, draft=draft, problems=_problems(exc), status_code=422
        )
    return see_other(f"/collection/forms/{form_id}?version={version.number}&done=saved")


@page(PUBLISH)
async def form_publish(request: Request) -> Response:
    form_id, number = path_id(request, "form_id"), path_id(request, "number")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    try:
        await db(request, lambda s: svc.forms.publish(s, actor, form_id, number), commit=True)
    except (ValidationFailed, Conflict) as exc:
        return await _form_detail(
            request, form_id, problems=_problems(exc), status_code=exc.status_code
        )
    return see_other(f"/collection/forms/{form_id}?version={number}&done=published")
