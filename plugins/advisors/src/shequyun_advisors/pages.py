"""The portal's pages: the 政策找人 dashboard, a candidate, the policy pool, the advisor's desk.

Handlers only translate: they call the same service functions as the API (scope, masking,
audit, history live there) and render templates that extend the portal's shell.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from shequyun_sdk import (
    Actor,
    ApiError,
    Platform,
    actor_from_request,
    charts,
    platform_from_request,
    plugin_from_request,
    requires,
)
from shequyun_sdk.params import form_int, path_id, query_int
from sqlalchemy import func
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import desk, funnel, outreach, policies, pool
from .core import BEIJING, CLOSED, OUTCOMES, OUTREACH, POLICIES, SERVE, STATUSES, VIEW, area
from .models import Case
from .policy.loader import PolicyError

__all__ = ["ROUTES", "open_count"]

T = TypeVar("T")


def _actor(request: Request) -> Actor:
    actor = actor_from_request(request)
    assert actor is not None
    return actor


async def _run(request: Request, work: Callable[..., T]) -> T:
    platform = platform_from_request(request)

    def call() -> T:
        with platform.session() as session:
            return work(platform, session, _actor(request))

    return await run_in_threadpool(call)


def _render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    plugin = plugin_from_request(request)
    actor = _actor(request)
    values = {
        "u": plugin.url,
        "static": plugin.static_url,
        "can": {p: actor.has(p) for p in (VIEW, OUTREACH, SERVE, POLICIES)},
        "notice": request.query_params.get("notice"),
        **context,
    }
    return platform_from_request(request).render(
        request, f"advisors/{template}", values, status_code=status
    )


def _back(request: Request, path: str, notice: str) -> Response:
    plugin = plugin_from_request(request)
    return RedirectResponse(plugin.url(path) + "?notice=" + quote(notice), status_code=303)


def open_count(platform: Platform, actor: Actor) -> int:
    """Open cases in the actor's scope (the workbench card's figure)."""
    with platform.session() as session:
        count = session.execute(
            select(func.count())
            .select_from(Case)
            .where(
                platform.scope_filter(actor, OUTREACH, Case.unit_id),
                col(Case.status).not_in(CLOSED),
            )
        ).scalar_one()
    return int(count)


# -- 政策找人 ----------------------------------------------------------------------------------


@requires(OUTREACH)
async def dashboard(request: Request) -> Response:
    params = request.query_params

    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        unit = area(platform, session, actor, OUTREACH, params.get("unit"))
        policy_id = params.get("policy") or None
        committees = funnel.committee_ids(platform, session, unit)
        items, after = outreach.list_candidates(
            platform,
            session,
            actor,
            unit,
            committees=committees,
            policy_id=policy_id,
            status=params.get("status") or "open",
            after=query_int(request, "after"),
        )
        shown = funnel.funnel(platform, session, actor, unit, policy_id=policy_id)
        per_policy = _per_policy(platform, session, actor, committees)
        names = {p.id: p.name for p in pool.pool(session, in_force=False)}
        total = shown["total"]
        return {
            "unit": unit,
            "children": platform.unit_children(session, unit) if unit.level != "committee" else [],
            "policy_id": policy_id,
            "status": params.get("status") or "open",
            "policies": names,
            "items": items,
            "after": after,
            "funnel": shown,
            "funnel_svg": charts.bar_chart(
                "政策找人进度",
                [(title, total[key]) for key, title in _stages()],
                unit="人",
                width=CHART_WIDTH,
            ),
            "policy_svg": charts.bar_chart(
                "各政策待跟进人数",
                [(short_name(names.get(pid, pid)), n) for pid, n in per_policy],
                unit="人",
                width=CHART_WIDTH,
            )
            if per_policy
            else "",
            "statuses": {k: v[0] for k, v in STATUSES.items()},
        }

    return _render(request, "dashboard.html", await _run(request, work))


CHART_WIDTH = 380  # the width of a card on a desktop, about a phone's: text stays legible


def short_name(name: str, limit: int = 9) -> str:
    """A policy's name short enough for a chart's label column (上海市 and brackets dropped)."""
    name = name.removeprefix("上海市").split("（")[0].replace("“", "").replace("”", "")
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _stages() -> list[tuple[str, str]]:
    from .core import STAGES

    return list(STAGES)


def _per_policy(
    platform: Platform, session: Any, actor: Actor, committees: list[int] | None
) -> list[tuple[str, int]]:
    query = (
        select(col(Case.policy_id), func.count())
        .where(
            platform.scope_filter(actor, OUTREACH, Case.unit_id),
            col(Case.status).not_in(CLOSED),
        )
        .group_by(col(Case.policy_id))
        .order_by(func.count().desc())
    )
    if committees is not None:
        query = query.where(col(Case.unit_id).in_(committees))
    return [(pid, int(n)) for pid, n in session.execute(query).all()]


@requires(OUTREACH)
async def refresh(request: Request) -> Response:
    form = await request.form()

    def work(platform: Platform, session: Any, actor: Actor) -> int:
        unit = area(platform, session, actor, OUTREACH, str(form.get("unit") or "") or None)
        found = outreach.sync(platform, session, actor, unit, pool.pool(session))
        return sum(found.values())

    found = await _run(request, work)
    return _back(request, "/", f"名单已更新，新发现 {found} 人")


@requires(OUTREACH)
async def case_page(request: Request) -> Response:
    case_id = path_id(request, "case_id")

    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        row = outreach.get_case(platform, session, actor, case_id)
        view = outreach.views(platform, session, actor, [row])[0]
        return {
            "case": view,
            "history": outreach.history(session, case_id),
            "outcomes": {k: STATUSES[k][0] for k in OUTCOMES},
            "closed": row.status in CLOSED,
        }

    return _render(request, "case.html", await _run(request, work))


@requires(OUTREACH)
async def case_outcome(request: Request) -> Response:
    case_id = path_id(request, "case_id")
    form = await request.form()

    def work(platform: Platform, session: Any, actor: Actor) -> str:
        if form.get("assign") == "me":
            outreach.assign(platform, session, actor, case_id, assignee="me")
            return "已由您跟进"
        version = form_int(form, "version", label="版本号")
        row = outreach.record_outcome(
            platform,
            session,
            actor,
            case_id,
            outcome=form.get("outcome"),
            note=str(form.get("note") or ""),
            version=version,
        )
        return f"已记录：{STATUSES[row.status][0]}"

    try:
        notice = await _run(request, work)
    except ApiError as exc:
        if exc.status_code == 404:
            raise
        notice = exc.message
    return _back(request, f"/cases/{case_id}", notice)


# -- the policy pool --------------------------------------------------------------------------


@requires(VIEW)
async def policy_list(request: Request) -> Response:
    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        day = pool.today()
        return {
            "items": [policies.policy_summary(p, day) for p in pool.pool(session, in_force=False)]
        }

    return _render(request, "policies.html", await _run(request, work))


@requires(VIEW)
async def policy_page(request: Request) -> Response:
    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        policy = pool.get_policy(session, request.path_params["policy_id"])
        if policy is None:
            from shequyun_sdk import NotFound

            raise NotFound("找不到该政策")
        return {"p": policies.policy_detail(session, policy, pool.today())}

    return _render(request, "policy.html", await _run(request, work))


@requires(POLICIES)
async def policy_editor(request: Request) -> Response:
    source, problems = "", []
    if request.method == "POST":
        form = await request.form()
        source = str(form.get("source") or "")

        def work(platform: Platform, session: Any, actor: Actor) -> str:
            row = policies.save_policy(
                platform, session, actor, source, str(form.get("note") or "")
            )
            return f"{row.policy_id}：已保存为第 {row.version} 版"

        try:
            return _back(request, "/policies", await _run(request, work))
        except PolicyError as exc:
            problems = exc.problems
        except ApiError as exc:
            problems = [(exc.field or "", exc.message)]
    elif request.query_params.get("from"):

        def load(platform: Platform, session: Any, actor: Actor) -> str:
            import yaml

            policy = pool.get_policy(session, request.query_params["from"])
            if policy is None:
                return ""
            return yaml.safe_dump(dict(policy.source), allow_unicode=True, sort_keys=False)

        source = await _run(request, load)
    return _render(
        request,
        "policy_edit.html",
        {"source": source, "problems": problems},
        status=422 if problems else 200,
    )


# -- the advisor's desk -----------------------------------------------------------------------


@requires(SERVE)
async def desk_page(request: Request) -> Response:
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {"resident_id": request.query_params.get("resident", "")}
    if request.method == "POST":
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        data: dict[str, Any] = {
            "kind": values.get("kind"),
            "channel": values.get("channel"),
            "summary": values.get("summary", ""),
            "policy_id": values.get("policy_id") or None,
        }
        resident_id = form_int(values, "resident_id", label="居民编号")
        if resident_id is not None:
            data["resident_id"] = resident_id

        def save(platform: Platform, session: Any, actor: Actor) -> None:
            desk.record_service(platform, session, actor, data)

        try:
            await _run(request, save)
            return _back(request, "/desk", "已记录一次服务")
        except ApiError as exc:
            problems = [(exc.field or "", exc.message)]

    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        advisor = desk.advisor_of(session, actor)
        return {
            "advisor": advisor,
            "log": desk.service_log(platform, session, actor),
            "kinds": desk.KINDS,
            "channels": desk.CHANNELS,
            "policies": {p.id: p.name for p in pool.pool(session)},
            "month": datetime.now(BEIJING).strftime("%Y-%m"),
        }

    context = await _run(request, work)
    return _render(
        request,
        "desk.html",
        {**context, "values": values, "problems": problems},
        status=422 if problems else 200,
    )


@requires(VIEW)
async def figures_page(request: Request) -> Response:
    params = request.query_params
    month = params.get("month") or datetime.now(BEIJING).strftime("%Y-%m")

    def work(platform: Platform, session: Any, actor: Actor) -> dict[str, Any]:
        unit = area(platform, session, actor, VIEW, params.get("unit"))
        figures = desk.monthly(platform, session, actor, unit, month)
        from .models import Resource

        resources = session.exec(select(Resource).where(col(Resource.active))).all()
        return {
            "figures": figures,
            "chart": charts.bar_chart(
                f"{month} 各单位服务人次",
                [((r["unit"] or {}).get("name", ""), r["services"]) for r in figures["children"]],
                unit="次",
            )
            if figures["children"]
            else "",
            "resources": [desk.resource_view(r) for r in resources],
        }

    return _render(request, "figures.html", {**(await _run(request, work)), "month": month})


ROUTES = [
    Route("/", dashboard, methods=["GET"]),
    Route("/sync", refresh, methods=["POST"]),
    Route("/cases/{case_id:int}", case_page, methods=["GET"]),
    Route("/cases/{case_id:int}", case_outcome, methods=["POST"]),
    Route("/policies", policy_list, methods=["GET"]),
    Route("/policies/new", policy_editor, methods=["GET", "POST"]),
    Route("/policies/{policy_id}", policy_page, methods=["GET"]),
    Route("/desk", desk_page, methods=["GET", "POST"]),
    Route("/figures", figures_page, methods=["GET"]),
]
