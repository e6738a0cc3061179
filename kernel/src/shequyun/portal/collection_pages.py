"""Portal pages of one-click collection: my tasks, filling a form, publishing, progress, results.

Every page calls the collection services the API uses (never the API over HTTP), so scope,
validation, idempotency and history are the same for a cadre in the portal and for a script.
Objects outside the actor's scope answer 404, as in the API.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shequyun_sdk import ApiError, Conflict, NotFound, ValidationFailed, charts
from shequyun_sdk.identity import Actor
from sqlalchemy import case, func
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..collection.api import campaign_view
from ..collection.campaigns import FILL, RESULTS, REVIEW, _aware
from ..collection.forms import PUBLISH
from ..collection.models import TASK_STATUSES, Campaign, Form, FormVersion, Task, utcnow
from ..collection.results import aggregate, overdue, progress
from ..i18n import gettext
from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import LEVELS, OrgUnit
from ..templating import language_of
from .collection_files import describe, read_form, readable_files, store_uploads
from .common import SHANGHAI, actor_of, db, kernel_of, page, render
from .form_renderer import FormLayout, Parsed

__all__ = ["ROUTES"]

HISTORY_ACTIONS = {
    "draft_saved": "保存草稿",
    "submitted": "提交",
    "resubmitted": "重新提交",
    "returned": "退回",
}
NEXT_LEVEL = {"city": "district", "district": "street", "street": "committee"}
LEVEL_NAMES = {"district": "区", "street": "街镇", "committee": "居村委"}
NOTICES = {
    "draft": "草稿已保存。",
    "submitted": "已提交，感谢您的填报。",
    "returned": "已退回，居委会将收到退回原因。",
    "reminded": "已向 {n} 个尚未提交的单位发送提醒。",
    "published": "该版本已发布，之后不能再修改。",
    "saved": "草稿版本已保存。",
    "created": "表单已创建（第 1 版，草稿）。",
    "opened": "采集任务已下发，共 {n} 个居村委。",
}


def _(request: Request) -> Any:
    return functools.partial(gettext, language=language_of(request))


def _id(request: Request, name: str) -> int:
    raw = str(request.path_params[name])
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("找不到该页面")
    return int(raw)


def _notice(request: Request) -> str:
    key = request.query_params.get("done", "")
    if key not in NOTICES:
        return ""
    count = request.query_params.get("n", "")
    return str(_(request)(NOTICES[key], n=count if count.isdigit() else "0"))


def _figure(value: Any) -> str:
    """A number as people read it: ``1,140``, ``3.25``; a dash when there is none."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _field_errors(exc: ApiError) -> dict[str, str]:
    """``{"field": message}`` from an error's details (or its single field)."""
    found: dict[str, str] = {}
    for item in exc.details or [{"field": exc.field or "", "message": exc.message}]:
        key = str(item.get("field") or "")
        found[key] = f"{found[key]}；{item['message']}" if key in found else str(item["message"])
    return found


# -- my tasks ----------------------------------------------------------------------------


@page(FILL)
async def tasks_page(request: Request) -> Response:
    actor = actor_of(request)
    svc = kernel_of(request).collection
    status = request.query_params.get("status") or None
    if status not in (None, *TASK_STATUSES):
        status = None
    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {
                "task": task,
                "campaign": campaign,
                "unit": unit,
                "deadline": _aware(campaign.deadline),
                "overdue": task.status != "submitted" and now > _aware(campaign.deadline),
                "soon": task.status != "submitted"
                and 0 <= (_aware(campaign.deadline) - now).total_seconds() < 2 * 86400,
            }
            for task, campaign, unit in svc.campaigns.my_tasks(session, actor, status=status)
        ]

    t = _(request)
    return render(
        request,
        "collection/tasks.html",
        {
            "items": await db(request, work),
            "status": status,
            "statuses": TASK_STATUSES,
            "breadcrumbs": [(t("数据采集"), None), (t("我的填报"), None)],
            "notice": _notice(request),
        },
    )


# -- one task: fill, save, submit, return ------------------------------------------------


@dataclass
class TaskState:
    """A task and everything its page shows."""

    task: Task
    campaign: Campaign
    version: FormVersion
    unit: OrgUnit
    layout: FormLayout
    history: list[dict[str, Any]]
    can_fill: bool
    can_return: bool
    roster: list[dict[str, Any]] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        return (
            self.can_fill
            and self.task.status != "submitted"
            and self.campaign.status == "open"
            and not self.task.withdrawn
            and utcnow() >= _aware(self.campaign.starts_at)
        )

    @property
    def returned_comment(self) -> str | None:
        if self.task.status != "returned":
            return None
        returns = [h for h in self.history if h["action"] == "returned"]
        return returns[-1]["comment"] if returns else None


def _load_task(session: Session, request: Request, actor: Actor, task_id: int) -> TaskState:
    svc = kernel_of(request).collection
    permission = next((p for p in (FILL, REVIEW, RESULTS) if actor.has(p)), FILL)
    task = svc.campaigns.task(session, actor, task_id, permission)
    campaign = session.get(Campaign, task.campaign_id)
    assert campaign is not None
    # A resubmitted task keeps the version it was answered in; a new answer uses the campaign's.
    version = session.get(FormVersion, campaign.form_version_id)
    assert version is not None
    unit = session.get(OrgUnit, task.unit_id)
    assert unit is not None
    state = TaskState(
        task=task,
        campaign=campaign,
        version=version,
        unit=unit,
        layout=FormLayout(
            version.schema_,
            version.ui,
            max_file_bytes=kernel_of(request).settings.attachment_max_bytes,
            max_body_bytes=kernel_of(request).settings.max_body_bytes,
        ),
        history=svc.campaigns.history(session, task_id),
        can_fill=scope.can(actor, FILL, unit_ref(unit)),
        can_return=scope.can(actor, REVIEW, unit_ref(unit)),
    )
    if campaign.mode == "roster" and actor.has("residents.read"):
        state.roster = svc.campaigns.roster(session, actor, task, campaign)
    return state


def _roster_rows(state: TaskState, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each roster resident with the answers given for them (matched by resident id)."""
    given = {r.get("resident_id"): r for r in data.get("rows") or [] if isinstance(r, Mapping)}
    return [
        {"resident": resident, "answers": given.get(resident["id"], {})}
        for resident in state.roster
    ]


async def _task_page(
    request: Request,
    state: TaskState,
    *,
    data: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    parsed: Parsed | None = None,
    client_key: str | None = None,
    comment: str = "",
    comment_error: str | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    t = _(request)
    data = state.task.data if data is None else data
    errors = dict(errors or {})
    raw = parsed.raw if parsed else {}
    blank = parsed.rows if parsed else {}
    editable = state.editable
    files = await describe(
        request,
        actor_of(request),
        state.task,
        kernel_of(request).collection.campaigns.file_fields(state.version),
        (data, state.task.data),
        roster=state.campaign.mode == "roster",
    )
    context: dict[str, Any] = {
        "state": state,
        "task": state.task,
        "campaign": state.campaign,
        "unit": state.unit,
        "deadline": _aware(state.campaign.deadline),
        "overdue": state.task.status != "submitted" and utcnow() > _aware(state.campaign.deadline),
        "editable": editable,
        "client_key": client_key or secrets.token_urlsafe(18),
        "history": [
            {**h, "label": HISTORY_ACTIONS.get(h["action"], h["action"])} for h in state.history
        ],
        "comment": comment,
        "comment_error": comment_error,
        "notice": notice or _notice(request),
        "statuses": TASK_STATUSES,
        "breadcrumbs": [
            (t("数据采集"), None),
            (t("我的填报"), "/collection/tasks") if state.can_fill else (t("采集管理"), None),
            (state.campaign.title, None),
        ],
    }
    if state.campaign.mode == "roster" and not state.roster and not editable:
        # A reviewer without access to resident records sees the rows by resident number.
        context["roster_rows"] = [
            {
                "resident": {
                    "id": r.get("resident_id"),
                    "name": t("居民 {n}", n=r.get("resident_id")),
                    "age": "",
                    "address": None,
                },
                "answers": r,
                "index": i,
                "view": state.layout.row_view(
                    r,
                    {},
                    prefix=f"rows[{i}].",
                    row_label=str(i + 1),
                    readonly=True,
                    files=files,
                ),
            }
            for i, r in enumerate(data.get("rows") or [])
            if isinstance(r, Mapping)
        ]
        context.update(summary=[], form_view=None)
    elif state.campaign.mode == "roster":
        rows = []
        summary: list[tuple[str, str, str]] = []
        for index, row in enumerate(_roster_rows(state, data)):
            prefix = f"rows[{index}]."
            view = state.layout.row_view(
                row["answers"],
                {k: v for k, v in errors.items() if k.startswith(prefix)},
                prefix=prefix,
                row_label=str(row["resident"]["name"]),
                raw=raw,
                readonly=not editable,
                files=files,
            )
            summary += view.summary
            errors = {k: v for k, v in errors.items() if not k.startswith(prefix)}
            rows.append({**row, "index": index, "view": view})
        context["roster_rows"] = rows
        context["summary"] = summary + [(k or t("整张表"), m, "") for k, m in errors.items()]
        context["form_view"] = None
    else:
        view = state.layout.view(
            data, errors, raw=raw, blank_rows=blank, readonly=not editable, files=files
        )
        context["form_view"] = view
        context["summary"] = view.summary
        context["roster_rows"] = None
    context["answers"] = (
        state.layout.answers(state.task.data, files) if state.campaign.mode == "unit" else None
    )
    return render(request, "collection/task.html", context, status_code=status_code)


@page()
async def task_page(request: Request) -> Response:
    task_id = _id(request, "task_id")
    actor = actor_of(request)
    state = await db(request, lambda s: _load_task(s, request, actor, task_id))
    return await _task_page(request, state)


def _parse_answers(state: TaskState, form: FormData, remove: str | None) -> Parsed:
    """The submitted answers: the form's fields, or one row per roster resident."""
    if state.campaign.mode != "roster":
        return state.layout.parse(form, remove=remove)
    combined = Parsed(data={"rows": []})
    for index, resident in enumerate(state.roster):
        row = state.layout.parse(form, prefix=f"rows[{index}].", remove=remove)
        combined.data["rows"].append({"resident_id": resident["id"], **row.data})
        combined.errors.update(row.errors)
        combined.raw.update(row.raw)
    return combined


def _validation_errors(state: TaskState, request: Request, data: dict[str, Any]) -> dict[str, str]:
    """What the form's validator says about ``data`` (shown with the inputs that could not be
    read, so the cadre sees every problem at once)."""
    validator = kernel_of(request).collection.campaigns.validator(state.version)
    found: dict[str, str] = {}
    rows = data["rows"] if state.campaign.mode == "roster" else [data]
    for index, row in enumerate(rows):
        prefix = f"rows[{index}]." if state.campaign.mode == "roster" else ""
        answers = {k: v for k, v in row.items() if k != "resident_id"}
        for error in validator.errors(answers):
            found.setdefault(prefix + error.path, error.message)
    return found


@page()
async def task_post(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _task_post(request, form)
    finally:
        await form.close()


async def _task_post(request: Request, form: FormData) -> Response:
    task_id = _id(request, "task_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    state = await db(request, lambda s: _load_task(s, request, actor, task_id))
    # A second click on "submit" (same client key) is answered by the service as a replay.
    resend = form.get("action") == "submit" and state.task.status == "submitted"
    if not state.editable and not resend:
        return await _task_page(
            request,
            state,
            notice=str(_(request)("该任务当前不能修改。")),
            status_code=409,
        )
    refused: dict[str, str] = {}
    if state.editable:  # files are kept first: a form shown again shows them attached
        uploads = await store_uploads(
            request,
            form,
            svc.campaigns.file_fields(state.version),
            actor,
            roster=state.campaign.mode == "roster",
        )
        form, refused = uploads.form, uploads.errors
    add, remove = str(form.get("_add") or ""), str(form.get("_remove") or "") or None
    parsed = _parse_answers(state, form, remove)
    parsed.errors.update(refused)
    client_key = str(form.get("client_key") or "")[:80] or None
    if add or remove:  # add or remove a table row: show the form again, nothing saved
        if add:
            parsed.rows[add] = parsed.rows.get(add, 0) + 1
        return await _task_page(
            request,
            state,
            data=parsed.data,
            errors=parsed.errors,
            parsed=parsed,
            client_key=client_key,
        )
    action = form.get("action")
    if parsed.errors:
        errors = dict(parsed.errors)
        if action == "submit":
            for path, message in _validation_errors(state, request, parsed.data).items():
                errors.setdefault(path, message)
        return await _task_page(
            request,
            state,
            data=parsed.data,
            errors=errors,
            parsed=parsed,
            client_key=client_key,
            status_code=422,
        )
    version = str(form.get("version") or "")
    try:
        if action == "submit":
            await db(
                request,
                lambda s: svc.campaigns.submit(s, actor, task_id, parsed.data, client_key),
                commit=True,
            )
            return _redirect(f"/collection/tasks/{task_id}?done=submitted")
        await db(
            request,
            lambda s: svc.campaigns.save_draft(
                s, actor, task_id, parsed.data, int(version) if version.isdigit() else None
            ),
            commit=True,
        )
        return _redirect(f"/collection/tasks/{task_id}?done=draft")
    except ValidationFailed as exc:
        return await _task_page(
            request,
            state,
            data=parsed.data,
            errors=_field_errors(exc),
            parsed=parsed,
            client_key=client_key,
            status_code=422,
        )
    except Conflict as exc:
        fresh = await db(request, lambda s: _load_task(s, request, actor, task_id))
        return await _task_page(request, fresh, notice=exc.message, status_code=409)


@page(REVIEW)
async def task_return(request: Request) -> Response:
    task_id = _id(request, "task_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    form = await request.form()
    comment = str(form.get("comment") or "")[:2000]
    try:
        await db(
            request,
            lambda s: svc.campaigns.return_task(s, actor, task_id, comment),
            commit=True,
        )
    except (ValidationFailed, Conflict) as exc:
        state = await db(request, lambda s: _load_task(s, request, actor, task_id))
        return await _task_page(
            request,
            state,
            comment=comment,
            comment_error=exc.message if exc.field == "comment" else None,
            notice="" if exc.field == "comment" else exc.message,
            status_code=exc.status_code,
        )
    return _redirect(f"/collection/tasks/{task_id}?done=returned")


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
        return [
            {"form": f, "versions": svc.forms.versions(session, f.id or 0)}
            for f in svc.forms.list(session, actor)
        ]

    t = _(request)
    return render(
        request,
        "collection/forms.html",
        {
            "items": await db(request, work),
            "breadcrumbs": [(t("采集管理"), "/collection/campaigns"), (t("表单"), None)],
            "notice": _notice(request),
        },
    )


def _form_editor(
    request: Request,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    problems: list[dict[str, str]],
    status_code: int = 200,
) -> Response:
    t = _(request)
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
        errors = {k: v for k, v in _field_errors(exc).items() if k in ("title", "description")}
        return _form_editor(request, values, errors, problems, 422)
    return _redirect(f"/collection/forms/{created.id}?done=created")


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
        form = svc.forms.get(session, actor, form_id)
        return form, svc.forms.versions(session, form_id)

    form, versions = await db(request, work)
    shown_raw = request.query_params.get("version", "")
    shown = next(
        (v for v in versions if str(v.number) == shown_raw), versions[-1] if versions else None
    )
    latest = versions[-1] if versions else None
    t = _(request)
    return render(
        request,
        "collection/form.html",
        {
            "form": form,
            "versions": versions,
            "shown": shown,
            "preview": FormLayout(shown.schema_, shown.ui).view(readonly=True) if shown else None,
            "draft": draft
            or {
                "schema": _pretty(latest.schema_ if latest else EXAMPLE_SCHEMA),
                "ui": _pretty(latest.ui if latest else EXAMPLE_UI),
            },
            "errors": errors or {},
            "problems": problems or [],
            "notice": _notice(request),
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
    return await _form_detail(request, _id(request, "form_id"))


@page(PUBLISH)
async def form_version_new(request: Request) -> Response:
    form_id = _id(request, "form_id")
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
    return _redirect(f"/collection/forms/{form_id}?version={version.number}&done=saved")


@page(PUBLISH)
async def form_publish(request: Request) -> Response:
    form_id, number = _id(request, "form_id"), _id(request, "number")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    try:
        await db(request, lambda s: svc.forms.publish(s, actor, form_id, number), commit=True)
    except (ValidationFailed, Conflict) as exc:
        return await _form_detail(
            request, form_id, problems=_problems(exc), status_code=exc.status_code
        )
    return _redirect(f"/collection/forms/{form_id}?version={number}&done=published")


# -- campaigns ---------------------------------------------------------------------------


@page(PUBLISH)
async def campaigns_page(request: Request) -> Response:
    actor = actor_of(request)

    def work(session: Session) -> list[dict[str, Any]]:
        campaigns = list(
            session.exec(
                select(Campaign)
                .where(scope.scope_filter(actor, PUBLISH, Campaign.publisher_unit_id))
                .order_by(col(Campaign.id).desc())
                .limit(200)
            )
        )
        ids = [c.id for c in campaigns]
        counts = {
            cid: (int(expected), int(done or 0))
            for cid, expected, done in session.exec(
                select(  # type: ignore[call-overload]
                    Task.campaign_id,
                    func.count(),
                    func.sum(case((col(Task.status) == "submitted", 1), else_=0)),
                )
                .where(col(Task.campaign_id).in_(ids), Task.withdrawn == False)  # noqa: E712
                .where(scope.scope_filter(actor, RESULTS, Task.unit_id))
                .group_by(col(Task.campaign_id))
            )
        }
        return [
            {
                "campaign": c,
                "view": campaign_view(session, c),
                "expected": counts.get(c.id or 0, (0, 0))[0],
                "submitted": counts.get(c.id or 0, (0, 0))[1],
                "deadline": _aware(c.deadline),
                "past": utcnow() > _aware(c.deadline),
            }
            for c in campaigns
        ]

    t = _(request)
    return render(
        request,
        "collection/campaigns.html",
        {
            "items": await db(request, work),
            "breadcrumbs": [(t("数据采集"), None), (t("采集管理"), None)],
            "notice": _notice(request),
        },
    )


def _target_units(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The units a publisher may aim at: their own and two levels below, as a tree."""
    assert actor.unit is not None
    own = session.exec(select(OrgUnit).where(OrgUnit.path == actor.unit.path)).first()
    if own is None:
        return []
    depth = LEVELS.index(own.level) if own.level in LEVELS else 0
    levels = LEVELS[depth + 1 : depth + 3]
    units = list(
        session.exec(
            select(OrgUnit)
            .where(col(OrgUnit.path).startswith(own.path))
            .where(col(OrgUnit.level).in_(levels), col(OrgUnit.closed_on).is_(None))
            .order_by(col(OrgUnit.path))
        )
    )
    children = [u for u in units if levels and u.level == levels[0]]
    return [
        {"unit": own, "children": []},
        *[
            {"unit": child, "children": [u for u in units if u.parent_id == child.id]}
            for child in children
        ],
    ]


def _campaign_form_context(session: Session, request: Request, actor: Actor) -> dict[str, Any]:
    svc = kernel_of(request).collection
    choices = []
    for form in svc.forms.list(session, actor):
        for version in svc.forms.versions(session, form.id or 0):
            if version.status == "published":
                choices.append(
                    {"value": f"{form.id}:{version.number}", "form": form, "version": version}
                )
    return {
        "choices": choices,
        "tree": _target_units(session, actor),
        "tags": list(kernel_of(request).residents.vocabulary.tags),
    }


def _local(raw: str) -> str | None:
    """A ``datetime-local`` value (Beijing time) as an ISO time with its offset."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=SHANGHAI).isoformat()


def _campaign_body(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"targets": [str(c) for c in form.getlist("targets")]}
    form_id, _sep, number = str(form.get("form_version") or "").partition(":")
    if not form_id.isdigit() or not number.isdigit():
        errors["form_version"] = "请选择一个已发布的表单版本"
    else:
        body.update(form_id=int(form_id), version=int(number))
    for key in ("title", "instructions"):
        body[key] = str(form.get(key) or "").strip()
    deadline = str(form.get("deadline") or "")
    body["deadline"] = _local(deadline) if deadline else None
    if body["deadline"] is None:
        errors["deadline"] = "请选择截止时间"
    starts = str(form.get("starts_at") or "")
    if starts:
        body["starts_at"] = _local(starts)
        if body["starts_at"] is None:
            errors["starts_at"] = "开始时间格式不对"
    body["mode"] = "roster" if form.get("mode") == "roster" else "unit"
    if body["mode"] == "roster":
        roster: dict[str, Any] = {}
        tags = [str(t) for t in form.getlist("tags")]
        if tags:
            roster["tags"] = tags
        for key in ("age_min", "age_max"):
            raw = str(form.get(key) or "").strip()
            if raw and not raw.isdigit():
                errors[f"roster_filter.{key}"] = "应为 0-150 的整数"
            elif raw:
                roster[key] = int(raw)
        body["roster_filter"] = roster
    return body


async def _campaign_editor(
    request: Request,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    context = await db(request, lambda s: _campaign_form_context(s, request, actor))
    t = _(request)
    return render(
        request,
        "collection/campaign_new.html",
        {
            **context,
            "values": values,
            "errors": errors,
            "breadcrumbs": [(t("采集管理"), "/collection/campaigns"), (t("发起采集"), None)],
        },
        status_code=status_code,
    )


@page(PUBLISH)
async def campaign_new(request: Request) -> Response:
    actor = actor_of(request)
    svc = kernel_of(request).collection
    if request.method == "GET":
        values = {"mode": "unit", "targets": [], "tags": [], "form_version": ""}
        return await _campaign_editor(request, values, {})
    form = await request.form()
    entered: dict[str, Any] = {k: str(v) for k, v in form.items()}
    entered.update(
        targets=[str(v) for v in form.getlist("targets")],
        tags=[str(v) for v in form.getlist("tags")],
    )
    errors: dict[str, str] = {}
    body = _campaign_body(form, errors)
    if errors:
        return await _campaign_editor(request, entered, errors, 422)

    def work(session: Session) -> tuple[int, int]:
        campaign = svc.campaigns.open(session, actor, body)
        session.flush()
        tasks = session.exec(
            select(func.count()).select_from(Task).where(Task.campaign_id == campaign.id)
        ).one()
        return campaign.id or 0, int(tasks)

    try:
        campaign_id, tasks = await db(request, work, commit=True)
    except (ValidationFailed, NotFound) as exc:
        found = _field_errors(exc)
        for key in ("form_id", "version"):
            if key in found:
                errors["form_version"] = found.pop(key)
        errors.update(found)
        return await _campaign_editor(request, entered, errors, 422)
    return _redirect(f"/collection/campaigns/{campaign_id}?done=opened&n={tasks}")


def _choice_options(version: FormVersion) -> dict[str, list[str]]:
    """The options of each choice question, by export column, as the results count them."""
    found: dict[str, list[str]] = {}
    for spec in FormLayout(version.schema_, version.ui).fields:
        if spec.kind in ("choice", "multiple", "boolean"):
            options = ["是", "否"] if spec.kind == "boolean" else [str(v) for _l, v in spec.options]
            found[version.columns.get(spec.name, spec.name)] = options
    return found


def _within(session: Session, actor: Actor, code: str) -> OrgUnit | None:
    if not code:
        return None
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None or not scope.can(actor, RESULTS, unit_ref(unit)):
        raise NotFound("找不到该单位，或不在您的范围内")
    return unit


def _level(actor: Actor, within: OrgUnit | None, requested: str) -> str:
    if requested in LEVEL_NAMES:
        return requested
    start = within.level if within is not None else (actor.unit.level if actor.unit else "city")
    return NEXT_LEVEL.get(start, "committee")


def _trail(session: Session, actor: Actor, within: OrgUnit | None) -> list[OrgUnit]:
    """The units between the actor's grant and ``within`` (for the drill-down breadcrumbs)."""
    if within is None or actor.unit is None:
        return []
    ids = [int(p) for p in within.path.strip("/").split("/")]
    units = {u.id: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(ids)))}
    return [
        units[i]
        for i in ids
        if i in units
        and units[i].path.startswith(actor.unit.path)
        and units[i].path != actor.unit.path
    ]


@page()
async def campaign_page(request: Request) -> Response:
    campaign_id = _id(request, "campaign_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    code = request.query_params.get("within", "")

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        context: dict[str, Any] = {
            "campaign": campaign,
            "view": campaign_view(session, campaign),
            "deadline": _aware(campaign.deadline),
            "past": utcnow() > _aware(campaign.deadline),
            "within": None,
        }
        if not actor.has(RESULTS):  # a cadre with a task in it: the campaign and their tasks
            context["mine"] = [
                (t, u) for t, c, u in svc.campaigns.my_tasks(session, actor) if c.id == campaign.id
            ]
            return context
        within = _within(session, actor, code)
        level = _level(actor, within, request.query_params.get("level", ""))
        report = progress(session, actor, campaign, level, within)
        tasks: dict[str, int] = {}
        if level == "committee":
            codes = [g["unit"]["code"] for g in report["groups"] if g["unit"]]
            tasks = {
                unit_code: task_id or 0
                for unit_code, task_id in session.exec(
                    select(OrgUnit.code, Task.id)
                    .join(Task, col(Task.unit_id) == OrgUnit.id)
                    .where(Task.campaign_id == campaign.id, col(OrgUnit.code).in_(codes))
                )
            }
        context.update(
            within=within,
            level=level,
            report=report,
            tasks=tasks,
            trail=_trail(session, actor, within),
            pending=overdue(session, actor, campaign, within, limit=300),
        )
        return context

    context = await db(request, work)
    t = _(request)
    campaign = context["campaign"]
    base = f"/collection/campaigns/{campaign_id}"
    crumbs: list[tuple[str, str | None]] = [(t("采集管理"), "/collection/campaigns")]
    if "report" in context:
        report = context["report"]
        title = t("各{level}完成情况", level=t(LEVEL_NAMES[context["level"]]))
        bars = [
            (
                g["unit"]["name"] if g["unit"] else t("未归属"),
                g["on_time"],
                g["late"],
                g["expected"],
            )
            for g in report["groups"]
        ]
        # Two drawings: a phone shows the narrow one, so the labels stay readable.
        context["chart"] = charts.progress_bars(title, bars)
        context["chart_narrow"] = charts.progress_bars(title, bars, width=340)
        context["next_level"] = NEXT_LEVEL.get(context["level"])
        context["level_name"] = t(LEVEL_NAMES[context["level"]])
        crumbs.append((campaign.title, base if context["within"] else None))
        for unit in context["trail"]:
            link = f"{base}?level={NEXT_LEVEL.get(unit.level, 'committee')}&within={unit.code}"
            crumbs.append((unit.name, None if unit is context["trail"][-1] else link))
    else:
        crumbs = [(t("数据采集"), None), (campaign.title, None)]
    context.update(
        breadcrumbs=crumbs,
        notice=_notice(request),
        base=base,
        can_review=actor.has(REVIEW),
        statuses_label=TASK_STATUSES,
    )
    return render(request, "collection/campaign.html", context)


@page(REVIEW)
async def campaign_remind(request: Request) -> Response:
    """Remind the units that have not submitted (one ``collection.reminder`` event each)."""
    campaign_id = _id(request, "campaign_id")
    actor = actor_of(request)
    kernel = kernel_of(request)
    form = await request.form()
    code = str(form.get("within") or "")

    def work(session: Session) -> int:
        campaign = kernel.collection.campaigns.get(session, actor, campaign_id)
        within = _within(session, actor, code)
        pending = overdue(session, actor, campaign, within, limit=10000)
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
            detail={"units": len(pending), "within": code or None},
        )
        return len(pending)

    count = await db(request, work, commit=True)
    within = f"&within={code}" if code else ""
    return _redirect(f"/collection/campaigns/{campaign_id}?done=reminded&n={count}{within}")


@page(RESULTS)
async def campaign_results(request: Request) -> Response:
    campaign_id = _id(request, "campaign_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    code = request.query_params.get("within", "")

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        within = _within(session, actor, code)
        level = _level(actor, within, request.query_params.get("level", ""))
        version = session.get(FormVersion, campaign.form_version_id)
        assert version is not None
        results = aggregate(session, actor, campaign, level, within)
        samples = [i for q in results["total"]["questions"] for i in q.get("samples", ())]
        return {
            "options": _choice_options(version),
            "campaign": campaign,
            "within": within,
            "level": level,
            "results": results,
            "files": readable_files(kernel_of(request).attachments, session, actor, samples),
            "trail": _trail(session, actor, within),
        }

    context = await db(request, work)
    t = _(request)
    results = context["results"]
    questions = []
    for question in results["total"]["questions"]:
        chart = None
        if question["kind"] == "choice" and question.get("distribution"):
            counts = question["distribution"]
            # Every option of the form, those nobody chose too, in the form's order.
            labels = context["options"].get(question["column"], [])
            items = [(o, counts.get(o, 0)) for o in labels]
            items += [(o, n) for o, n in counts.items() if o not in labels]
            chart = charts.bar_chart(question["label"], items, width=340)
        stats = [
            (t(label), _figure(question.get(key)))
            for label, key in (
                ("合计", "sum"),
                ("平均", "average"),
                ("最小", "min"),
                ("最大", "max"),
            )
        ]
        shown = [context["files"][i] for i in question.get("samples", ()) if i in context["files"]]
        questions.append({**question, "chart": chart, "stats": stats, "shown_files": shown})
    for group in results["groups"]:
        group["sums"] = {q["column"]: _figure(q.get("sum")) for q in group["questions"]}
    base = f"/collection/campaigns/{campaign_id}"
    campaign = context["campaign"]
    context.update(
        questions=questions,
        base=base,
        level_name=t(LEVEL_NAMES[context["level"]]),
        next_level=NEXT_LEVEL.get(context["level"]),
        numbers=[q for q in results["total"]["questions"] if q["kind"] == "number"],
        breadcrumbs=[
            (t("采集管理"), "/collection/campaigns"),
            (campaign.title, base),
            *[
                (
                    u.name,
                    f"{base}/results?level={NEXT_LEVEL.get(u.level, 'committee')}&within={u.code}",
                )
                for u in context["trail"]
            ],
            (t("汇总结果"), None),
        ],
    )
    return render(request, "collection/results.html", context)


ROUTES: list[BaseRoute] = [
    Route("/collection/tasks", tasks_page, methods=["GET"]),
    Route("/collection/tasks/{task_id}", task_page, methods=["GET"]),
    Route("/collection/tasks/{task_id}", task_post, methods=["POST"]),
    Route("/collection/tasks/{task_id}/return", task_return, methods=["POST"]),
    Route("/collection/forms", forms_page, methods=["GET"]),
    Route("/collection/forms/new", form_new, methods=["GET", "POST"]),
    Route("/collection/forms/{form_id}", form_page, methods=["GET"]),
    Route("/collection/forms/{form_id}/versions", form_version_new, methods=["POST"]),
    Route("/collection/forms/{form_id}/versions/{number}/publish", form_publish, methods=["POST"]),
    Route("/collection/campaigns", campaigns_page, methods=["GET"]),
    Route("/collection/campaigns/new", campaign_new, methods=["GET", "POST"]),
    Route("/collection/campaigns/{campaign_id}", campaign_page, methods=["GET"]),
    Route("/collection/campaigns/{campaign_id}/remind", campaign_remind, methods=["POST"]),
    Route("/collection/campaigns/{campaign_id}/results", campaign_results, methods=["GET"]),
]
