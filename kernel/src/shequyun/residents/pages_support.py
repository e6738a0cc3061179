"""What the residents pages share: permissions, breadcrumbs, error fields, field titles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shequyun_sdk import ApiError, ValidationFailed
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import path_id
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from ..i18n import gettext
from ..identity import scope
from ..identity.models import OrgUnit
from ..portal.common import render
from ..templating import language_of
from .service import change_refused
from .validation import FIELD_TITLES

EXPORT = "residents.export"
IMPORT = "residents.import"
SOURCE = "portal"
SOURCES = {"portal": "门户", "api": "接口", "import": "批量导入", "collection": "数据采集"}


def tr(request: Request, text: str, **params: object) -> str:
    return gettext(text, language_of(request), **params)


def page_crumbs(request: Request, *items: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(tr(request, label), href) for label, href in items]


def resident_crumbs(
    request: Request, view: Mapping[str, Any], step: str | None = None
) -> list[tuple[str, str | None]]:
    crumbs = page_crumbs(request, ("工作台", "/workbench"), ("居民信息", "/residents"))
    if step is None:
        return [*crumbs, (view["name"], None)]
    return [*crumbs, (view["name"], f"/residents/{view['id']}"), (tr(request, step), None)]


def closed_page(
    request: Request, view: Mapping[str, Any], heading: str, step: str
) -> Response | None:
    """The page that stands in for a change's form when the record takes no change any more
    (removed, 注销): its status and why, with no form (409, as posting the form answers);
    None when the form is to be shown."""
    refusal = change_refused(str(view["status"]))
    if refusal is None:
        return None
    return render(
        request,
        "residents/closed.html",
        {
            "r": view,
            "heading": heading,
            "refusal": refusal,
            "breadcrumbs": resident_crumbs(request, view, step),
        },
        status_code=409,
    )


def resident_id_of(request: Request) -> int:
    return path_id(request, "resident_id")


def errors_of(exc: ApiError) -> dict[str, str]:
    """Field → message from a service error, for showing next to the fields. A message stays
    as the service made it (an :class:`~shequyun.i18n.Message` is translated by the page)."""
    if isinstance(exc, ValidationFailed) and exc.details:
        errors: dict[str, str] = {}
        for detail in exc.details:
            message = detail.get("message", "")
            errors.setdefault(
                str(detail.get("field", "(form)")),
                message if isinstance(message, str) else str(message),
            )
        return errors
    return {exc.field or "(form)": exc.message}


def field_titles(vocabulary: Any) -> dict[str, str]:
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
        "to_unit_code": "迁入居委",
        "effective_on": "迁移日期",
    }
    for spec in vocabulary.active_attributes():
        titles[f"attributes.{spec.key}"] = spec.attribute.title
    return titles


def committee_choices(
    session: Session, actor: Actor, permission: str, limit: int = 1000
) -> list[OrgUnit]:
    """Open committees ``actor`` reaches with ``permission``, by code (the first ``limit``)."""
    return list(
        session.exec(
            select(OrgUnit)
            .where(scope.unit_scope_filter(actor, permission))
            .where(OrgUnit.level == "committee", col(OrgUnit.closed_on).is_(None))
            .order_by(col(OrgUnit.code))
            .limit(limit)
        )
    )
