"""批量操作 on the residents list: the residents ticked on a page get a tag added or taken off,
or go to the download page as a selection.

The page only translates the form: :func:`~.batch.retag` decides and writes (all or nothing),
and the download is the export page with the selection as its ``id`` filter. When a batch is
refused, the page lists every resident that stopped it and offers to run it for the others.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from shequyun_sdk import Conflict, ValidationFailed
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..portal.common import actor_of, db, kernel_of, page, render
from .batch import MAX_BATCH, check_ids, retag
from .pages_support import page_crumbs, tr
from .reading import READ

__all__ = ["ACTIONS", "batch_action", "list_notice"]

#: What the list's 批量操作 menu offers, and the permission each needs.
ACTIONS = {
    "add": ("加上标签", "residents.write"),
    "remove": ("去掉标签", "residents.write"),
    "export": ("下载所选居民", "residents.export"),
}
#: List parameters that are the batch's own notice, not a filter to keep.
_NOTICE_KEYS = {"notice", "changed", "unchanged"}


def back_query(raw: str) -> list[tuple[str, str]]:
    """The list's query string the form came from (filters, sort, page), minus old notices."""
    return [(k, v) for k, v in parse_qsl(raw[:2000]) if k not in _NOTICE_KEYS and v]


def list_notice(request: Request) -> str | None:
    """The list's line after a batch (``?notice=tagged&changed=3&unchanged=1``)."""
    params = request.query_params
    if params.get("notice") != "tagged":
        return None
    changed = params.get("changed", "0")
    unchanged = params.get("unchanged", "0")
    if not (changed.isdigit() and unchanged.isdigit()):
        return None
    text = tr(request, "已为 {n} 位居民更新标签。", n=int(changed))
    if int(unchanged):
        text += tr(request, "另有 {n} 位原本就符合，未作改动。", n=int(unchanged))
    return text


@page(READ)
async def batch_action(request: Request) -> Response:
    actor = actor_of(request)
    service = kernel_of(request).residents
    form = await request.form()
    chosen = [v for v in form.getlist("id") if isinstance(v, str)]
    action = str(form.get("action") or "")
    tag = str(form.get("tag") or "").strip()
    back = back_query(str(form.get("back") or ""))
    context: dict[str, Any] = {
        "action": action,
        "action_title": ACTIONS[action][0] if action in ACTIONS else "",
        "tag": tag,
        "back_url": "/residents?" + urlencode(back) if back else "/residents",
        "back": urlencode(back),
        "problems": [],
        "others": [],
        "max_batch": MAX_BATCH,
        "breadcrumbs": page_crumbs(
            request, ("工作台", "/workbench"), ("居民信息", "/residents"), ("批量操作", None)
        ),
    }
    try:
        if action not in ACTIONS:
            raise ValidationFailed("请选择批量操作", field="action")
        if action == "export":
            ids = check_ids(chosen, name="id")
            return RedirectResponse(
                "/residents/export?" + urlencode([("id", str(i)) for i in ids]), status_code=303
            )
        if not tag:
            raise ValidationFailed("请选择标签", field="tag")
        result = await db(
            request,
            lambda s: retag(
                service,
                s,
                actor,
                chosen,
                add=[tag] if action == "add" else None,
                remove=[tag] if action == "remove" else None,
                source="portal",
            ),
            commit=True,
        )
    except (ValidationFailed, Conflict) as exc:
        problems = [d for d in exc.details if d.get("resident_id")]
        stopped = {d["resident_id"] for d in problems}
        context.update(
            message=exc.message,
            problems=problems,
            others=[i for i in dict.fromkeys(chosen) if i not in stopped] if problems else [],
        )
        status = 409 if isinstance(exc, Conflict) else 422
        return render(request, "residents/batch.html", context, status_code=status)
    notice = [
        ("notice", "tagged"),
        ("changed", str(len(result.changed))),
        ("unchanged", str(len(result.unchanged))),
    ]
    return RedirectResponse("/residents?" + urlencode([*back, *notice]), status_code=303)
