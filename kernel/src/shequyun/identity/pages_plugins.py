"""插件: every plugin's state and failure reason, and where each is switched on.

The states are the plugin host's (:attr:`Kernel.host.records`); the rules are
:class:`~shequyun.enablement.Enablement`'s, changed with its ``change``, as
``PUT /api/v1/plugin-enablement/{name}`` does: only on units inside the admin's subtree,
audited as ``plugin.enablement_changed``, effective at once in this process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shequyun_sdk import ApiError, NotFound
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..enablement import PluginEnablement
from ..plugin_host import PluginState
from ..portal.common import actor_of, db, kernel_of, page, render
from . import scope
from .models import LEVEL_NAMES, OrgUnit
from .pages_admin import PLUGINS_MANAGE, crumbs, errors_of, tr, unit_choices

__all__ = ["ROUTES"]

#: Each state as admins read it, and its badge.
STATES = {
    PluginState.ACTIVE: ("运行中", "ok"),
    PluginState.FAILED: ("失败", "bad"),
    PluginState.DISABLED: ("已停用", "warn"),
    PluginState.NOT_ALLOWED: ("未允许", "warn"),
}
CHOICES = {"on": True, "off": False, "remove": None}


@dataclass
class PluginRow:
    name: str
    title: str
    version: str
    state: str
    badge: str
    reason: str
    origin: str
    builtin: bool
    default_on: bool
    rules: list[dict[str, Any]] = field(default_factory=list)


def _rows(request: Request, session: Session) -> list[PluginRow]:
    kernel = kernel_of(request)
    actor = actor_of(request)
    rules: dict[str, list[dict[str, Any]]] = {}
    found = session.exec(
        select(PluginEnablement, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == PluginEnablement.unit_id)
        .where(scope.unit_scope_filter(actor, PLUGINS_MANAGE))
        .order_by(col(OrgUnit.path))
    )
    for rule, unit in found:
        rules.setdefault(rule.plugin, []).append(
            {
                "code": unit.code,
                "name": unit.name,
                "level": LEVEL_NAMES.get(unit.level, unit.level),
                "enabled": rule.enabled,
                "changed_at": rule.changed_at,
            }
        )
    rows = []
    for record in kernel.host.records.values():
        title, badge = STATES.get(record.state, (record.state.value, ""))
        rows.append(
            PluginRow(
                name=record.name,
                title=record.title,
                version=record.version,
                state=title,
                badge=badge,
                reason=record.reason,
                origin=record.origin,
                builtin=record.builtin,
                default_on=kernel.enablement.default(record.name),
                rules=rules.get(record.name, []),
            )
        )
    # District apps and failures first: they are what an admin comes here for.
    rows.sort(key=lambda r: (r.builtin, r.badge != "bad", r.name))
    return rows


async def _render(
    request: Request,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    actor = actor_of(request)

    def fetch(session: Session) -> dict[str, Any]:
        return {
            "plugins": _rows(request, session),
            "choices": unit_choices(session, actor, PLUGINS_MANAGE),
        }

    context = await db(request, fetch)
    plugins: list[PluginRow] = context["plugins"]
    counts: dict[str, int] = {}
    for row in plugins:
        counts[row.state] = counts.get(row.state, 0) + 1
    return render(
        request,
        "admin/plugins.html",
        {
            **context,
            "counts": counts,
            "errors": errors or {},
            "values": values or {},
            "level_names": LEVEL_NAMES,
            "notice": notice,
            "breadcrumbs": crumbs(request, (tr(request, "插件"), None)),
        },
        status_code=status_code,
    )


@page(PLUGINS_MANAGE)
async def plugins_page(request: Request) -> Response:
    done = request.query_params.get("done")
    notices = {"on": "已开启。", "off": "已关闭。", "remove": "已删除该规则，恢复上级或默认设置。"}
    notice = tr(request, notices[done]) if done in notices else None
    return await _render(request, notice=notice)


@page(PLUGINS_MANAGE)
async def enablement_page(request: Request) -> Response:
    """Switch a plugin on or off for a unit's subtree, or remove the rule there."""
    kernel = kernel_of(request)
    actor = actor_of(request)
    name = str(request.path_params["name"])
    record = kernel.host.records.get(name)
    if record is None or record.builtin:
        raise NotFound("找不到该插件")
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("unit_code", "enabled")}
    problems: dict[str, str] = {}
    if not values["unit_code"]:
        problems["unit_code"] = "请填写区、街镇或居村委的组织编码"
    if values["enabled"] not in CHOICES:
        problems["enabled"] = "请选择开启或关闭"
    if problems:
        return await _render(
            request, errors={name: problems}, values={name: values}, status_code=422
        )
    enabled = CHOICES[values["enabled"]]

    def work(session: Session) -> None:
        kernel.enablement.change(session, actor, name, values["unit_code"], enabled)
        session.commit()

    try:
        await db(request, work)
    except ApiError as exc:
        return await _render(
            request, errors={name: errors_of(exc)}, values={name: values}, status_code=422
        )
    kernel.enablement.invalidate()
    return RedirectResponse(
        f"/admin/plugins?done={values['enabled']}#plugin-{name}", status_code=303
    )


ROUTES: list[BaseRoute] = [
    Route("/admin/plugins", plugins_page, methods=["GET"]),
    Route("/admin/plugins/{name}/enablement", enablement_page, methods=["POST"]),
]
