"""The form builder (新建表单, 编辑表单): questions instead of JSON, with a live preview; and
forms as Excel workbooks (upload a new form, download any version, a template to start from).

The builder posts its whole state with every step (see ``builder_state``); saving goes through
the same :class:`~.forms.FormService` calls as the JSON editor and the API, so the engine's
checks decide, and their problems are shown at the question they are about.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.params import path_id
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from ..portal.common import actor_of, db, kernel_of, page, render
from ..portal.form_renderer import FormLayout
from .api_support import XLSX_TYPE
from .builder_state import (
    BuilderState,
    apply_op,
    new_question,
    preview_questions,
    question_views,
    read_state,
)
from .form_sheets import SheetForm, SheetProblem
from .form_sheets_write import write_workbook
from .forms import PUBLISH
from .pages_support import see_other, translator
from .questions import (
    KIND_TITLES,
    NotBuildable,
    Question,
    QuestionProblem,
    check,
    from_form,
    number_of,
    owner_of,
    to_form,
)
from .schema_check import check_schema
from .ui_check import check_ui

MAX_UPLOAD = 5 * 1024 * 1024


def _engine_problems(exc: ValidationFailed, questions: Sequence[Question]) -> list[QuestionProblem]:
    by_key = dict(_keys(questions))
    found = []
    for detail in exc.details or [{"field": exc.field or "", "message": exc.message}]:
        pointer = str(detail.get("field") or "")
        if pointer in ("title", "description"):
            continue
        key = owner_of(pointer, questions)
        question = by_key.get(key)
        title = number_of(key) + (f"「{question.label}」" if question and question.label else "")
        found.append(QuestionProblem(key, title if key else "", "", str(detail.get("message"))))
    return found


def _keys(questions: Sequence[Question], base: str = "") -> list[tuple[str, Question]]:
    found = []
    for index, q in enumerate(questions, start=1):
        key = f"{base}.{index}" if base else str(index)
        found.append((key, q))
        found += _keys(q.children, key)
    return found


def _preview(questions: Sequence[Question]) -> tuple[Any, str]:
    shown = preview_questions(questions)
    if not shown:
        return None, "添加题目后，这里显示居委干部看到的样子。"
    schema, ui = to_form(shown)
    problems = [p.message for p in check_schema(schema)]
    problems = problems or [p.message for p in check_ui(ui, schema)]
    if problems:
        return None, "预览暂不可用：" + problems[0]
    return FormLayout(schema, ui).view(), ""


def _render(
    request: Request,
    *,
    action: str,
    heading: str,
    crumbs: list[tuple[str, str | None]],
    values: Mapping[str, str],
    state: BuilderState,
    problems: Sequence[QuestionProblem] = (),
    errors: Mapping[str, str] | None = None,
    focus: str | None = None,
    save_label: str,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    preview, preview_note = _preview(state.questions)
    schema, ui = to_form(state.questions)
    fragment = request.headers.get("x-builder") == "preview"
    return render(
        request,
        "collection/builder_preview.html" if fragment else "collection/builder.html",
        {
            "action": action,
            "heading": heading,
            "values": values,
            "views": question_views(state.questions, problems, state),
            "problems": problems,
            "errors": errors or {},
            "unreadable": state.unreadable,
            "kinds": KIND_TITLES,
            "nested_kinds": {k: v for k, v in KIND_TITLES.items() if k not in ("table", "group")},
            "preview": preview,
            "preview_note": preview_note,
            "schema_json": json.dumps(schema, ensure_ascii=False, indent=2),
            "ui_json": json.dumps(ui, ensure_ascii=False, indent=2),
            "focus": focus,
            "save_label": save_label,
            "notice": notice,
            "breadcrumbs": crumbs,
        },
        status_code=status_code,
    )


def _problems_before_saving(state: BuilderState) -> list[QuestionProblem]:
    problems = check(state.questions)
    by_key = dict(_keys(state.questions))
    for name, message in state.unreadable.items():
        key = name.removeprefix("q-").rsplit("-", 1)[0].replace("-", ".")
        question = by_key.get(key)
        title = number_of(key) + (f"「{question.label}」" if question and question.label else "")
        problems.append(QuestionProblem(key, title, "bounds", message))
    return problems


async def _builder_post(
    request: Request, *, action: str, heading: str, crumbs: Any, save_label: str, save: Any
) -> Response:
    form = await request.form()
    state = read_state(form)
    values = {k: str(form.get(k) or "") for k in ("title", "description")}
    op = str(form.get("op") or "refresh")
    common = {
        "action": action,
        "heading": heading,
        "crumbs": crumbs,
        "values": values,
        "state": state,
        "save_label": save_label,
    }
    if op != "save":
        focus = apply_op(state.questions, op, form) if op != "refresh" else None
        return _render(request, focus=focus, **common)
    problems = _problems_before_saving(state)
    errors: dict[str, str] = {}
    if "title" in values and not values["title"].strip() and action.endswith("/new"):
        errors["title"] = "请填写表单标题"
    if problems or errors:
        return _render(request, problems=problems, errors=errors, status_code=422, **common)
    schema, ui = to_form(state.questions)
    try:
        target = await save(values, schema, ui)
    except ValidationFailed as exc:
        for detail in exc.details or [{"field": exc.field or "", "message": exc.message}]:
            if detail.get("field") in ("title", "description"):
                errors[str(detail["field"])] = str(detail.get("message"))
        problems = _engine_problems(exc, state.questions)
        return _render(request, problems=problems, errors=errors, status_code=422, **common)
    return see_other(target)


def _new_crumbs(request: Request) -> list[tuple[str, str | None]]:
    t = translator(request)
    return [
        (t("采集管理"), "/collection/campaigns"),
        (t("表单"), "/collection/forms"),
        (t("新建表单"), None),
    ]


@page(PUBLISH)
async def builder_new(request: Request) -> Response:
    """The builder for a new form; ``?view=json`` opens the JSON editor instead."""
    from .pages_forms import form_new

    if request.method == "GET" and request.query_params.get("view") == "json":
        return await form_new(request)
    if request.method == "GET":
        state = BuilderState([new_question("text", [])])
        values = {"title": "", "description": ""}
        return _render(
            request,
            action="/collection/forms/new",
            heading="新建表单",
            crumbs=_new_crumbs(request),
            values=values,
            state=state,
            save_label="保存为草稿（第 1 版）",
        )
    content_type = request.headers.get("content-type", "")
    form = await request.form()
    if ("op" not in form and "schema" in form) or "multipart" in content_type:
        return await form_new(request)  # the JSON editor posts here too
    actor = actor_of(request)
    svc = kernel_of(request).collection

    async def save(values: Mapping[str, str], schema: Any, ui: Any) -> str:
        body = {"title": values["title"], "description": values["description"]}
        body.update(schema=schema, ui=ui)
        created = await db(request, lambda s: svc.forms.create(s, actor, body), commit=True)
        return f"/collection/forms/{created.id}?done=created"

    return await _builder_post(
        request,
        action="/collection/forms/new",
        heading="新建表单",
        crumbs=_new_crumbs(request),
        save_label="保存为草稿（第 1 版）",
        save=save,
    )


@page(PUBLISH)
async def builder_edit(request: Request) -> Response:
    """The builder on a form's latest version (or ``?version=n``); saving makes a draft."""
    form_id = path_id(request, "form_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection

    def load(session: Session) -> tuple[Any, Any]:
        form, versions = svc.forms.with_versions(session, actor, form_id)
        wanted = request.query_params.get("version", "")
        shown = next((v for v in versions if str(v.number) == wanted), versions[-1])
        return form, shown

    form, version = await db(request, load)
    t = translator(request)
    crumbs = [
        (t("采集管理"), "/collection/campaigns"),
        (t("表单"), "/collection/forms"),
        (form.title, f"/collection/forms/{form_id}"),
        (t("编辑"), None),
    ]
    action = f"/collection/forms/{form_id}/edit"
    heading = f"编辑表单：{form.title}"
    save_label = "保存为新的草稿版本"
    if request.method == "GET":
        try:
            questions = from_form(version.schema_, version.ui)
        except NotBuildable as exc:
            return see_other(
                f"/collection/forms/{form_id}?done=json_only&why={urllib.parse.quote(str(exc))}"
            )
        return _render(
            request,
            action=action,
            heading=heading,
            crumbs=crumbs,
            values={},
            state=BuilderState(questions),
            save_label=save_label,
            notice=f"从第 {version.number} 版开始编辑；保存后成为新的草稿版本，"
            "发布前不影响已下发的采集。",
        )

    async def save(values: Mapping[str, str], schema: Any, ui: Any) -> str:
        body = {"schema": schema, "ui": ui}
        saved = await db(
            request, lambda s: svc.forms.save_draft(s, actor, form_id, body), commit=True
        )
        return f"/collection/forms/{form_id}?version={saved.number}&done=saved"

    return await _builder_post(
        request, action=action, heading=heading, crumbs=crumbs, save_label=save_label, save=save
    )


# -- Excel ----------------------------------------------------------------------------------------


@page(PUBLISH)
async def form_import(request: Request) -> Response:
    """Upload a form written as an XLSX workbook: stored as a draft, or every problem listed."""
    actor = actor_of(request)
    svc = kernel_of(request).collection
    t = translator(request)
    crumbs = [
        (t("采集管理"), "/collection/campaigns"),
        (t("表单"), "/collection/forms"),
        (t("从 Excel 导入表单"), None),
    ]
    if request.method == "GET":
        return render(
            request,
            "collection/form_import.html",
            {"breadcrumbs": crumbs, "sheet": None, "title": ""},
        )
    form = await request.form()
    upload = form.get("file")
    title = str(form.get("title") or "").strip()
    sheet = SheetForm()
    context = {"breadcrumbs": crumbs, "sheet": sheet, "title": title}
    if upload is None or isinstance(upload, str) or not upload.filename:
        sheet.problems.append(_file_problem("请选择要上传的 .xlsx 文件"))
        return render(request, "collection/form_import.html", context, status_code=422)
    try:
        data = await upload.read(MAX_UPLOAD + 1)
    finally:
        await upload.close()
    try:
        created = await db(
            request, lambda s: svc.forms.create_from_workbook(s, actor, data, title), commit=True
        )
    except ValidationFailed as exc:
        sheet.problems = [
            SheetProblem(
                str(d.get("sheet", "")),
                int(d.get("row", 0) or 0),
                str(d.get("column", "")),
                str(d.get("message", "")),
            )
            for d in exc.details or [{"message": exc.message}]
        ]
        return render(request, "collection/form_import.html", context, status_code=422)
    return see_other(f"/collection/forms/{created.id}?done=created")


def _file_problem(message: str) -> SheetProblem:
    return SheetProblem("", 0, "", message)


@page(PUBLISH)
async def form_download(request: Request) -> Response:
    """A form version as an XLSX workbook (the format the upload reads)."""
    form_id, number = path_id(request, "form_id"), path_id(request, "number")
    actor = actor_of(request)
    svc = kernel_of(request).collection

    def load(session: Session) -> tuple[Any, bytes]:
        form, data = svc.forms.workbook(session, actor, form_id, number)
        return form, data

    try:
        form, data = await db(request, load)
    except ValidationFailed as exc:
        raise NotFound(exc.message) from None  # the page's answer for a form it cannot write
    name = urllib.parse.quote(f"{form.title}_第{number}版.xlsx")
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def template_questions() -> list[Question]:
    """The example the template workbook and docs/bureaus.md start from."""
    return [
        Question(
            "integer", "households", "本居委户数", help="按本月底统计", required=True, minimum=0
        ),
        Question(
            "single_choice",
            "stage",
            "加装电梯进度",
            required=True,
            choices=["意向征询", "方案设计", "施工中"],
        ),
        Question(
            "long_text",
            "blockers",
            "遇到的困难",
            maximum=500,
            show_field="stage",
            show_values=["意向征询"],
        ),
        Question(
            "table",
            "buildings",
            "意向楼栋",
            maximum=30,
            children=[
                Question("text", "number", "楼号", required=True, maximum=10),
                Question("integer", "floors", "层数", minimum=1, maximum=40),
            ],
        ),
        Question("photo", "site", "现场照片"),
    ]


@page(PUBLISH)
async def form_template(request: Request) -> Response:
    schema, ui = to_form(template_questions())
    data = write_workbook("加装电梯进度摸底（示例）", "示例表单：改写后上传", schema, ui)
    name = urllib.parse.quote("表单模板.xlsx")
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
