"""审计日志: the audit log of the admin's subtree, filtered, newest first, paged by cursor.

The filters are the API's (:func:`~shequyun.identity.api_audit.parse_filters`) and so is the
query, limited to the entries the reader may see; the page only turns the form's dates (Beijing
days) into the API's moments and shows the entries in Chinese.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ValidationFailed
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..portal.common import actor_of, db, page, render
from . import api_audit
from .models import AuditEntry, OrgUnit
from .pages_admin import AUDIT_READ, crumbs, errors_of, tr

__all__ = ["ACTION_TITLES", "ROUTES"]

PAGE_SIZE = 50
FIELDS = ("action", "outcome", "actor", "unit", "date_from", "date_to")
#: The API's parameter each form field feeds, to put its errors next to the right field.
API_FIELDS = {"from": "date_from", "to": "date_to"}
OUTCOMES = {"ok": "成功", "denied": "拒绝"}
TARGET_TITLES = {
    "user": "用户",
    "grant": "授权",
    "token": "令牌",
    "org_unit": "单位",
    "org_import": "组织名册",
    "plugin": "插件",
    "resident": "居民",
}
#: What the kernel's actions mean, for people reading the log.
ACTION_TITLES = {
    "access.denied": "越权访问被拒绝",
    "login.succeeded": "登录成功",
    "login.failed": "登录失败",
    "login.locked": "账户被锁定",
    "login.throttled": "登录过于频繁",
    "password.changed": "修改密码",
    "grant.switched": "切换身份",
    "token.rejected": "令牌被拒绝",
    "user.created": "新建用户",
    "user.updated": "修改用户",
    "user.unlocked": "解锁用户",
    "user.password_reset": "重置密码",
    "users.imported": "批量导入用户",
    "grant.created": "授予角色",
    "grant.revoked": "撤销授权",
    "token.created": "签发令牌",
    "token.revoked": "吊销令牌",
    "org.unit.created": "设立单位",
    "org.unit.renamed": "单位更名",
    "org.unit.moved": "移动单位",
    "org.unit.closed": "撤销单位",
    "org.unit.split": "拆分单位",
    "org.unit.merged": "合并单位",
    "org.units.imported": "导入组织名册",
    "plugin.enablement_changed": "插件开关",
    "resident.created": "登记居民",
    "resident.updated": "修改居民信息",
    "resident.moved": "居民迁出",
    "resident.removed": "注销居民",
    "resident.revealed": "查看完整身份信息",
    "resident.exported": "下载居民名单",
    "resident.imported": "导入居民",
    "quality.rule_saved": "保存数据质量规则",
    "quality.confirmed": "核实居民信息",
    "quality.waived": "标记核实无误",
    "quality.unwaived": "撤销核实无误",
    "quality.merged": "合并重复居民记录",
    "quality.merge_undone": "撤销合并",
    "quality.not_duplicate": "标记不是同一人",
    "quality.round_started": "发起居民信息核对",
}


def _api_params(shown: dict[str, str], cursor: str) -> tuple[QueryParams, dict[str, str]]:
    """The API's query for the form's values; problems with the dates by form field."""
    errors: dict[str, str] = {}
    query = {k: shown[k] for k in ("action", "outcome", "actor", "unit") if shown[k]}
    for name, key, shift in (("date_from", "from", 0), ("date_to", "to", 1)):
        if not shown[name]:
            continue
        try:
            day = date.fromisoformat(shown[name]) + timedelta(days=shift)
        except ValueError:
            errors[name] = "日期格式应为 2025-01-01"
            continue
        query[key] = f"{day.isoformat()}T00:00:00+08:00"  # whole days in Beijing time
    if cursor:
        query["cursor"] = cursor
    query["limit"] = str(PAGE_SIZE)
    return QueryParams(query), errors


def _entry(entry: AuditEntry, unit: OrgUnit | None) -> dict[str, Any]:
    detail = entry.detail or {}
    return {
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "action_title": ACTION_TITLES.get(entry.action, ""),
        "outcome": entry.outcome,
        "actor": entry.actor_username or "—",
        "unit": unit.name if unit else "",
        "target": " ".join(
            filter(
                None,
                (TARGET_TITLES.get(entry.target_type or "", entry.target_type), entry.target_id),
            )
        ),
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
        "client_ip": entry.client_ip or "",
    }


@page(AUDIT_READ)
async def audit_page(request: Request) -> Response:
    actor = actor_of(request)
    params = request.query_params
    shown = {k: params.get(k, "").strip()[:80] for k in FIELDS}
    cursor = params.get("cursor", "").strip()[:12]
    query, errors = _api_params(shown, cursor)
    entries: list[dict[str, Any]] = []
    next_cursor = None
    if not errors:
        try:
            filters = api_audit.parse_filters(query)

            def fetch(session: Session) -> list[tuple[AuditEntry, OrgUnit | None]]:
                return api_audit.query_entries(session, actor, filters)

            rows = await db(request, fetch)
        except ValidationFailed as exc:
            errors = {API_FIELDS.get(k, k): v for k, v in errors_of(exc).items()}
        else:
            entries = [_entry(e, u) for e, u in rows[:PAGE_SIZE]]
            if len(rows) > PAGE_SIZE:
                next_cursor = str(rows[PAGE_SIZE - 1][0].id)
    filters_only = {k: v for k, v in shown.items() if v}
    return render(
        request,
        "admin/audit.html",
        {
            "f": shown,
            "entries": entries,
            "errors": errors,
            "outcomes": OUTCOMES,
            "next_href": f"?{urlencode({**filters_only, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_href": f"?{urlencode(filters_only)}" if cursor else None,
            "breadcrumbs": crumbs(request, (tr(request, "审计日志"), None)),
        },
        status_code=422 if errors else 200,
    )


ROUTES: list[BaseRoute] = [Route("/admin/audit", audit_page, methods=["GET"])]
