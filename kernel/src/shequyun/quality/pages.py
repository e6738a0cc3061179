"""Portal pages: 我的数据质量 (score and to-do list), units ranked with their trend, the rules.

Each page draws what :class:`.service.QualityService` answers for the logged-in actor; the
forms (confirm, waive, save a rule) call the same service functions as the API.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ValidationFailed, charts
from shequyun_sdk.params import form_int, query_int
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, db, kernel_of, page, render
from .checks import CHECKS, KINDS
from .duplicates import MERGE
from .rules import LEVELS
from .scores import Score
from .service import MANAGE, READ

__all__ = ["ROUTES"]

PAGE_SIZE = 30
#: What the to-do list says after a finding was dealt with (``?done=``).
UNIT_DONE = {
    "confirmed": "已记为今天与居民核实过，相关问题已更新。",
    "waived": "已标记核实无误：这条规则不再提示该居民。",
}
#: What the duplicates page says after a decision (``?done=``).
DONE = {
    "merge": "已合并：另一条记录已注销，它的关联已转到保留的记录；如有误，可在下方撤销。",
    "different": "已标记为不是同一人。",
    "undo": "已撤销合并：两条记录都已恢复，这组记录重新待处理。",
}


def _service(request: Request) -> Any:
    return kernel_of(request).quality


def _filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    level = params.get("level") or None
    rule = (params.get("rule") or "")[:60] or None
    number = query_int(request, "page", 1, low=1, high=99_999)
    return {"level": level if level in LEVELS else None, "rule": rule, "page": number}


def _score_chart(unit: Score, children: list[Score]) -> str | None:
    ranked = [c for c in children if c.score is not None]
    if not ranked:
        return None
    return charts.ranked_bars(
        f"{unit.name} 数据质量评分：各下级对比",
        [(c.name, c.score or 0.0, None) for c in ranked],
        width=560,
        reference=unit.score,
        reference_label=unit.name,
        decimals=1,
    )


def _trend_chart(unit: Score, points: list[dict[str, Any]]) -> str | None:
    if len(points) < 2:
        return None
    return charts.line_chart(
        f"{unit.name} 数据质量评分趋势",
        [p["day"][5:] for p in points],
        [("评分", [p["score"] for p in points])],
        width=560,
        height=220,
    )


async def _unit_page(request: Request, code: str | None) -> Response:
    actor = actor_of(request)
    service = _service(request)
    chosen = _filters(request)

    def work(session: Any) -> dict[str, Any]:
        unit, children = service.scores(session, actor, code)
        total, items = service.findings(
            session,
            actor,
            unit_code=unit.code,
            level=chosen["level"],
            rule=chosen["rule"],
            limit=PAGE_SIZE,
            offset=(chosen["page"] - 1) * PAGE_SIZE,
        )
        trend = service.trend(session, actor, unit.code, days=90)
        rules = service.visible_rules(session, actor)
        return {"unit": unit, "children": children, "total": total, "items": items,
                "trend": trend, "rules": rules}  # fmt: skip

    found = await db(request, work)
    unit: Score = found["unit"]
    ranked = sorted(found["children"], key=lambda c: (c.score is None, -(c.score or 0)))
    pages = max(1, -(-found["total"] // PAGE_SIZE))

    def link(**changes: Any) -> str:
        query = {k: v for k, v in {**chosen, **changes}.items() if v not in (None, "", 1)}
        return f"?{urlencode(query)}" if query else "?"

    return render(
        request,
        "quality/unit.html",
        {
            "unit": unit,
            "ranked": ranked,
            "chart": _score_chart(unit, ranked),
            "trend_chart": _trend_chart(unit, found["trend"]),
            "items": found["items"],
            "total": found["total"],
            "rules": found["rules"],
            "chosen": chosen,
            "pages": pages,
            "link": link,
            "levels": LEVELS,
            "kinds": KINDS,
            "can_write": actor.has("residents.write"),
            "can_round": unit.level != "committee" and actor.has("collection.publish"),
            # The same page with its filters (never ?done=), to come back to after a form.
            "back": str(request.url.path) + (link() if link() != "?" else ""),
            "done": UNIT_DONE.get(request.query_params.get("done", "")),
        },
    )


@page(READ)
async def home(request: Request) -> Response:
    """我的数据质量: the actor's own unit."""
    return await _unit_page(request, None)


@page(READ)
async def unit_page(request: Request) -> Response:
    return await _unit_page(request, request.path_params["code"])


def _back(form: Any, done: str) -> str:
    """Where the form came from (a page of /quality), saying what was done there."""
    target = str(form.get("next") or "/quality")
    target = target if target.startswith("/quality") else "/quality"
    return f"{target}{'&' if '?' in target else '?'}done={done}"


@page(READ)
async def confirm(request: Request) -> Response:
    """核实无误: the record was checked with the resident today."""
    form = await request.form()
    actor = actor_of(request)
    resident_id = request.path_params["resident_id"]
    await db(request, lambda s: _service(request).confirm(s, actor, resident_id), commit=True)
    return RedirectResponse(_back(form, "confirmed"), status_code=303)


@page(READ)
async def waive(request: Request) -> Response:
    """The value is right: the rule skips this resident from now on (a note is required)."""
    form = await request.form()
    actor = actor_of(request)
    resident_id = request.path_params["resident_id"]
    rule, note = form.get("rule"), form.get("note")
    await db(
        request, lambda s: _service(request).waive(s, actor, resident_id, rule, note), commit=True
    )
    return RedirectResponse(_back(form, "waived"), status_code=303)


@page(READ)
async def rules_page(request: Request) -> Response:
    """The rules in force for the actor's area; administrators add or change rules here."""
    actor = actor_of(request)
    errors: dict[str, str] = {}
    shown: dict[str, Any] = {}
    if request.method == "POST":
        form = await request.form()
        shown = {k: str(form.get(k) or "") for k in ("code", "check", "params", "level", "title",
                                                   "fix")}  # fmt: skip
        try:
            await db(
                request,
                lambda s: _service(request).save_rule(s, actor, _rule_from_form(shown)),
                commit=True,
            )
            return RedirectResponse("/quality/rules?saved=" + shown["code"], status_code=303)
        except ValidationFailed as failed:
            problems: list[Any] = list(failed.details or [])
            problems = problems or [{"field": failed.field or "", "message": failed.message}]
            for problem in problems:
                key = str(problem.get("field") or "").split(".")[0] or "params"
                errors.setdefault(key, str(problem.get("message")))
    rules = await db(request, lambda s: _service(request).visible_rules(s, actor))
    return render(
        request,
        "quality/rules.html",
        {
            "rules": sorted(rules, key=lambda r: (not r.shipped, r.kind, r.code)),
            "checks": CHECKS,
            "kinds": KINDS,
            "levels": LEVELS,
            "can_manage": actor.has(MANAGE),
            "errors": errors,
            "shown": shown,
            "saved": request.query_params.get("saved"),
        },
        status_code=422 if errors else 200,
    )


def _rule_from_form(shown: dict[str, str]) -> dict[str, Any]:
    raw = shown["params"].strip() or "{}"
    try:
        params = json.loads(raw)
    except ValueError:
        raise ValidationFailed('参数应为 JSON，如 {"years": 100}', field="params") from None
    return {**shown, "params": params}


@page(READ)
async def duplicates_page(request: Request) -> Response:
    """疑似重复: pairs to merge or mark as different people, recent merges to undo."""
    actor = actor_of(request)
    duplicates = _service(request).duplicates

    def work(session: Any) -> dict[str, Any]:
        return {
            "pairs": duplicates.pairs(session, actor),
            "merges": duplicates.recent_merges(session, actor),
        }

    found = await db(request, work)
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "quality/duplicates.html",
        {**found, "can_merge": actor.has(MERGE), "done": done},
    )


@page(READ)
async def duplicate_action(request: Request) -> Response:
    """A decision on a pair (form: ``action`` merge/different, ``keep``) or an undo."""
    form = await request.form()
    actor = actor_of(request)
    duplicates = _service(request).duplicates
    number = request.path_params["number"]
    action = str(form.get("action") or "")
    if action == "undo":
        await db(request, lambda s: duplicates.undo(s, actor, number, source="portal"), commit=True)
    elif action == "different":
        await db(request, lambda s: duplicates.mark_different(s, actor, number), commit=True)
    else:
        action = "merge"
        keep = form_int(form, "keep", low=1)
        await db(
            request,
            lambda s: duplicates.merge(s, actor, number, keep, source="portal"),
            commit=True,
        )
    return RedirectResponse(f"/quality/duplicates?done={action}", status_code=303)


@page(READ)
async def start_round(request: Request) -> Response:
    """Start a verification round (form: ``rules`` checked, ``deadline`` a date, ``title``)."""
    form = await request.form()
    actor = actor_of(request)
    rules = [str(r) for r in form.getlist("rules")]
    day = str(form.get("deadline") or "")
    deadline = f"{day}T17:00:00+08:00" if day else None
    title = form.get("title")
    started = await db(
        request,
        lambda s: kernel_of(request).quality_rounds.start(s, actor, rules, deadline, title),
        commit=True,
    )
    return RedirectResponse(f"/quality/rounds/{started.id}", status_code=303)


@page(READ)
async def round_page(request: Request) -> Response:
    """A round: each committee's score when it started and now."""
    actor = actor_of(request)
    number = request.path_params["number"]

    def work(session: Any) -> dict[str, Any]:
        view = kernel_of(request).quality_rounds.view(session, actor, number)
        titles = {r.code: r.title for r in _service(request).visible_rules(session, actor)}
        return {"round": view, "rule_titles": [titles.get(c, c) for c in view["rules"]]}

    return render(request, "quality/round.html", await db(request, work))


ROUTES: list[BaseRoute] = [
    Route("/quality/rounds", start_round, methods=["POST"]),
    Route("/quality/rounds/{number:int}", round_page, methods=["GET"]),
    Route("/quality/duplicates", duplicates_page, methods=["GET"]),
    Route("/quality/duplicates/{number:int}", duplicate_action, methods=["POST"]),
    Route("/quality", home, methods=["GET"]),
    Route("/quality/rules", rules_page, methods=["GET", "POST"]),
    Route("/quality/u/{code}", unit_page, methods=["GET"]),
    Route("/quality/residents/{resident_id:int}/confirm", confirm, methods=["POST"]),
    Route("/quality/residents/{resident_id:int}/waive", waive, methods=["POST"]),
]
