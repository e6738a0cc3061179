"""The administrator's pages (系统管理): the landing page and what every admin page shares.

The pages of each area live beside this module (``admin_org``, ``admin_users``,
``admin_plugins``, ``admin_audit``); they call the identity services the API calls, so scope,
validation, history and audit are the services' own. Here: the landing page, breadcrumbs,
turning a service error into messages next to form fields, the unit suggestions of forms, and
the short-lived store of an uploaded file between its dry run and its confirmation.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shequyun_sdk import ApiError, Forbidden, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..i18n import gettext
from ..portal.common import actor_of, kernel_of, page, render
from ..templating import language_of
from . import scope
from .models import LEVELS, OrgUnit

__all__ = [
    "ADMIN_PERMISSIONS",
    "AUDIT_READ",
    "ORG_MANAGE",
    "ORG_VIEW",
    "PLUGINS_MANAGE",
    "ROUTES",
    "TOKENS_MANAGE",
    "USERS_MANAGE",
    "USERS_VIEW",
    "crumbs",
    "errors_of",
    "no_store",
    "unit_choices",
]

ORG_VIEW = "identity.org.view"
ORG_MANAGE = "identity.org.manage"
USERS_VIEW = "identity.users.view"
USERS_MANAGE = "identity.users.manage"
TOKENS_MANAGE = "identity.tokens.manage"
AUDIT_READ = "identity.audit.read"
PLUGINS_MANAGE = "identity.plugins.manage"
#: Holding any of these opens 系统管理.
ADMIN_PERMISSIONS = (ORG_MANAGE, USERS_MANAGE, PLUGINS_MANAGE, AUDIT_READ)

#: Units offered as suggestions in a form's unit field: the actor's unit and two levels below.
MAX_CHOICES = 400
#: An uploaded file waits this long for its confirmation.
PENDING_SECONDS = 3600


def tr(request: Request, text: str, **params: object) -> str:
    """``text`` in the visitor's language."""
    return gettext(text, language_of(request), **params)


def crumbs(request: Request, *items: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    """Breadcrumbs starting at 系统管理; labels are translated, unit names passed as they are."""
    return [(tr(request, "系统管理"), "/admin"), *items]


def errors_of(exc: ApiError) -> dict[str, str]:
    """Field → message from a service error, to show next to the fields of a form.

    Details that list every problem (one of them the error's own field) are all shown; details
    that only illustrate the error (the children still open, say) are not fields of the form.
    """
    found = {exc.field or "(form)": exc.message}
    if isinstance(exc, ValidationFailed) and exc.details:
        fields = {str(d.get("field") or "(form)") for d in exc.details}
        if exc.field in fields:
            for detail in exc.details:
                found.setdefault(str(detail.get("field") or "(form)"), str(detail.get("message")))
    return found


def no_store(response: Response) -> Response:
    """Keep a page showing a secret (password, token) out of every cache and the history."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def require_any(request: Request, permissions: Iterable[str]) -> Actor:
    """The actor, when they hold one of ``permissions``; otherwise a 403 page (audited)."""
    actor = actor_of(request)
    wanted = tuple(permissions)
    if not any(actor.has(p) for p in wanted):
        request.app.state.platform.audit_denial(request, actor, " | ".join(wanted))
        raise Forbidden("您没有权限访问此页面")
    return actor


@dataclass(frozen=True)
class UnitChoice:
    code: str
    name: str
    level: str


def unit_choices(session: Session, actor: Actor, permission: str) -> list[UnitChoice]:
    """Open units near the top of ``actor``'s subtree, for a form's ``<datalist>``.

    Only suggestions: whatever is typed is checked by the service, and the scope filter keeps
    units outside the actor's reach out of the list.
    """
    if actor.unit is None or actor.unit.level not in LEVELS:
        return []
    deepest = LEVELS[min(LEVELS.index(actor.unit.level) + 2, len(LEVELS) - 1)]
    levels = LEVELS[LEVELS.index(actor.unit.level) : LEVELS.index(deepest) + 1]
    rows = session.exec(
        select(OrgUnit)
        .where(
            scope.unit_scope_filter(actor, permission),
            col(OrgUnit.level).in_(levels),
            col(OrgUnit.closed_on).is_(None),
        )
        .order_by(func.length(OrgUnit.path), col(OrgUnit.code))
        .limit(MAX_CHOICES)
    ).all()
    return [UnitChoice(u.code, u.name, u.level) for u in sorted(rows, key=lambda u: u.code)]


# -- uploads waiting for their confirmation ---------------------------------------------------


def _pending_dir(request: Request) -> Path:
    path = Path(kernel_of(request).settings.data_dir) / "pending_admin_imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def keep_upload(request: Request, actor: Actor, kind: str, data: bytes, filename: str) -> str:
    """Keep an uploaded file until its import is confirmed (an hour at most); its token."""
    folder = _pending_dir(request)
    now = time.time()
    for old in folder.iterdir():  # whatever nobody confirmed
        if now - old.stat().st_mtime > PENDING_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    meta = {
        "kind": kind,
        "user_id": actor.user_id,
        "grant_id": actor.grant_id,
        "filename": filename,
    }
    for suffix, content in ((".data", data), (".json", json.dumps(meta).encode())):
        target = folder / f"{token}{suffix}"
        target.touch(mode=0o600)
        target.write_bytes(content)
    return token


def pending_upload(
    request: Request, actor: Actor, kind: str, token: str
) -> tuple[bytes, str] | None:
    """The file kept under ``token`` for this actor and kind, and its name; None when gone."""
    if not token or len(token) > 40 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    folder = _pending_dir(request)
    data_path, meta_path = folder / f"{token}.data", folder / f"{token}.json"
    if not data_path.is_file() or not meta_path.is_file():
        return None
    if time.time() - meta_path.stat().st_mtime > PENDING_SECONDS:
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if (meta.get("kind"), meta.get("user_id"), meta.get("grant_id")) != (
        kind,
        actor.user_id,
        actor.grant_id,
    ):
        return None
    return data_path.read_bytes(), str(meta.get("filename") or "")


def drop_upload(request: Request, token: str) -> None:
    folder = _pending_dir(request)
    for suffix in (".data", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


async def read_upload(request: Request, limit: int) -> tuple[bytes, str, str]:
    """The uploaded ``file`` (at most ``limit`` + 1 bytes), its name, and the ``token`` field."""
    from starlette.datastructures import UploadFile

    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        token = str(form.get("token") or "")
        if not isinstance(upload, UploadFile):
            return b"", "", token
        return await upload.read(limit + 1), upload.filename or "", token


# -- the landing page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    title: str
    href: str
    text: str


AREAS = (
    (
        ORG_VIEW,
        Area(
            "组织架构",
            "/admin/org",
            "浏览与查找区、街镇、居村委，设立、更名、移动、撤销单位，导入名册。",
        ),
    ),
    (
        USERS_VIEW,
        Area(
            "用户与授权",
            "/admin/users",
            "查找用户，新建与批量导入，授予与撤销角色，解锁与重置密码。",
        ),
    ),
    (TOKENS_MANAGE, Area("访问令牌", "/admin/tokens", "为外部系统签发、查看和吊销接口访问令牌。")),
    (
        PLUGINS_MANAGE,
        Area("插件", "/admin/plugins", "查看每个插件的状态与失败原因，按区、街镇开启或关闭插件。"),
    ),
    (
        "apps.manage",
        Area(
            "外部应用",
            "/admin/apps",
            "注册已有系统：单点登录、应用接口凭据、Webhook 推送，按单位启用，查看推送记录。",
        ),
    ),
    (
        AUDIT_READ,
        Area("审计日志", "/admin/audit", "按动作、结果、操作人、单位和日期查阅审计记录。"),
    ),
)


@page()
async def landing(request: Request) -> Response:
    """系统管理: a card for each area the actor may use."""
    actor = require_any(request, ADMIN_PERMISSIONS)
    areas = [area for permission, area in AREAS if actor.has(permission)]
    return render(
        request,
        "admin/index.html",
        {"areas": areas, "breadcrumbs": [(tr(request, "系统管理"), None)]},
    )


async def in_thread(work: Any, *args: Any) -> Any:
    """``work(*args)`` in a worker thread (file reads and writes of the upload store)."""
    return await run_in_threadpool(work, *args)


ROUTES: list[BaseRoute] = [Route("/admin", landing, methods=["GET"])]
