"""组织架构: browse and search the org-unit tree, change units, import a roster.

Reads go through :func:`~shequyun.identity.api_org.unit_view` and the API's listing, changes
through :mod:`~shequyun.identity.orgunits` and imports through
:func:`~shequyun.identity.org_import.import_units`: the same scope (a unit outside the actor's
subtree is "not found"), validation, history and audit as the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ApiError, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import form_int, query_int
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, db, page, render
from . import api_org, org_import, orgunits, scope
from .auth import unit_ref
from .models import LEVEL_NAMES, LEVELS, OrgUnit, OrgUnitChange, User
from .orgunits import StaleVersion
from .pages_admin import (
    ORG_MANAGE,
    ORG_VIEW,
    crumbs,
    drop_upload,
    errors_of,
    in_thread,
    keep_upload,
    pending_upload,
    read_upload,
    tr,
    unit_choices,
)

__all__ = ["ROUTES", "describe_change"]

PAGE_SIZE = 50
#: Rows of an import report shown on the page (errors and new units each).
SHOWN_ROWS = 500
IMPORT_KIND = "org"
TEMPLATE_CSV = "编码,名称,层级,上级编码\r\n"
NOTICES = {
    "created": "已设立该单位。",
    "renamed": "已更名。",
    "moved": "已移动，其下级随之移动。",
    "closed": "已撤销该单位。",
}


# -- reading ----------------------------------------------------------------------------------


def describe_change(change: OrgUnitChange) -> str:
    """One line of a unit's history in Chinese."""
    d: Mapping[str, Any] = change.detail or {}

    def name(value: Any) -> str:
        return str(value.get("name", "")) if isinstance(value, Mapping) else str(value)

    match change.action:
        case "created":
            source = f"（导入 {d['import']}）" if d.get("import") else ""
            return f"设立：{d.get('name', '')}{source}"
        case "renamed":
            return f"更名：{d.get('from', '')} → {d.get('to', '')}"
        case "moved":
            reason = f"（{d['reason']}）" if d.get("reason") else ""
            return f"移动：从 {name(d.get('from'))} 到 {name(d.get('to'))}{reason}"
        case "closed":
            successor = f"，接续单位 {name(d['successor'])}" if d.get("successor") else ""
            return f"撤销{successor}"
        case "split":
            return f"拆分为 {'、'.join(map(str, d.get('into', [])))}"
        case "split_from":
            return f"由 {name(d.get('from'))} 拆分设立"
        case "merged":
            return f"并入 {name(d.get('into'))}"
        case "merged_from":
            return f"由 {'、'.join(name(u) for u in d.get('from', []))} 合并设立"
    return change.action


def _listing_params(request: Request, code: str) -> tuple[QueryParams, dict[str, str]]:
    """The API listing's parameters for this page: the children, or a search in the subtree."""
    params = request.query_params
    q = params.get("q", "").strip()
    shown = {"q": q, "status": "all" if params.get("status") == "all" else "open"}
    query: dict[str, str] = {("within" if q else "parent"): code, "status": shown["status"]}
    if q:
        query["q"] = q
    if params.get("cursor"):
        query["cursor"] = params["cursor"]
    query["limit"] = str(PAGE_SIZE)
    return QueryParams(query), shown


def _history(rows: list[tuple[OrgUnitChange, User | None]]) -> list[dict[str, Any]]:
    """The unit's changes as the page shows them, newest first."""
    return [
        {
            "at": change.at,
            "effective_on": change.effective_on,
            "text": describe_change(change),
            "by": user.display_name if user else "命令行",
        }
        for change, user in reversed(rows)
    ]


@page(ORG_VIEW)
async def unit_page(request: Request) -> Response:
    """A unit: the way up, its facts, its children (or a search below it), its history."""
    actor = actor_of(request)
    assert actor.unit is not None
    code = str(request.path_params.get("code") or actor.unit.code)
    params, shown = _listing_params(request, code)

    def fetch(session: Session) -> dict[str, Any]:
        unit, changes = orgunits.history(session, code, by=actor)
        context: dict[str, Any] = {
            "unit": api_org.unit_view(session, unit, actor),
            "history": _history(changes),
            "may_manage": scope.can(actor, ORG_MANAGE, unit_ref(unit)),
            "errors": {},
        }
        try:
            context["listing"] = api_org.list_page(session, actor, api_org.parse_list_query(params))
        except ValidationFailed as exc:
            context["errors"] = {"q" if exc.field in {"q", "within"} else "(form)": exc.message}
            context["listing"] = {"items": [], "next_cursor": None}
        return context

    context = await db(request, fetch)
    view = context["unit"]
    done = request.query_params.get("done", "")
    next_cursor = context["listing"]["next_cursor"]
    return render(
        request,
        "admin/org_unit.html",
        {
            **context,
            **shown,
            "level_names": LEVEL_NAMES,
            "child_level": _child_level(view["level"]),
            "next_href": f"?{urlencode({**_nonempty(shown), 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_href": f"?{urlencode(_nonempty(shown))}"
            if request.query_params.get("cursor")
            else None,
            "notice": tr(request, NOTICES[done]) if done in NOTICES else None,
            "breadcrumbs": crumbs(
                request,
                *((b["name"], f"/admin/org/{b['code']}") for b in view["breadcrumb"]),
                (view["name"], None),
            ),
        },
        status_code=422 if context["errors"] else 200,
    )


def _nonempty(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v and not (k == "status" and v == "open")}


def _child_level(level: str) -> str | None:
    index = LEVELS.index(level) + 1 if level in LEVELS else len(LEVELS)
    return LEVELS[index] if index < len(LEVELS) else None


# -- changing a unit ----------------------------------------------------------------------------

#: What each change asks for: its title and the form fields (besides the hidden version).
ACTIONS: dict[str, dict[str, Any]] = {
    "new": {"title": "设立下级单位", "fields": ("code", "name", "opened_on")},
    "rename": {"title": "更名", "fields": ("name",)},
    "move": {"title": "移动到其他上级", "fields": ("parent", "on")},
    "close": {"title": "撤销", "fields": ("closed_on", "successor")},
}


def _day(
    values: Mapping[str, str], name: str, errors: dict[str, str], required: bool
) -> date | None:
    raw = values.get(name, "")
    if not raw:
        if required:
            errors[name] = "请填写日期"
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2025-01-01"
        return None


def _version(values: Mapping[str, str], errors: dict[str, str]) -> int | None:
    try:
        return form_int(values, "version", low=1)
    except ValidationFailed:
        errors["(form)"] = "页面缺少版本号，请刷新后重试"
        return None


def _apply(
    action: str, actor: Actor, code: str, values: Mapping[str, str]
) -> tuple[Callable[[Session], OrgUnit] | None, dict[str, str]]:
    """The change the form asks for as work on a session (returning the unit to show next),
    or the problems of the form itself, found before asking the service."""
    errors: dict[str, str] = {}
    version = None if action == "new" else _version(values, errors)
    on = _day(values, "opened_on" if action == "new" else "on", errors, required=False)
    closed_on = _day(values, "closed_on", errors, required=True) if action == "close" else None
    if action == "move" and not values.get("parent"):
        errors["parent"] = "请填写新上级的组织编码"
    if errors:
        return None, errors
    name = values.get("name", "")

    def work(session: Session) -> OrgUnit:
        if action == "new":
            return orgunits.create(
                session, code=values.get("code", ""), name=name, parent=code, by=actor, opened_on=on
            )
        if action == "rename":
            assert version is not None
            return orgunits.rename(session, code, name=name, version=version, by=actor)
        if action == "move":
            parent = values["parent"]
            return orgunits.move(session, code, parent=parent, by=actor, version=version, on=on)[0]
        assert closed_on is not None
        successor = values.get("successor") or None
        return orgunits.close(
            session, code, closed_on=closed_on, by=actor, version=version, successor=successor
        )

    return work, errors


async def _form_context(request: Request, actor: Actor, code: str) -> dict[str, Any]:
    def fetch(session: Session) -> dict[str, Any]:
        unit = orgunits.find(session, code, by=actor)
        return {
            "unit": api_org.unit_view(session, unit, actor),
            "choices": unit_choices(session, actor, ORG_MANAGE),
        }

    result: dict[str, Any] = await db(request, fetch)
    return result


@page(ORG_MANAGE)
async def change_page(request: Request) -> Response:
    """The form of one change (设立下级 / 更名 / 移动 / 撤销) and its submission."""
    actor = actor_of(request)
    code = str(request.path_params["code"])
    action = str(request.path_params["action"])
    if action not in ACTIONS:
        raise NotFound("找不到该页面")
    context = await _form_context(request, actor, code)  # 404 outside the actor's subtree
    view = context["unit"]
    values: dict[str, str] = {"name": view["name"] if action == "rename" else ""}
    values["version"] = str(view["version"])
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = await request.form()
        values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        work, errors = _apply(action, actor, code, values)
        if work is not None:
            try:
                target = (await db(request, work, commit=True)).code
            except StaleVersion as exc:
                errors = {"(form)": exc.message}
                context = await _form_context(request, actor, code)
                values["version"] = str(context["unit"]["version"])
                status = 409
            except ApiError as exc:
                errors = errors_of(exc)
                status = exc.status_code if exc.status_code in {409, 422} else 422
            else:
                done = {"new": "created", "rename": "renamed", "move": "moved", "close": "closed"}
                return RedirectResponse(f"/admin/org/{target}?done={done[action]}", status_code=303)
        else:
            status = 422
    spec = ACTIONS[action]
    return render(
        request,
        "admin/org_change.html",
        {
            **context,
            "action": action,
            "title": tr(request, spec["title"]),
            "fields": spec["fields"],
            "values": values,
            "errors": errors,
            "child_level": _child_level(view["level"]),
            "level_names": LEVEL_NAMES,
            "breadcrumbs": crumbs(
                request,
                *((b["name"], f"/admin/org/{b['code']}") for b in view["breadcrumb"]),
                (view["name"], f"/admin/org/{view['code']}"),
                (tr(request, spec["title"]), None),
            ),
        },
        status_code=status,
    )


# -- importing a roster -------------------------------------------------------------------------


def _import_context(request: Request, **values: Any) -> dict[str, Any]:
    return {
        "report": None,
        "token": None,
        "filename": "",
        "errors": {},
        "shown_rows": SHOWN_ROWS,
        "level_names": LEVEL_NAMES,
        "breadcrumbs": crumbs(
            request, (tr(request, "组织架构"), "/admin/org"), (tr(request, "导入名册"), None)
        ),
        **values,
    }


@page(ORG_MANAGE)
async def import_page(request: Request) -> Response:
    """Step 1 (upload) and step 2 (the dry run: every bad row, or what would be created)."""
    actor = actor_of(request)
    if request.method == "GET":
        n = query_int(request, "done")
        notice = tr(request, "已导入 {n} 个单位。", n=n) if n is not None else None
        return render(request, "admin/org_import.html", _import_context(request, notice=notice))
    data, filename, _ = await read_upload(request, org_import.MAX_IMPORT_BYTES)
    if not data:
        errors = {"file": "请选择要导入的 CSV 或 XLSX 文件"}
        context = _import_context(request, errors=errors)
        return render(request, "admin/org_import.html", context, status_code=422)
    try:
        report = await db(
            request,
            lambda s: org_import.import_units(s, data, filename, apply=False, by=actor),
        )
    except ValidationFailed as exc:
        context = _import_context(request, errors={"file": exc.message}, filename=filename)
        return render(request, "admin/org_import.html", context, status_code=422)
    token = None
    if report.valid and report.new:
        token = await in_thread(keep_upload, request, actor, IMPORT_KIND, data, filename)
    context = _import_context(request, report=report, token=token, filename=filename)
    return render(request, "admin/org_import.html", context, status_code=200)


@page(ORG_MANAGE)
async def import_confirm(request: Request) -> Response:
    """Step 3: write the checked file, all or nothing."""
    actor = actor_of(request)
    form = await request.form()
    token = str(form.get("token") or "")
    kept = await in_thread(pending_upload, request, actor, IMPORT_KIND, token)
    if kept is None:
        errors = {"file": "上传的文件已过期或已导入，请重新上传"}
        context = _import_context(request, errors=errors)
        return render(request, "admin/org_import.html", context, status_code=422)
    data, filename = kept

    def work(session: Session) -> org_import.ImportReport:
        return org_import.import_units(session, data, filename, apply=True, by=actor)

    report = await db(request, work, commit=True)
    if not report.applied:
        # Something changed since the dry run (a code taken meanwhile): show the new report.
        context = _import_context(request, report=report, filename=filename)
        return render(request, "admin/org_import.html", context, status_code=422)
    await in_thread(drop_upload, request, token)
    return RedirectResponse(f"/admin/org/import?done={len(report.new)}", status_code=303)


async def import_template(request: Request) -> Response:
    """An empty roster with the headers the import reads."""
    return Response(
        ("\ufeff" + TEMPLATE_CSV).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="org_units_template.csv"'},
    )


ROUTES: list[BaseRoute] = [
    Route("/admin/org", unit_page, methods=["GET"]),
    Route("/admin/org/import", import_page, methods=["GET", "POST"]),
    Route("/admin/org/import/confirm", import_confirm, methods=["POST"]),
    Route("/admin/org/import/template.csv", page(ORG_MANAGE)(import_template), methods=["GET"]),
    Route("/admin/org/{code}", unit_page, methods=["GET"]),
    Route(
        "/admin/org/{code}/{action:str}",
        change_page,
        methods=["GET", "POST"],
    ),
]
