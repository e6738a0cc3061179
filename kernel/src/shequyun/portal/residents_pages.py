"""The residents pages (居民信息): find, view, register, edit, move, import and download residents.

Every page calls :class:`~shequyun.residents.service.ResidentService` (``kernel.residents``) and
the import and export engines, exactly as the API does, so scope, validation, history, events
and audit are theirs: a record outside the actor's grant is "not found" here as there.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ApiError, Conflict, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..i18n import gettext
from ..identity import scope
from ..identity.auth import client_ip
from ..identity.models import OrgUnit, User
from ..residents.api import filters_from
from ..residents.exporting import ResidentExport, check_purpose, column_catalogue, resolve_columns
from ..residents.idnumber import mask_id, mask_phone
from ..residents.importing import MAX_IMPORT_BYTES, ImportReport, apply_import, plan_import
from ..residents.models import REGISTRATIONS, Address, Resident
from ..residents.service import FIELD_TITLES, READ, REVEAL, TRANSFER, WRITE, ResidentFilters
from ..templating import language_of
from .common import actor_of, db, kernel_of, page, render
from .workbench import change_row

__all__ = ["ROUTES"]

EXPORT = "residents.export"
IMPORT = "residents.import"
SOURCE = "portal"
PAGE_SIZE = 50
#: Row problems shown on the import report page; the full list is a CSV download.
SHOWN_ERRORS = 500
#: An uploaded file waits this long for its "确认导入".
PENDING_SECONDS = 3600
MAX_ID = 2**31 - 1
ADDRESS_PARTS = ("compound", "building", "entrance", "room")
NOTICES = {
    "saved": "已保存修改。",
    "created": "已登记该居民。",
    "moved": "已办理迁出，该居民的记录已转到新居委。",
}
SOURCES = {"portal": "门户", "api": "接口", "import": "批量导入", "collection": "数据采集"}
TEMPLATE_HEADERS = (
    "姓名,性别,出生日期,身份证号,联系电话,户籍类型,所属居委编码,小区,楼栋,单元,室,户号,标签"
)


def _tr(request: Request, text: str, **params: object) -> str:
    return gettext(text, language_of(request), **params)


def _crumbs(request: Request, *items: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_tr(request, label), href) for label, href in items]


def _resident_crumbs(
    request: Request, view: Mapping[str, Any], step: str | None = None
) -> list[tuple[str, str | None]]:
    crumbs = _crumbs(request, ("工作台", "/workbench"), ("居民信息", "/residents"))
    if step is None:
        return [*crumbs, (view["name"], None)]
    return [*crumbs, (view["name"], f"/residents/{view['id']}"), (_tr(request, step), None)]


def _resident_id(request: Request) -> int:
    resident_id = int(request.path_params["resident_id"])
    if resident_id > MAX_ID:
        raise NotFound("找不到该居民")
    return resident_id


def _errors_of(exc: ApiError) -> dict[str, str]:
    """Field → message from a service error, for showing next to the fields."""
    if isinstance(exc, ValidationFailed) and exc.details:
        errors: dict[str, str] = {}
        for detail in exc.details:
            errors.setdefault(str(detail.get("field", "(form)")), str(detail.get("message", "")))
        return errors
    return {exc.field or "(form)": exc.message}


def _titles(vocabulary: Any) -> dict[str, str]:
    """Titles of every form field, for the error summary."""
    titles = {
        **FIELD_TITLES,
        "address.compound": "小区",
        "address.building": "楼栋",
        "address.entrance": "单元",
        "address.room": "室",
        "file": "文件",
        "purpose": "用途",
        "columns": "列",
        "format": "格式",
        "reason": "原因",
        "fields": "查看内容",
        "to_unit_code": "迁入居委编码",
        "effective_on": "迁移日期",
    }
    for spec in vocabulary.active_attributes():
        titles[f"attributes.{spec.key}"] = spec.attribute.title
    return titles


def _units(session: Session, actor: Actor, permission: str) -> list[OrgUnit]:
    """Open committees ``actor`` reaches with ``permission``, by code."""
    return list(
        session.exec(
            select(OrgUnit)
            .where(scope.unit_scope_filter(actor, permission))
            .where(OrgUnit.level == "committee", col(OrgUnit.closed_on).is_(None))
            .order_by(col(OrgUnit.code))
            .limit(1000)
        )
    )


# -- the list -------------------------------------------------------------------------------


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
        errors = _errors_of(exc)
        filters = ResidentFilters(q=None)
    after = params.get("after") or None
    start = int(params["start"]) if (params.get("start") or "").isdigit() else 1

    def work(session: Session) -> dict[str, Any]:
        context: dict[str, Any] = {"items": [], "count": 0, "next_cursor": None}
        if not errors:
            try:
                found = service.search(session, actor, filters, after=after, limit=PAGE_SIZE)
            except ValidationFailed as exc:  # a damaged cursor
                errors.update(_errors_of(exc))
            else:
                query = service.scoped_query(actor, filters)
                context["items"] = found.items
                context["next_cursor"] = found.next_cursor
                context["count"] = session.exec(
                    select(func.count()).select_from(query.subquery())
                ).one()
        context["units"] = _units(session, actor, READ)
        context["compounds"] = list(
            session.exec(
                select(Address.compound)
                .where(scope.scope_filter(actor, READ, Address.unit_id))
                .distinct()
                .order_by(col(Address.compound))
                .limit(300)
            )
        )
        return context

    context = await db(request, work)
    kept = [(k, v) for k, v in params.multi_items() if k not in {"after", "start"} and v]
    query = urlencode(kept)
    next_url = None
    if context["next_cursor"]:
        next_url = "/residents?" + urlencode(
            [*kept, ("after", context["next_cursor"]), ("start", str(start + PAGE_SIZE))]
        )
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
            "titles": _titles(vocabulary),
            "tags": [name for name in vocabulary.tags if vocabulary.known_tag(name)],
            "registrations": REGISTRATIONS,
            "start": start,
            "end": start + len(context["items"]) - 1,
            "paged": after is not None,
            "first_url": "/residents?" + query if query else "/residents",
            "next_url": next_url,
            "export_url": "/residents/export?" + query if query else "/residents/export",
            "extra_open": extra_open,
            "notice": _tr(request, NOTICES["moved"]) if params.get("notice") == "moved" else None,
            "breadcrumbs": _crumbs(request, ("工作台", "/workbench"), ("居民信息", None)),
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
    history: list[dict[str, Any]], names: Mapping[str, str], vocabulary: Any
) -> list[HistoryEntry]:
    """The history rows grouped into one entry per saved version, newest first."""
    entries: list[HistoryEntry] = []
    for change in history:
        if not entries or entries[-1].version != change["version"]:
            source = str(change["source"])
            entries.append(
                HistoryEntry(
                    version=change["version"],
                    at=change["at"],
                    who=names.get(change["actor"] or "", change["actor"] or "系统"),
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
        usernames = {c["actor"] for c in history if c["actor"]}
        names = (
            dict(
                session.exec(
                    select(User.username, User.display_name).where(
                        col(User.username).in_(usernames)
                    )
                ).all()
            )
            if usernames
            else {}
        )
        members: list[tuple[int, str]] = []
        if resident.household_id is not None:
            members = [
                (rid, name)
                for rid, name in session.exec(
                    select(Resident.id, Resident.name)
                    .where(Resident.household_id == resident.household_id)
                    .where(Resident.status == "active", col(Resident.id) != resident_id)
                    .where(scope.scope_filter(actor, READ, Resident.unit_id))
                    .order_by(col(Resident.id))
                    .limit(50)
                )
                if rid is not None
            ]
        return {
            "r": view,
            "timeline": _timeline(history, names, service.vocabulary),
            "members": members,
        }

    context: dict[str, Any] = await db(request, work)
    view = context["r"]
    context["attributes"] = [
        (spec.attribute.title, view["attributes"].get(spec.key))
        for spec in service.vocabulary.active_attributes()
    ]
    context["breadcrumbs"] = _resident_crumbs(request, view)
    return context


@page(READ)
async def detail_page(request: Request) -> Response:
    resident_id = _resident_id(request)
    context = await _detail_context(request, resident_id)
    notice = request.query_params.get("notice", "")
    context["notice"] = _tr(request, NOTICES[notice]) if notice in NOTICES else None
    return render(request, "residents/detail.html", {**context, "revealed": None, "errors": {}})


@page(REVEAL)
async def reveal_page(request: Request) -> Response:
    """Show the full ID or phone number to an actor allowed to, for a stated reason (audited)."""
    actor = actor_of(request)
    resident_id = _resident_id(request)
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
        context.update(revealed=None, errors=_errors_of(exc), reveal_form=form)
        return render(request, "residents/detail.html", context, status_code=422)
    context = await _detail_context(request, resident_id)
    context.update(revealed=revealed, errors={})
    response = render(request, "residents/detail.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the resident form (new and edit) -------------------------------------------------------


@dataclass
class ResidentForm:
    """A submitted resident form: what was typed (to show again), the service input, problems."""

    values: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _attribute_kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "enum"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind if kind in {"boolean", "integer", "number", "array"} else "string"


def _parse_attribute(schema: Mapping[str, Any], raw: str) -> Any:
    """A form value typed as the attribute's schema wants it; ValueError when it cannot be."""
    kind = _attribute_kind(schema)
    if kind == "enum":
        for option in schema["enum"]:
            if str(option) == raw:
                return option
        raise ValueError("请从选项中选择")
    if kind == "boolean":
        if raw not in {"true", "false"}:
            raise ValueError("应为 是 或 否")
        return raw == "true"
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("应为整数") from None
    if kind == "number":
        try:
            return float(raw) if "." in raw else int(raw)
        except ValueError:
            raise ValueError("应为数字") from None
    if kind == "array":
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]
    return raw


def attribute_fields(vocabulary: Any) -> list[dict[str, Any]]:
    """How each plugin attribute is shown in the form."""
    fields = []
    for spec in vocabulary.active_attributes():
        schema = dict(spec.attribute.schema)
        fields.append(
            {
                "key": spec.key,
                "name": f"attributes.{spec.key}",
                "title": spec.attribute.title,
                "kind": _attribute_kind(schema),
                "options": [str(o) for o in schema.get("enum", [])],
                "sensitive": spec.attribute.sensitive,
                "help": schema.get("description", ""),
            }
        )
    return fields


def read_resident_form(form: FormData, vocabulary: Any, *, creating: bool) -> ResidentForm:
    """The service input from a submitted form. Blank means "leave as it is" for the fields
    an edit cannot show (ID, phone, sensitive attributes) and "not given" when registering."""
    out = ResidentForm()

    def text(name: str) -> str:
        raw = form.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        out.values[name] = value
        return value

    out.data["name"] = text("name")
    out.data["registration"] = text("registration")
    gender, born = text("gender"), text("birth_date")
    if gender or creating:
        out.data["gender"] = gender or None
    if born or creating:
        out.data["birth_date"] = born or None
    id_number = text("id_number")
    if id_number or creating:
        out.data["id_number"] = id_number
    phone = text("phone")
    clear_phone = form.get("clear_phone") == "1"
    out.values["clear_phone"] = clear_phone
    if creating or phone or clear_phone:
        out.data["phone"] = None if clear_phone else (phone or None)
    if creating:
        unit_code = text("unit_code")
        if unit_code:
            out.data["unit_code"] = unit_code
    parts = {part: text(f"address.{part}") for part in ADDRESS_PARTS}
    if any(parts.values()):
        out.data["address"] = parts
    elif not creating:
        out.data["address"] = None
    household = text("household_number")
    if household or not creating:
        out.data["household_number"] = household or None
    tags = [t for t in form.getlist("tags") if isinstance(t, str) and t]
    out.values["tags"] = tags
    out.data["tags"] = tags
    attributes: dict[str, Any] = {}
    for spec in vocabulary.active_attributes():
        name = f"attributes.{spec.key}"
        raw = text(name)
        if not raw:
            if not creating and not spec.attribute.sensitive:
                attributes[spec.key] = None
            continue
        try:
            attributes[spec.key] = _parse_attribute(dict(spec.attribute.schema), raw)
        except ValueError as exc:
            out.errors[name] = str(exc)
    out.data["attributes"] = attributes
    return out


def values_of(view: Mapping[str, Any]) -> dict[str, Any]:
    """Form values showing a resident as it is (ID and phone left blank: they are masked)."""
    address = view.get("address") or {}
    values: dict[str, Any] = {
        "name": view["name"],
        "gender": view["gender"],
        "birth_date": view["birth_date"],
        "registration": view["registration"],
        "household_number": (view.get("household") or {}).get("number", ""),
        "tags": list(view["tags"]),
        "id_number": "",
        "phone": "",
        "clear_phone": False,
        # What the form shows about the masked fields, to notice when someone else changes them.
        "shown.id_number": view["id_number"],
        "shown.phone": view["phone"] or "",
    }
    for part in ADDRESS_PARTS:
        values[f"address.{part}"] = address.get(part, "")
    for key, value in view["attributes"].items():
        shown = "" if value in (None, "******") else value
        if isinstance(shown, bool):
            shown = "true" if shown else "false"
        elif isinstance(shown, list):
            shown = ", ".join(str(v) for v in shown)
        values[f"attributes.{key}"] = str(shown)
    return values


def _form_context(request: Request, vocabulary: Any) -> dict[str, Any]:
    return {
        "registrations": REGISTRATIONS,
        "tags": [name for name in vocabulary.tags if vocabulary.known_tag(name)],
        "tag_help": {name: vocabulary.tags[name].description for name in vocabulary.tags},
        "attribute_fields": attribute_fields(vocabulary),
        "titles": _titles(vocabulary),
    }


@page(WRITE)
async def new_page(request: Request) -> Response:
    actor = actor_of(request)
    service = kernel_of(request).residents
    units = await db(request, lambda s: _units(s, actor, WRITE))
    context = {
        **_form_context(request, service.vocabulary),
        "units": units,
        "breadcrumbs": _crumbs(
            request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("新增居民", None)
        ),
    }
    if request.method == "GET":
        default_unit = actor.unit.code if actor.unit and actor.unit.level == "committee" else ""
        values = {"registration": "huji", "tags": [], "unit_code": default_unit}
        return render(request, "residents/new.html", {**context, "v": values, "errors": {}})
    submitted = read_resident_form(await request.form(), service.vocabulary, creating=True)
    errors = dict(submitted.errors)
    if not errors:
        try:
            resident_id = await db(
                request,
                lambda s: _created_id(service.create(s, actor, submitted.data, source=SOURCE), s),
                commit=True,
            )
        except (ValidationFailed, Conflict) as exc:
            errors = _errors_of(exc)
        else:
            return RedirectResponse(f"/residents/{resident_id}?notice=created", status_code=303)
    status = 409 if "id_number" in errors and errors["id_number"].startswith("该身份证号") else 422
    return render(
        request,
        "residents/new.html",
        {**context, "v": submitted.values, "errors": errors},
        status_code=status,
    )


def _created_id(resident: Resident, session: Session) -> int:
    session.flush()
    assert resident.id is not None
    return resident.id


@page(WRITE)
async def edit_page(request: Request) -> Response:
    actor = actor_of(request)
    resident_id = _resident_id(request)
    service = kernel_of(request).residents
    view = await db(request, lambda s: service.view(s, service.get(s, actor, resident_id, WRITE)))
    context = {
        **_form_context(request, service.vocabulary),
        "r": view,
        "breadcrumbs": _resident_crumbs(request, view, "修改"),
    }
    if request.method == "GET":
        values = values_of(view)
        return render(
            request,
            "residents/edit.html",
            {**context, "v": values, "version": view["version"], "original": values, "errors": {}},
        )
    form = await request.form()
    submitted = read_resident_form(form, service.vocabulary, creating=False)
    original = _original(form.get("original"))
    raw_version = str(form.get("version") or "")
    errors = dict(submitted.errors)
    if not raw_version.isdigit():
        errors["version"] = "缺少记录的版本号，请重新打开修改页面"
    if not errors:
        try:
            await db(
                request,
                lambda s: service.update(
                    s,
                    actor,
                    resident_id,
                    submitted.data,
                    version=int(raw_version),
                    source=SOURCE,
                ),
                commit=True,
            )
        except Conflict as exc:
            current = exc.extra.get("current")
            if exc.code == "stale_version" and isinstance(current, dict):
                return _conflict(request, context, submitted.values, original, current)
            errors = _errors_of(exc)
        except ValidationFailed as exc:
            errors = _errors_of(exc)
        else:
            return RedirectResponse(f"/residents/{resident_id}?notice=saved", status_code=303)
    return render(
        request,
        "residents/edit.html",
        {
            **context,
            "v": submitted.values,
            "version": raw_version,
            "original": original,
            "errors": errors,
        },
        status_code=409 if errors.get("id_number", "").startswith("该身份证号") else 422,
    )


def _original(raw: Any) -> dict[str, Any]:
    """The values the form showed when it was opened (a hidden field), to tell who changed what."""
    try:
        original = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        original = None
    return original if isinstance(original, dict) else {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return bool(a == b)


def _conflict(
    request: Request,
    context: dict[str, Any],
    mine: dict[str, Any],
    original: dict[str, Any],
    current: dict[str, Any],
) -> Response:
    """The record changed since the form was opened: show both sides, and offer the merge.

    The form comes back with every field the cadre changed as they typed it and every other
    field as it is now, so saving it keeps the colleague's changes as well as theirs.
    """
    now = values_of(current)
    merged = dict(mine)
    for key, value in now.items():
        if key in original and _same(mine.get(key), original[key]):
            merged[key] = value
    labels = {"male": "男", "female": "女", **REGISTRATIONS}

    def shown(values: Mapping[str, Any], key: str) -> str:
        if key == "address":
            return _address_text(values)
        if key == "id_number":
            typed = str(values.get("id_number") or "")
            return mask_id(typed) if len(typed) > 7 else str(current["id_number"])
        if key == "phone":
            if values.get("clear_phone"):
                return ""
            typed = str(values.get("phone") or "")
            return mask_phone(typed) if typed else str(current["phone"] or "")
        value = values.get(key, "")
        if isinstance(value, list):
            return "、".join(sorted(value))
        return (
            labels.get(str(value), str(value)) if key in {"gender", "registration"} else str(value)
        )

    fields = [
        ("姓名", "name"),
        ("性别", "gender"),
        ("出生日期", "birth_date"),
        ("身份证号", "id_number"),
        ("电话", "phone"),
        ("户籍类型", "registration"),
        ("地址", "address"),
        ("户号", "household_number"),
        ("标签", "tags"),
        *((a["title"], a["name"]) for a in context["attribute_fields"] if not a["sensitive"]),
    ]
    rows = []
    for title, key in fields:
        if key in {"id_number", "phone"}:  # blank in the form: compare what was shown
            yours = bool(mine.get(key)) or (key == "phone" and bool(mine.get("clear_phone")))
            keys_now = [f"shown.{key}"]
        else:
            keys = [f"address.{p}" for p in ADDRESS_PARTS] if key == "address" else [key]
            yours = any(not _same(mine.get(k), original.get(k, mine.get(k))) for k in keys)
            keys_now = keys
        theirs = any(not _same(now.get(k), original.get(k, now.get(k))) for k in keys_now)
        mine_text, current_text = shown(mine, key), shown(now, key)
        if mine_text == current_text and not (yours or theirs):
            continue
        rows.append(
            {
                "title": title,
                "mine": mine_text,
                "current": current_text,
                "yours": yours,
                "theirs": theirs,
                "differs": mine_text != current_text,
            }
        )
    return render(
        request,
        "residents/edit.html",
        {
            **context,
            "r": current,
            "v": merged,
            "version": current["version"],
            "original": now,
            "errors": {},
            "conflict": rows,
        },
        status_code=409,
    )


def _address_text(values: Mapping[str, Any]) -> str:
    address = Address(
        unit_id=0, **{part: values.get(f"address.{part}", "") for part in ADDRESS_PARTS}
    )
    return address.label() if address.compound else ""


# -- transfer -------------------------------------------------------------------------------


@page(TRANSFER)
async def transfer_page(request: Request) -> Response:
    actor = actor_of(request)
    resident_id = _resident_id(request)
    service = kernel_of(request).residents
    view = await db(
        request, lambda s: service.view(s, service.get(s, actor, resident_id, TRANSFER))
    )
    context: dict[str, Any] = {
        "r": view,
        "titles": _titles(service.vocabulary),
        "breadcrumbs": _resident_crumbs(request, view, "迁出"),
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
    version = int(raw_version) if raw_version.isdigit() else None
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
            ),
            commit=True,
        )
    except (ValidationFailed, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        errors = _errors_of(exc)
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


# -- import ---------------------------------------------------------------------------------


def _pending_dir(request: Request) -> Path:
    path = Path(kernel_of(request).settings.data_dir) / "pending_imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _keep_upload(
    request: Request, actor: Actor, data: bytes, filename: str, report: ImportReport
) -> str:
    """Keep an uploaded file (and its report) until it is confirmed, for an hour at most."""
    folder = _pending_dir(request)
    now = time.time()
    for old in folder.iterdir():  # whatever nobody confirmed
        if now - old.stat().st_mtime > PENDING_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    meta = {
        "user_id": actor.user_id,
        "grant_id": actor.grant_id,
        "filename": filename,
        "report": report.to_dict(),
    }
    for suffix, content in ((".data", data), (".json", json.dumps(meta).encode())):
        target = folder / f"{token}{suffix}"
        target.touch(mode=0o600)
        target.write_bytes(content)
    return token


def _pending(request: Request, actor: Actor, token: str) -> tuple[Path, dict[str, Any]] | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 40:
        return None
    folder = _pending_dir(request)
    data, meta_path = folder / f"{token}.data", folder / f"{token}.json"
    if not data.is_file() or not meta_path.is_file():
        return None
    if time.time() - meta_path.stat().st_mtime > PENDING_SECONDS:
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("user_id") != actor.user_id or meta.get("grant_id") != actor.grant_id:
        return None
    return data, meta


def _drop_pending(request: Request, token: str) -> None:
    folder = _pending_dir(request)
    for suffix in (".data", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _import_context(request: Request, **values: Any) -> dict[str, Any]:
    return {
        "breadcrumbs": _crumbs(
            request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("批量导入", None)
        ),
        "errors": {},
        "report": None,
        "token": None,
        "shown_errors": SHOWN_ERRORS,
        **values,
    }


@page(IMPORT)
async def import_page(request: Request) -> Response:
    """Step 1 (upload) and step 2 (the dry run's row report)."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    if request.method == "GET":
        params = request.query_params
        notice = None
        if params.get("done") == "1":
            counts = {
                k: int(params.get(k) or 0) if (params.get(k) or "0").isdigit() else 0
                for k in ("created", "updated", "unchanged")
            }
            notice = _tr(
                request,
                "导入完成：新增 {created} 人，更新 {updated} 人，未变 {unchanged} 人。",
                **counts,
            )
        return render(request, "residents/import.html", _import_context(request, notice=notice))
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        data, filename = b"", ""
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_IMPORT_BYTES + 1)
            filename = upload.filename or ""
    if not data:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": "请选择要导入的 CSV 或 XLSX 文件"}),
            status_code=422,
        )
    try:
        report = await run_in_threadpool(plan_import, kernel, actor, data, filename)
    except ValidationFailed as exc:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": exc.message}, filename=filename),
            status_code=422,
        )
    token = await run_in_threadpool(_keep_upload, request, actor, data, filename, report)
    return render(
        request,
        "residents/import.html",
        _import_context(request, report=report, token=token, filename=filename),
    )


@page(IMPORT)
async def import_confirm(request: Request) -> Response:
    """Step 3: import the checked file, all or nothing."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    form = await request.form()
    token = str(form.get("token") or "")
    pending = await run_in_threadpool(_pending, request, actor, token)
    if pending is None:
        return render(
            request,
            "residents/import.html",
            _import_context(request, errors={"file": "上传的文件已过期或已导入，请重新上传"}),
            status_code=422,
        )
    path, meta = pending
    data = await run_in_threadpool(path.read_bytes)
    filename = str(meta.get("filename") or "")
    report = await run_in_threadpool(
        lambda: apply_import(kernel, actor, data, filename, client_ip=client_ip(request))
    )
    if not report.applied:
        # The data changed since the dry run (someone registered one of these meanwhile).
        return render(
            request,
            "residents/import.html",
            _import_context(request, report=report, token=token, filename=filename),
            status_code=422,
        )
    await run_in_threadpool(_drop_pending, request, token)
    query = urlencode(
        {
            "done": "1",
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
    )
    return RedirectResponse(f"/residents/import?{query}", status_code=303)


@page(IMPORT)
async def import_errors(request: Request) -> Response:
    """The full row report of a checked file, as a CSV to open next to the file."""
    actor = actor_of(request)
    pending = await run_in_threadpool(_pending, request, actor, str(request.path_params["token"]))
    if pending is None:
        raise NotFound("问题清单已过期，请重新上传文件")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行", "列", "问题"])
    for error in pending[1]["report"]["errors"]:
        writer.writerow([error["row"], error["column"], error["message"]])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="import_problems.csv"',
            "Cache-Control": "no-store",
        },
    )


@page(IMPORT)
async def import_template(request: Request) -> Response:
    """An empty file with the headers the import understands."""
    return Response(
        ("\ufeff" + TEMPLATE_HEADERS + "\r\n").encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="residents_template.csv"'},
    )


# -- export ---------------------------------------------------------------------------------


@page(EXPORT)
async def export_page(request: Request) -> Response:
    """Choose columns and a format, state the purpose, download (streamed, audited)."""
    actor = actor_of(request)
    kernel = kernel_of(request)
    vocabulary = kernel.residents.vocabulary
    errors: dict[str, str] = {}
    try:
        filters = filters_from(request)
    except ValidationFailed as exc:
        errors = _errors_of(exc)
        filters = ResidentFilters(q=None)
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if v])
    catalogue = column_catalogue(vocabulary)
    can_reveal = actor.has(REVEAL)
    values: dict[str, Any] = {
        "columns": [c.key for c in catalogue if not c.sensitive],
        "format": "csv",
        "purpose": "",
        "include_sensitive": False,
    }
    if request.method == "POST" and not errors:
        form = await request.form()
        values = {
            "columns": [c for c in form.getlist("columns") if isinstance(c, str)],
            "format": str(form.get("format") or ""),
            "purpose": str(form.get("purpose") or "").strip(),
            "include_sensitive": can_reveal and form.get("include_sensitive") == "1",
        }
        columns = []
        try:
            if not values["columns"]:
                raise ValidationFailed("请至少选择一列", field="columns")
            columns = resolve_columns(vocabulary, ",".join(values["columns"]))
        except ValidationFailed as exc:
            errors["columns"] = exc.message
        try:
            check_purpose(values["purpose"])
        except ValidationFailed as exc:
            errors["purpose"] = exc.message
        if values["format"] not in {"csv", "xlsx"}:
            errors["format"] = "请选择 CSV 或 Excel（XLSX）"
        if not errors:
            export = ResidentExport(
                kernel,
                actor,
                filters,
                columns,
                purpose=values["purpose"],
                file_format=values["format"],
                reveal=values["include_sensitive"],
            )
            rows = await run_in_threadpool(export.start, client_ip=client_ip(request))
            return StreamingResponse(
                export.chunks(),
                media_type=export.media_type,
                headers={
                    "Content-Disposition": export.content_disposition(),
                    "Cache-Control": "no-store",
                    "X-Row-Count": str(rows),
                },
            )

    def count(session: Session) -> int:
        scoped = kernel.residents.scoped_query(actor, filters, EXPORT)
        return int(session.exec(select(func.count()).select_from(scoped.subquery())).one())

    return render(
        request,
        "residents/export.html",
        {
            "catalogue": catalogue,
            "v": values,
            "errors": errors,
            "titles": _titles(vocabulary),
            "rows": await db(request, count),
            "query": query,
            "filters": _filter_summary(request),
            "can_reveal": can_reveal,
            "breadcrumbs": _crumbs(
                request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("下载", None)
            ),
        },
        status_code=422 if errors else 200,
    )


def _filter_summary(request: Request) -> list[tuple[str, str]]:
    """The list's filters as the cadre chose them, to say what the download holds."""
    params = request.query_params
    titles = {
        "q": "姓名",
        "tag": "标签",
        "compound": "小区",
        "building": "楼栋",
        "unit": "居委编码",
    }
    shown = [(titles[k], v) for k, v in params.multi_items() if k in titles and v]
    if params.get("age_min") or params.get("age_max"):
        shown.append(("年龄", f"{params.get('age_min') or 0}–{params.get('age_max') or ''}"))
    if params.get("registration"):
        registration = params["registration"]
        shown.append(("户籍类型", REGISTRATIONS.get(registration, registration)))
    return shown


ROUTES: list[BaseRoute] = [
    Route("/residents", list_page, methods=["GET"]),
    Route("/residents/new", new_page, methods=["GET", "POST"]),
    Route("/residents/import", import_page, methods=["GET", "POST"]),
    Route("/residents/import/confirm", import_confirm, methods=["POST"]),
    Route("/residents/import/template.csv", import_template, methods=["GET"]),
    Route("/residents/import/{token}/problems.csv", import_errors, methods=["GET"]),
    Route("/residents/export", export_page, methods=["GET", "POST"]),
    Route("/residents/{resident_id:int}", detail_page, methods=["GET"]),
    Route("/residents/{resident_id:int}/reveal", reveal_page, methods=["POST"]),
    Route("/residents/{resident_id:int}/edit", edit_page, methods=["GET", "POST"]),
    Route("/residents/{resident_id:int}/transfer", transfer_page, methods=["GET", "POST"]),
]
