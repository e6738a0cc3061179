"""My tasks (我的填报): the list, filling a form in, drafts, submitting; a publisher's 退回."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk import Conflict, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import form_int, path_id
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..identity import scope
from ..identity.actors import actor_title
from ..identity.auth import unit_ref
from ..identity.directory import display_names
from ..identity.models import OrgUnit
from ..portal.common import actor_of, db, kernel_of, page, render
from ..portal.form_renderer import FormLayout, Parsed
from .campaigns import FILL, RESULTS, REVIEW
from .models import TASK_STATUSES, Campaign, FormVersion, Task, utcnow
from .pages_files import describe, read_form, store_uploads
from .pages_support import field_errors, notice_of, see_other, translator
from .tasks import aware

HISTORY_ACTIONS = {
    "draft_saved": "保存草稿",
    "submitted": "提交",
    "resubmitted": "重新提交",
    "returned": "退回",
}


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
                "deadline": aware(campaign.deadline),
                "overdue": task.status != "submitted" and now > aware(campaign.deadline),
                "soon": task.status != "submitted"
                and 0 <= (aware(campaign.deadline) - now).total_seconds() < 2 * 86400,
            }
            for task, campaign, unit in svc.campaigns.my_tasks(session, actor, status=status)
        ]

    t = translator(request)
    return render(
        request,
        "collection/tasks.html",
        {
            "items": await db(request, work),
            "status": status,
            "statuses": TASK_STATUSES,
            "breadcrumbs": [(t("数据采集"), None), (t("我的填报"), None)],
            "notice": notice_of(request),
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
    #: Display names of the people in ``history``, by login.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def editable(self) -> bool:
        return (
            self.can_fill
            and self.task.status != "submitted"
            and self.campaign.status == "open"
            and not self.task.withdrawn
            and utcnow() >= aware(self.campaign.starts_at)
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
    history = svc.campaigns.history(session, task_id)
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
        history=history,
        names=display_names(session, (h["actor"] for h in history)),
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
    t = translator(request)
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
    plugins = kernel_of(request).host.titles()
    context: dict[str, Any] = {
        "state": state,
        "task": state.task,
        "campaign": state.campaign,
        "unit": state.unit,
        "deadline": aware(state.campaign.deadline),
        "overdue": state.task.status != "submitted" and utcnow() > aware(state.campaign.deadline),
        "editable": editable,
        "client_key": client_key or secrets.token_urlsafe(18),
        "history": [
            {
                **h,
                "label": HISTORY_ACTIONS.get(h["action"], h["action"]),
                "who": actor_title(
                    h["actor"], state.names.get(h["actor"] or ""), plugins, nobody=""
                ),
            }
            for h in state.history
        ],
        "comment": comment,
        "comment_error": comment_error,
        "notice": notice or notice_of(request),
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
    task_id = path_id(request, "task_id")
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
    task_id = path_id(request, "task_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    state = await db(request, lambda s: _load_task(s, request, actor, task_id))
    # A second click on "submit" (same client key) is answered by the service as a replay.
    resend = form.get("action") == "submit" and state.task.status == "submitted"
    if not state.editable and not resend:
        return await _task_page(
            request,
            state,
            notice=str(translator(request)("该任务当前不能修改。")),
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
    version = form_int(form, "version")
    try:
        if action == "submit":
            await db(
                request,
                lambda s: svc.campaigns.submit(s, actor, task_id, parsed.data, client_key),
                commit=True,
            )
            return see_other(f"/collection/tasks/{task_id}?done=submitted")
        await db(
            request,
            lambda s: svc.campaigns.save_draft(s, actor, task_id, parsed.data, version),
            commit=True,
        )
        return see_other(f"/collection/tasks/{task_id}?done=draft")
    except ValidationFailed as exc:
        return await _task_page(
            request,
            state,
            data=parsed.data,
            errors=field_errors(exc),
            parsed=parsed,
            client_key=client_key,
            status_code=422,
        )
    except Conflict as exc:
        fresh = await db(request, lambda s: _load_task(s, request, actor, task_id))
        return await _task_page(request, fresh, notice=exc.message, status_code=409)


@page(REVIEW)
async def task_return(request: Request) -> Response:
    task_id = path_id(request, "task_id")
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
    return see_other(f"/collection/tasks/{task_id}?done=returned")
