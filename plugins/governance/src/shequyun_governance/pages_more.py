"""Knowledge-base pages and the 民情 dashboard (with its CSV and XLSX exports)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shequyun_sdk import ApiError, NotFound, charts, platform_from_request
from shequyun_sdk.params import path_id
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import categories, exports, knowledge, stats
from .core import PUBLISH, VIEW
from .web import actor_of, form_errors, form_with_files, redirect, render, run, staff_page

__all__ = ["ROUTES"]


# -- knowledge ---------------------------------------------------------------------------------


@staff_page(VIEW)
async def knowledge_home(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    query = (request.query_params.get("q") or "").strip()[:100]

    def work() -> dict[str, Any]:
        with platform.session() as session:
            if query:
                found, words, partial = knowledge.search_articles(platform, session, actor, query)
                return {"results": found, "words": words, "partial": partial, "recent": []}
            return {
                "results": [],
                "words": [],
                "partial": False,
                "recent": knowledge.listed(platform, session, actor, limit=20),
            }

    return render(
        request, "knowledge.html", {**await run(work), "q": query, "kinds": knowledge.KINDS}
    )


@staff_page(VIEW)
async def article_page(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = path_id(request, "article_id")

    def work() -> dict[str, Any]:
        with platform.session() as session:
            article = knowledge.get(platform, session, actor, article_id)
            unit = platform.unit_by_id(session, article.unit_id)
            files = [platform.get_attachment(session, a) for a in article.attachments]
            return {
                "article": article,
                "versions": knowledge.versions(session, article_id),
                "files": [f for f in files if f is not None],
                "may_edit": unit is not None and platform.can(actor, PUBLISH, unit),
            }

    return render(request, "article.html", {**await run(work), "kinds": knowledge.KINDS})


@staff_page(PUBLISH)
async def article_form(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    article_id = request.path_params.get("article_id")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values, uploads = await form_with_files(request, "files", knowledge.MAX_FILES)
            chosen = values.get("categories") or []
            values["categories"] = [chosen] if isinstance(chosen, str) else chosen

            def save() -> int:
                with platform.session() as session:
                    raw = dict(values)
                    if article_id is None:
                        article = knowledge.publish(platform, session, actor, raw, uploads)
                        return int(article.id or 0)
                    current = knowledge.get(platform, session, actor, int(article_id))
                    raw["attachments"] = list(current.attachments)
                    article = knowledge.revise(
                        platform, session, actor, int(article_id), raw, uploads
                    )
                    return int(article.id or 0)

            saved = await run(save)
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            errors = form_errors(exc)
        else:
            return redirect(request, f"/knowledge/{saved}")

    def context() -> dict[str, Any]:
        with platform.session() as session:
            current = None
            if article_id is not None:
                current = knowledge.get(platform, session, actor, int(article_id))
            return {"article": current, "case_categories": categories.listed(session, "case")}

    found = await run(context)
    if not values and found["article"] is not None:
        article = found["article"]
        values = {
            "kind": article.kind,
            "title": article.title,
            "body": article.body,
            "categories": article.categories,
            "version": article.version,
        }
    return render(
        request,
        "article_form.html",
        {**found, "values": values, "errors": errors, "kinds": knowledge.KINDS},
        status_code=422 if errors else 200,
    )


# -- 民情 dashboard ------------------------------------------------------------------------------


def _period(request: Request) -> str:
    period = request.query_params.get("period", "month")
    return period if period in stats.PERIODS else "month"


def figures_for(platform: Any, actor: Any, code: str | None, period: str) -> Any:
    with platform.session() as session:
        return stats.figures_at(platform, session, actor, code, period)


@staff_page(VIEW)
async def dashboard(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    period = _period(request)
    found, trail = await run(
        figures_for, platform, actor, request.query_params.get("unit_code"), period
    )
    total = found.totals
    rates = [
        (row.unit.name, round(row.rate * 100, 1)) for row in found.units if row.rate is not None
    ]
    drawn = {
        "trend": charts.line_chart(
            "民情日志与案件数量",
            found.labels,
            [("民情日志", found.logs_by_period), ("案件", found.cases_by_period)],
            width=420,
            height=200,
        ),
        "rates": charts.bar_chart(
            "按期办结率",
            rates,
            unit="%",
            reference=None if total.rate is None else round(total.rate * 100, 1),
            reference_label=f"{found.unit.name}",
            width=420,
        )
        if rates
        else "",
        "categories": charts.bar_chart("案件类别", found.cases_by_category[:10], width=340),
        "sources": charts.bar_chart("案件来源", found.cases_by_source, width=340),
        "logs": charts.bar_chart(
            "民情日志类别", found.logs_by_category[:10], colour="#2563eb", width=340
        ),
        "hot": charts.bar_chart("热点楼栋", found.hot_spots, colour="#f59e0b", width=340),
    }
    query = f"unit_code={quote(found.unit.code)}&period={period}"
    return render(
        request,
        "dashboard.html",
        {
            "figures": found,
            "total": total,
            "trail": trail,
            "charts": drawn,
            "periods": stats.PERIODS,
            "period": period,
            "query": query,
        },
    )


@staff_page(VIEW)
async def dashboard_export(request: Request) -> Response:
    platform = platform_from_request(request)
    actor = actor_of(request)
    extension = str(request.path_params["extension"])
    if extension not in ("csv", "xlsx"):
        raise NotFound("没有这种格式", field="extension")
    found, _ = await run(
        figures_for, platform, actor, request.query_params.get("unit_code"), _period(request)
    )
    if extension == "csv":
        body, media = exports.as_csv(found), "text/csv; charset=utf-8"
    else:
        body = await run(exports.as_xlsx, found)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = quote(exports.filename(found, extension))
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


ROUTES: list[BaseRoute] = [
    Route("/knowledge", knowledge_home, methods=["GET"]),
    Route("/knowledge/new", article_form, methods=["GET", "POST"]),
    Route("/knowledge/{article_id:int}", article_page, methods=["GET"]),
    Route("/knowledge/{article_id:int}/edit", article_form, methods=["GET", "POST"]),
    Route("/dashboard", dashboard, methods=["GET"]),
    Route("/dashboard.{extension:str}", dashboard_export, methods=["GET"]),
]
