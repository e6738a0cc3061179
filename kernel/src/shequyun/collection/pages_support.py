"""What the collection pages share: notices, ids from paths, numbers and errors as read."""

from __future__ import annotations

import functools
from typing import Any

from shequyun_sdk import ApiError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..i18n import gettext
from ..templating import language_of

NEXT_LEVEL = {"city": "district", "district": "street", "street": "committee"}
LEVEL_NAMES = {"district": "区", "street": "街镇", "committee": "居村委"}
NOTICES = {
    "draft": "草稿已保存。",
    "submitted": "已提交，感谢您的填报。",
    "returned": "已退回，居委会将收到退回原因。",
    "reminded": "已向 {n} 个尚未提交的单位发送提醒。",
    "published": "该版本已发布，之后不能再修改。",
    "saved": "草稿版本已保存。",
    "created": "表单已创建（第 1 版，草稿）。",
    "opened": "采集任务已下发，共 {n} 个居村委。",
}


def translator(request: Request) -> Any:
    return functools.partial(gettext, language=language_of(request))


def notice_of(request: Request) -> str:
    key = request.query_params.get("done", "")
    if key not in NOTICES:
        return ""
    count = request.query_params.get("n", "")
    return str(translator(request)(NOTICES[key], n=count if count.isdigit() else "0"))


def figure(value: Any) -> str:
    """A number as people read it: ``1,140``, ``3.25``; a dash when there is none."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def field_errors(exc: ApiError) -> dict[str, str]:
    """``{"field": message}`` from an error's details (or its single field)."""
    found: dict[str, str] = {}
    for item in exc.details or [{"field": exc.field or "", "message": exc.message}]:
        key = str(item.get("field") or "")
        found[key] = f"{found[key]}；{item['message']}" if key in found else str(item["message"])
    return found
