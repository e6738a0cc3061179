"""The resident form (登记 and 修改): read from the portal's fields, shown again with its problems.

A save calls the resident service as the API does; a stale version shows both sides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk import Conflict, ValidationFailed
from shequyun_sdk.params import form_int
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..portal.common import actor_of, db, kernel_of, page, render
from .idnumber import mask_id, mask_phone
from .models import REGISTRATIONS, Address, Resident
from .pages_support import (
    SOURCE,
    closed_page,
    committee_choices,
    errors_of,
    field_titles,
    page_crumbs,
    resident_crumbs,
    resident_id_of,
)
from .service import WRITE

ADDRESS_PARTS = ("compound", "building", "entrance", "room")


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
        "titles": field_titles(vocabulary),
    }


@page(WRITE)
async def new_page(request: Request) -> Response:
    actor = actor_of(request)
    service = kernel_of(request).residents
    units = await db(request, lambda s: committee_choices(s, actor, WRITE))
    context = {
        **_form_context(request, service.vocabulary),
        "units": units,
        "breadcrumbs": page_crumbs(
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
            errors = errors_of(exc)
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
    resident_id = resident_id_of(request)
    service = kernel_of(request).residents
    view = await db(request, lambda s: service.view_of(s, actor, resident_id, WRITE))
    closed = closed_page(request, view, "修改居民信息", "修改")
    if closed is not None:
        return closed
    context = {
        **_form_context(request, service.vocabulary),
        "r": view,
        "breadcrumbs": resident_crumbs(request, view, "修改"),
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
    errors = dict(submitted.errors)
    try:
        version = form_int(form, "version")
    except ValidationFailed:
        version = None
    if version is None:
        errors["version"] = "缺少记录的版本号，请重新打开修改页面"
    status = 422
    if not errors:
        try:
            await db(
                request,
                lambda s: service.update(
                    s,
                    actor,
                    resident_id,
                    submitted.data,
                    version=version,
                    source=SOURCE,
                ),
                commit=True,
            )
        except Conflict as exc:
            current = exc.extra.get("current")
            if exc.code == "stale_version" and isinstance(current, dict):
                return _conflict(request, context, submitted.values, original, current)
            if exc.field == "status":  # removed (注销) meanwhile: no form to offer again
                closed = closed_page(request, {**view, "status": "removed"}, "修改居民信息", "修改")
                assert closed is not None
                return closed
            # The ID number held by another record.
            errors, status = errors_of(exc), 409
        except ValidationFailed as exc:
            errors = errors_of(exc)
        else:
            return RedirectResponse(f"/residents/{resident_id}?notice=saved", status_code=303)
    return render(
        request,
        "residents/edit.html",
        {
            **context,
            "v": submitted.values,
            "version": "" if version is None else str(version),
            "original": original,
            "errors": errors,
        },
        status_code=status,
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
