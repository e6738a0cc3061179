"""Campaigns (采集管理): the list, sending a new one, its progress dashboard, reminders, results.

Progress is read level by level (district, street, committee) within the actor's scope; a
committee's row links to its task.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed, charts
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import form_int, parse_int, path_id
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import LEVELS, OrgUnit
from ..portal.common import SHANGHAI, actor_of, db, kernel_of, page, render
from ..portal.form_renderer import FormLayout
from . import fields, follow_up
from .campaigns import RESULTS, REVIEW
from .for_plugins import campaign_view
from .forms import PUBLISH
from .models import TASK_STATUSES, FormVersion, Task, utcnow
from .pages_files import readable_files
from .pages_support import (
    LEVEL_NAMES,
    NEXT_LEVEL,
    field_errors,
    figure,
    notice_of,
    see_other,
    translator,
)
from .results import aggregate, overdue, progress
from .tasks import aware

# -- campaigns ---------------------------------------------------------------------------

#: The not-submitted list shows every unit a reminder reaches (a city-wide campaign: ~6,000).
MAX_LISTED = 10000


@page(PUBLISH)
async def campaigns_page(request: Request) -> Response:
    actor = actor_of(request)

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {
                **item,
                "view": campaign_view(session, item["campaign"]),
                "deadline": aware(item["campaign"].deadline),
                "past": utcnow() > aware(item["campaign"].deadline),
            }
            for item in kernel_of(request).collection.campaigns.listing(session, actor)
        ]

    t = translator(request)
    return render(
        request,
        "collection/campaigns.html",
        {
            "items": await db(request, work),
            "breadcrumbs": [(t("数据采集"), None), (t("采集管理"), None)],
            "notice": notice_of(request),
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
    try:
        body.update(form_id=parse_int(form_id, "form_id"), version=parse_int(number, "version"))
    except ValidationFailed:
        errors["form_version"] = "请选择一个已发布的表单版本"
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
            try:
                age = form_int(form, key, high=150)
            except ValidationFailed:
                errors[f"roster_filter.{key}"] = "应为 0-150 的整数"
            else:
                if age is not None:
                    roster[key] = age
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
    t = translator(request)
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
        found = field_errors(exc)
        for key in ("form_id", "version"):
            if key in found:
                errors["form_version"] = found.pop(key)
        errors.update(found)
        return await _campaign_editor(request, entered, errors, 422)
    return see_other(f"/collection/campaigns/{campaign_id}?done=opened&n={tasks}")


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
    campaign_id = path_id(request, "campaign_id")
    actor = actor_of(request)
    svc = kernel_of(request).collection
    code = request.query_params.get("within", "")

    def work(session: Session) -> dict[str, Any]:
        campaign = svc.campaigns.get(session, actor, campaign_id)
        context: dict[str, Any] = {
            "campaign": campaign,
            "view": campaign_view(session, campaign),
            "deadline": aware(campaign.deadline),
            "past": utcnow() > aware(campaign.deadline),
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
            pending=overdue(session, actor, campaign, within, limit=MAX_LISTED),
        )
        return context

    context = await db(request, work)
    t = translator(request)
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
        notice=notice_of(request),
        base=base,
        can_review=actor.has(REVIEW),
        statuses_label=TASK_STATUSES,
    )
    return render(request, "collection/campaign.html", context)


@page(REVIEW)
async def campaign_remind(request: Request) -> Response:
    """Remind the units that have not submitted (one ``collection.reminder`` event each)."""
    campaign_id = path_id(request, "campaign_id")
    actor = actor_of(request)
    kernel = kernel_of(request)
    form = await request.form()
    code = str(form.get("within") or "")

    def work(session: Session) -> int:
        return follow_up.remind(kernel.collection.campaigns, session, actor, campaign_id, code)

    count = await db(request, work, commit=True)
    within = f"&within={code}" if code else ""
    return see_other(f"/collection/campaigns/{campaign_id}?done=reminded&n={count}{within}")


@page(RESULTS)
async def campaign_results(request: Request) -> Response:
    campaign_id = path_id(request, "campaign_id")
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
        ui_fields = (version.ui or {}).get("fields") or {}
        tables = [
            (version.columns.get(name, name), (ui_fields.get(name) or {}).get("label") or name)
            for name, schema in (version.schema_.get("properties") or {}).items()
            if fields.kind_of(fields.resolve(schema, version.schema_)) == "table"
        ]
        return {
            "tables": tables,
            "options": _choice_options(version),
            "campaign": campaign,
            "within": within,
            "level": level,
            "results": results,
            "files": readable_files(kernel_of(request).attachments, session, actor, samples),
            "trail": _trail(session, actor, within),
        }

    context = await db(request, work)
    t = translator(request)
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
            (t(label), figure(question.get(key)))
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
        group["sums"] = {q["column"]: figure(q.get("sum")) for q in group["questions"]}
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
