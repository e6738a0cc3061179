"""The residents pages (居民信息): find, view, register, edit, move, import and download residents.

Every page calls :class:`~shequyun.residents.service.ResidentService` (``kernel.residents``) and
the import and export engines, exactly as the API does, so scope, validation, history, events
and audit are theirs: a record outside the actor's grant is "not found" here as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import Conflict, ValidationFailed
from shequyun_sdk.params import form_int, query_int
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..identity import scope
from ..identity.actors import actor_title
from ..identity.directory import display_names
from ..portal.common import actor_of, db, kernel_of, page, render
from ..replicas import reads_replica
from .api import filters_from
from .changes import change_row
from .models import REGISTRATIONS, Address
from .pages_batch import ACTIONS, batch_action, list_notice
from .pages_form import edit_page, new_page
from .pages_io import export_page, import_confirm, import_errors, import_page, import_template
from .pages_support import (
    SOURCE,
    SOURCES,
    closed_page,
    committee_choices,
    errors_of,
    field_titles,
    page_crumbs,
    resident_crumbs,
    resident_id_of,
    tr,
)
from .panels import collect_panels
from .reading import SORTS, Count
from .service import READ, REVEAL, TRANSFER, ResidentFilters

PAGE_SIZE = 50
#: A committee filter lists up to this many committees; above it the unit picker finds them.
PICKER_ABOVE = 60
#: The list's orders as the sort menu names them.
SORT_TITLES = {
    "": "登记顺序",
    "name": "姓名（按拼音）",
    "age": "年龄从大到小",
    "-age": "年龄从小到大",
    "address": "地址（小区、楼栋、室）",
}
NOTICES = {
    "saved": "已保存修改。",
    "created": "已登记该居民。",
    "moved": "已办理迁出，该居民的记录已转到新居委。",
}


# -- the list -------------------------------------------------------------------------------


@reads_replica
@page(READ)
async def list_page(request: Request) -> Response:
    actor = actor_of(request)
    kernel = kernel_of(request)
    service = kernel.residents
    params = request.query_params
    errors: dict[str, str] = {}
    try:
        filters = filters_from(request)
    except ValidationFailed as exc:
        errors = errors_of(exc)
        filters = ResidentFilters(q=None)
    after = params.get("after") or None  # links from before page numbers: keyset by id
    start = query_int(request, "start", 1, low=1, high=2**62)
    number = query_int(request, "page", 1, low=1, high=100_000)
    sort = params.get("sort", "")
    if sort not in SORTS:
        errors["sort"] = "排序方式无效"
        sort = ""

    def work(session: Session) -> dict[str, Any]:
        context: dict[str, Any] = {"items": [], "count": Count(0), "next_cursor": None}
        if not errors and after is not None:
            try:
                found = service.search(session, actor, filters, after=after, limit=PAGE_SIZE)
            except ValidationFailed as exc:  # a damaged cursor
                errors.update(errors_of(exc))
            else:
                context["items"] = found.items
                context["next_cursor"] = found.next_cursor
                context["count"] = service.count(session, actor, filters)
        elif not errors:
            context["items"], context["count"] = service.numbered_page(
                session, actor, filters, sort=sort, page=number, size=PAGE_SIZE
            )
        # Up to PICKER_ABOVE committees a select; more are found with the unit picker.
        context["units"] = committee_choices(session, actor, READ, limit=PICKER_ABOVE + 1)
        # A few hundred compounds of a street name something; the first of a city's do not.
        context["compounds"] = (
            list(
                session.exec(
                    select(Address.compound)
                    .where(scope.scope_filter(actor, READ, Address.unit_id))
                    .distinct()
                    .order_by(col(Address.compound))
                    .limit(300)
                )
            )
            if actor.unit is not None and actor.unit.level in ("street", "committee")
            else []
        )
        return context

    context = await db(request, work)
    kept = [(k, v) for k, v in params.multi_items() if k not in {"after", "start", "page"} and v]
    query = urlencode(kept)
    next_url = None
    count: Count = context["count"]
    pages = max(1, -(-count.n // PAGE_SIZE))
    if after is not None:
        if context["next_cursor"]:
            next_url = "/residents?" + urlencode(
                [*kept, ("after", context["next_cursor"]), ("start", str(start + PAGE_SIZE))]
            )
    else:
        start = (number - 1) * PAGE_SIZE + 1
        if number < pages or (not count.exact and len(context["items"]) == PAGE_SIZE):
            next_url = "/residents?" + urlencode([*kept, ("page", str(number + 1))])

    def page_url(n: int) -> str:
        return "/residents?" + urlencode([*kept, ("page", str(n))])

    shown_pages = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
    vocabulary = service.vocabulary
    extra_open = any(
        params.get(name)
        for name in ("tag", "age_min", "age_max", "compound", "building", "unit", "registration")
    )
    return render(
        request,
        "residents/list.html",
        {
            **context,
            "p": params,
            "errors": errors,
            "titles": field_titles(vocabulary),
            "tags": [name for name in vocabulary.tags if vocabulary.known_tag(name)],
            "registrations": REGISTRATIONS,
            "start": start,
            "end": start + len(context["items"]) - 1,
            "paged": after is not None or number > 1,
            "page_number": number,
            "pages": pages,
            "page_links": [(n, page_url(n)) for n in shown_pages] if after is None else [],
            "prev_url": page_url(number - 1) if after is None and number > 1 else None,
            "sort": sort,
            "sorts": SORT_TITLES,
            "first_url": "/residents?" + query if query else "/residents",
            "next_url": next_url,
            "export_url": "/residents/export?" + urlencode([(k, v) for k, v in kept if k != "sort"])
            if query
            else "/residents/export",
            "extra_open": extra_open,
            "picker": len(context["units"]) > PICKER_ABOVE,
            "notice": tr(request, NOTICES["moved"])
            if params.get("notice") == "moved"
            else list_notice(request),
            "batch_actions": [
                (key, title) for key, (title, needs) in ACTIONS.items() if actor.has(needs)
            ],
            "batch_back": request.url.query,
            "breadcrumbs": page_crumbs(request, ("工作台", "/workbench"), ("居民信息", None)),
        },
        status_code=422 if errors else 200,
    )


# -- one resident ---------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    version: int
    at: str
    who: str
    source: str
    fields: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def _timeline(
    history: list[dict[str, Any]],
    names: Mapping[str, str],
    vocabulary: Any,
    plugins: Mapping[str, str],
) -> list[HistoryEntry]:
    """The history rows grouped into one entry per saved version, newest first; ``names``
    are people's display names by login, ``plugins`` plugins' titles by name."""
    entries: list[HistoryEntry] = []
    for change in history:
        if not entries or entries[-1].version != change["version"]:
            source = str(change["source"])
            entries.append(
                HistoryEntry(
                    version=change["version"],
                    at=change["at"],
                    who=actor_title(change["actor"], names.get(change["actor"] or ""), plugins),
                    source=SOURCES.get(source, "插件" if source.startswith("plugin") else source),
                )
            )
        entries[-1].fields.append(
            change_row(change["field"], change["old"], change["new"], vocabulary)
        )
    return entries[::-1]


async def _detail_context(request: Request, resident_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    service = kernel_of(request).residents

    def work(session: Session) -> dict[str, Any]:
        resident = service.get(session, actor, resident_id)
        view = service.view(session, resident)
        history = service.history(session, actor, resident_id)
        names = display_names(session, (c["actor"] for c in history))
        return {
            "r": view,
            "timeline": _timeline(
                history, names, service.vocabulary, kernel_of(request).host.titles()
            ),
            "members": service.household_members(session, actor, resident),
        }

    context: dict[str, Any] = await db(request, work)
    view = context["r"]
    context["attributes"] = [
        (spec.attribute.title, view["attributes"].get(spec.key))
        for spec in service.vocabulary.active_attributes()
    ]
    context["breadcrumbs"] = resident_crumbs(request, view)
    # plugins' panels (resident_panels hook), in a worker thread: they may query
    context["panels"] = await run_in_threadpool(
        collect_panels, kernel_of(request), request, actor_of(request), view
    )
    return context


@page(READ)
async def detail_page(request: Request) -> Response:
    resident_id = resident_id_of(request)
    context = await _detail_context(request, resident_id)
    notice = request.query_params.get("notice", "")
    context["notice"] = tr(request, NOTICES[notice]) if notice in NOTICES else None
    return render(request, "residents/detail.html", {**context, "revealed": None, "errors": {}})


@page(REVEAL)
async def reveal_page(request: Request) -> Response:
    """Show the full ID or phone number to an actor allowed to, for a stated reason (audited)."""
    actor = actor_of(request)
    resident_id = resident_id_of(request)
    service = kernel_of(request).residents
    form = await request.form()
    fields = [f for f in form.getlist("fields") if isinstance(f, str)]
    reason = str(form.get("reason") or "")
    try:
        revealed = await db(
            request,
            lambda s: service.reveal(s, actor, resident_id, fields=fields, reason=reason),
            commit=True,
        )
    except ValidationFailed as exc:
        context = await _detail_context(request, resident_id)
        context.update(revealed=None, errors=errors_of(exc), reveal_form=form)
        return render(request, "residents/detail.html", context, status_code=422)
    context = await _detail_context(request, resident_id)
    context.update(revealed=revealed, errors={})
    response = render(request, "residents/detail.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- transfer -------------------------------------------------------------------------------


@page(TRANSFER)
async def transfer_page(request: Request) -> Response:
    actor = actor_of(request)
    resident_id = resident_id_of(request)
    service = kernel_of(request).residents
    view = await db(request, lambda s: service.view_of(s, actor, resident_id, TRANSFER))
    closed = closed_page(request, view, "办理迁出", "迁出")
    if closed is not None:
        return closed
    context: dict[str, Any] = {
        "r": view,
        "titles": field_titles(service.vocabulary),
        "breadcrumbs": resident_crumbs(request, view, "迁出"),
    }
    if request.method == "GET":
        values = {"to_unit_code": "", "effective_on": date.today().isoformat(), "reason": ""}
        return render(
            request,
            "residents/transfer.html",
            {**context, "v": values, "version": view["version"], "errors": {}},
        )
    form = await request.form()
    values = {
        name: str(form.get(name) or "").strip()
        for name in ("to_unit_code", "effective_on", "reason")
    }
    raw_version = str(form.get("version") or "")
    version = form_int(form, "version")
    try:
        await db(
            request,
            lambda s: service.transfer(
                s,
                actor,
                resident_id,
                to_unit_code=values["to_unit_code"],
                effective_on=values["effective_on"],
                reason=values["reason"],
                version=version,
                source=SOURCE,
            ),
            commit=True,
        )
    except (ValidationFailed, Conflict) as exc:
        if isinstance(exc, Conflict) and exc.field == "status":  # removed (注销) meanwhile
            closed = closed_page(request, {**view, "status": "removed"}, "办理迁出", "迁出")
            assert closed is not None
            return closed
        status = 409 if isinstance(exc, Conflict) else 422
        errors = errors_of(exc)
        current = exc.extra.get("current") if isinstance(exc, Conflict) else None
        if isinstance(current, dict):
            errors = {"(form)": "该记录已被他人修改，请核对后再提交迁出"}
            context["r"] = current
            raw_version = str(current["version"])
        return render(
            request,
            "residents/transfer.html",
            {**context, "v": values, "version": raw_version, "errors": errors},
            status_code=status,
        )
    return RedirectResponse("/residents?notice=moved", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/residents", list_page, methods=["GET"]),
    Route("/residents/new", new_page, methods=["GET", "POST"]),
    Route("/residents/import", import_page, methods=["GET", "POST"]),
    Route("/residents/import/confirm", import_confirm, methods=["POST"]),
    Route("/residents/import/template.csv", import_template, methods=["GET"]),
    Route("/residents/import/{token}/problems.csv", import_errors, methods=["GET"]),
    Route("/residents/export", export_page, methods=["GET", "POST"]),
    Route("/residents/batch", batch_action, methods=["POST"]),
    Route("/residents/{resident_id:int}", detail_page, methods=["GET"]),
    Route("/residents/{resident_id:int}/reveal", reveal_page, methods=["POST"]),
    Route("/residents/{resident_id:int}/edit", edit_page, methods=["GET", "POST"]),
    Route("/residents/{resident_id:int}/transfer", transfer_page, methods=["GET", "POST"]),
]
