"""用户与授权: find users, create one, give and revoke roles, unlock, reset a password.

Every change is one call of :mod:`~shequyun.identity.user_admin`, the functions the API calls,
which check scope ("not found" outside the actor's subtree, the attempt audited), the escalation
rules, and audit. First passwords are generated and shown once, on the answer to the form,
never stored in clear nor put in a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shequyun_sdk import ApiError, NotFound
from shequyun_sdk.identity import Actor
from shequyun_sdk.params import path_id, query_int
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..portal.common import db, page, render
from . import scope, user_admin, user_lists
from .access import Call, active_grants, load_user, user_detail, user_json
from .api_support import call_of
from .auth import unit_ref
from .grant_rules import may_grant, new_first_password, user_management_refusal
from .models import LEVEL_NAMES, LEVELS, ApiToken, Grant, OrgUnit, User
from .pages_admin import (
    TOKENS_MANAGE,
    USERS_MANAGE,
    USERS_VIEW,
    crumbs,
    errors_of,
    no_store,
    tr,
    unit_choices,
)
from .permissions import PermissionRegistry

__all__ = ["ROUTES", "grantable_roles"]

PAGE_SIZE = 50
NOTICES = {
    "granted": "已授予该角色。",
    "revoked": "已撤销该授权；按该授权登录的会话已结束，其令牌已吊销。",
    "unlocked": "已解锁，该用户可以重新登录。",
}
USER_FIELDS = ("username", "display_name", "phone", "home_unit_code", "role", "unit_code")


@dataclass(frozen=True)
class RoleChoice:
    name: str
    title: str
    levels: tuple[str, ...]


def grantable_roles(registry: PermissionRegistry, actor: Actor) -> list[RoleChoice]:
    """Roles ``actor`` may hand out on some unit of their subtree, by :func:`may_grant`.

    Only the choices of a select: the grant itself is checked again on its actual unit.
    """
    if actor.unit is None or actor.unit.level not in LEVELS:
        return []
    own = OrgUnit(code=actor.unit.code, name="", level=actor.unit.level, path=actor.unit.path)
    below = OrgUnit(code="", name="", level="", path=f"{actor.unit.path}0/")
    levels = LEVELS[LEVELS.index(actor.unit.level) :]
    choices = []
    for name, role in registry.roles.items():
        allowed = tuple(lv for lv in levels if registry.role_allowed_at(name, lv))
        reachable = tuple(
            lv
            for lv in allowed
            if may_grant(registry, actor, name, own if lv == actor.unit.level else below)
        )
        if reachable:
            choices.append(RoleChoice(name, role.title, reachable))
    return choices


def _page_id(request: Request, name: str) -> int:
    return path_id(request, name)


def _status_of(exc: ApiError) -> int:
    """A form's answer to a refused change: "not found" of a typed unit is bad input."""
    return 422 if isinstance(exc, NotFound) else exc.status_code


# -- the list ---------------------------------------------------------------------------------


@page(USERS_VIEW)
async def list_page(request: Request) -> Response:
    """Users whose home unit lies in the actor's subtree, newest first, 50 a page."""
    call = call_of(request)
    params = request.query_params
    shown = {
        "q": params.get("q", "").strip()[:64],
        "within": params.get("within", "").strip()[:12],
        "active": params.get("active", "") if params.get("active") in {"1", "0"} else "",
    }
    cursor = query_int(request, "cursor", low=1)

    def fetch(session: Session) -> dict[str, Any]:
        errors: dict[str, str] = {}
        page_rows: list[tuple[User, OrgUnit]] = []
        more = False
        try:
            page_rows, more = user_lists.find_users(
                session,
                call,
                within=shown["within"],
                q=shown["q"],
                active=None if not shown["active"] else shown["active"] == "1",
                before=cursor,
                limit=PAGE_SIZE,
            )
        except NotFound as exc:
            errors["within"] = exc.message
        ids = [u.id for u, _ in page_rows if u.id is not None]
        grants = active_grants(session, call, ids)
        return {
            "users": [user_json(call, u, h, grants[u.id or 0]) for u, h in page_rows],
            "next_cursor": page_rows[-1][0].id if more else None,
            "errors": errors,
            "choices": unit_choices(session, call.actor, USERS_VIEW),
        }

    context = await db(request, fetch)
    filters = {k: v for k, v in shown.items() if v}
    return render(
        request,
        "admin/users.html",
        {
            **context,
            **shown,
            "level_names": LEVEL_NAMES,
            "may_manage": call.actor.has(USERS_MANAGE),
            "next_href": f"?{urlencode({**filters, 'cursor': context['next_cursor']})}"
            if context["next_cursor"]
            else None,
            "first_href": f"?{urlencode(filters)}" if cursor is not None else None,
            "breadcrumbs": crumbs(request, (tr(request, "用户与授权"), None)),
        },
        status_code=422 if context["errors"] else 200,
    )


# -- creating a user ----------------------------------------------------------------------------


def _new_user_context(
    request: Request, call: Call, choices: Any, values: Mapping[str, str], errors: Any
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "roles": grantable_roles(call.registry, call.actor),
        "choices": choices,
        "level_names": LEVEL_NAMES,
        "breadcrumbs": crumbs(
            request, (tr(request, "用户与授权"), "/admin/users"), (tr(request, "新建用户"), None)
        ),
    }


def _create_user(call: Call, values: Mapping[str, str], password: str) -> Any:
    def work(session: Session) -> dict[str, Any]:
        user, home = user_admin.create_user(
            session,
            call,
            username=values["username"],
            display_name=values["display_name"],
            home_unit_code=values["home_unit_code"],
            password=password,
            phone=values.get("phone") or None,
            role=values.get("role") or None,
            unit_code=values.get("unit_code") or None,
        )
        session.commit()
        return user_detail(call, session, user, home)

    return work


@page(USERS_MANAGE)
async def new_user_page(request: Request) -> Response:
    """新建用户: the form, and on success the first password, shown once."""
    call = call_of(request)
    assert call.actor.unit is not None
    choices = await db(request, lambda s: unit_choices(s, call.actor, USERS_MANAGE))
    values = {"home_unit_code": call.actor.unit.code}
    errors: dict[str, str] = {}
    if request.method == "GET":
        context = _new_user_context(request, call, choices, values, errors)
        return render(request, "admin/user_new.html", context)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in USER_FIELDS}
    for name, label in (("username", "用户名"), ("display_name", "姓名")):
        if not values[name]:
            errors[name] = f"请填写{label}"
    if not values["home_unit_code"]:
        errors["home_unit_code"] = "请填写所属单位的组织编码"
    if values["role"] and values["role"] not in call.registry.roles:
        errors["role"] = "请从列表中选择角色"
    if values["unit_code"] and not values["role"]:
        errors["role"] = "填写了授权单位，但没有选择角色"
    status = 422
    if not errors:
        password = new_first_password()
        try:
            created = await db(request, _create_user(call, values, password))
        except ApiError as exc:
            errors, status = errors_of(exc), _status_of(exc)
            if "unit" in errors:  # the grant's unit: the home unit unless another was given
                where = "unit_code" if values["unit_code"] else "home_unit_code"
                errors[where] = errors.pop("unit")
        else:
            return no_store(
                render(
                    request,
                    "admin/user_secret.html",
                    {
                        "user": created,
                        "password": password,
                        "reason": "created",
                        "breadcrumbs": crumbs(
                            request,
                            (tr(request, "用户与授权"), "/admin/users"),
                            (created["display_name"], None),
                        ),
                    },
                )
            )
    context = _new_user_context(request, call, choices, values, errors)
    return render(request, "admin/user_new.html", context, status_code=status)


# -- one user ---------------------------------------------------------------------------------


async def _detail(request: Request, call: Call, user_id: int, **extra: Any) -> dict[str, Any]:
    def fetch(session: Session) -> dict[str, Any]:
        user, home = load_user(call, session, user_id, USERS_VIEW)
        grants = active_grants(session, call, [user_id])[user_id]
        view = user_json(call, user, home, grants)
        may_manage = scope.can(call.actor, USERS_MANAGE, unit_ref(home))
        refusal = (
            user_management_refusal(session, call.registry, call.actor, user)
            if may_manage
            else None
        )
        revocable = {
            grant.id
            for grant, unit in grants
            if may_manage
            and scope.can(call.actor, USERS_MANAGE, unit_ref(unit))
            and may_grant(call.registry, call.actor, grant.role, unit)
            and grant.id != call.actor.grant_id
        }
        tokens = 0
        if call.actor.has(TOKENS_MANAGE):
            tokens = session.exec(
                select(func.count())
                .select_from(ApiToken)
                .join(Grant, col(Grant.id) == ApiToken.grant_id)
                .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
                .where(
                    Grant.user_id == user_id,
                    col(ApiToken.revoked_at).is_(None),
                    scope.unit_scope_filter(call.actor, TOKENS_MANAGE),
                )
            ).one()
        return {
            "user": view,
            "may_manage": may_manage,
            "refusal": refusal,
            "revocable": revocable,
            "token_count": tokens,
            "choices": unit_choices(session, call.actor, USERS_MANAGE) if may_manage else [],
        }

    context: dict[str, Any] = await db(request, fetch)
    view = context["user"]
    return {
        **context,
        "roles": grantable_roles(call.registry, call.actor) if context["may_manage"] else [],
        "may_tokens": call.actor.has(TOKENS_MANAGE),
        "is_self": user_id == call.actor.user_id,
        "level_names": LEVEL_NAMES,
        "grant_values": {"unit_code": view["home_unit"]["code"]},
        "grant_errors": {},
        "action_error": None,
        "password": None,
        "breadcrumbs": crumbs(
            request, (tr(request, "用户与授权"), "/admin/users"), (view["display_name"], None)
        ),
        **extra,
    }


@page(USERS_VIEW)
async def user_page(request: Request) -> Response:
    """A user: their facts, their grants within the actor's subtree, and what may be done."""
    call = call_of(request)
    user_id = _page_id(request, "user_id")
    done = request.query_params.get("done", "")
    context = await _detail(
        request, call, user_id, notice=tr(request, NOTICES[done]) if done in NOTICES else None
    )
    return render(request, "admin/user.html", context)


@page(USERS_MANAGE)
async def grant_page(request: Request) -> Response:
    """Give the user a role on a unit (by default their home unit)."""
    call = call_of(request)
    user_id = _page_id(request, "user_id")
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("role", "unit_code")}
    errors: dict[str, str] = {}
    if values["role"] not in call.registry.roles:
        errors["role"] = "请选择角色"
    if not values["unit_code"]:
        errors["unit_code"] = "请填写授权单位的组织编码"

    def work(session: Session) -> None:
        user_admin.give_grant(session, call, user_id, values["role"], values["unit_code"])
        session.commit()

    status = 422
    if not errors:
        try:
            await db(request, work)
        except ApiError as exc:
            if exc.field == "user_id" and isinstance(exc, NotFound):
                raise  # the user: outside the actor's subtree
            errors, status = errors_of(exc), _status_of(exc)
            if "unit" in errors:
                errors["unit_code"] = errors.pop("unit")
            if "user_id" in errors:  # giving oneself a grant
                errors["role"] = errors.pop("user_id")
        else:
            return RedirectResponse(f"/admin/users/{user_id}?done=granted", status_code=303)
    context = await _detail(request, call, user_id, grant_values=values, grant_errors=errors)
    return render(request, "admin/user.html", context, status_code=status)


async def _user_action(
    request: Request, call: Call, user_id: int, work: Any, done: str
) -> Response:
    """Run a change on the user; back to their page, or the page again with the refusal."""
    try:
        result = await db(request, work)
    except ApiError as exc:
        if isinstance(exc, NotFound):
            raise
        context = await _detail(request, call, user_id, action_error=exc.message)
        return render(request, "admin/user.html", context, status_code=exc.status_code)
    if done == "password":
        context = await _detail(request, call, user_id, password=result)
        return no_store(render(request, "admin/user.html", context))
    return RedirectResponse(f"/admin/users/{user_id}?done={done}", status_code=303)


@page(USERS_MANAGE)
async def revoke_page(request: Request) -> Response:
    """Revoke one grant: its sessions end and its tokens are revoked (as the API does)."""
    call = call_of(request)
    user_id = _page_id(request, "user_id")
    grant_id = _page_id(request, "grant_id")

    def work(session: Session) -> None:
        user_admin.revoke_grant(session, call, grant_id, of_user=user_id)
        session.commit()

    return await _user_action(request, call, user_id, work, "revoked")


@page(USERS_MANAGE)
async def unlock_page(request: Request) -> Response:
    """Lift a lockout after failed logins."""
    call = call_of(request)
    user_id = _page_id(request, "user_id")

    def work(session: Session) -> None:
        user_admin.unlock_user(session, call, user_id)
        session.commit()

    return await _user_action(request, call, user_id, work, "unlocked")


@page(USERS_MANAGE)
async def reset_page(request: Request) -> Response:
    """A new generated first password, shown once; the user's sessions end."""
    call = call_of(request)
    user_id = _page_id(request, "user_id")

    def work(session: Session) -> str:
        _, _, password = user_admin.reset_password(session, call, user_id)
        session.commit()
        return password

    return await _user_action(request, call, user_id, work, "password")


ROUTES: list[BaseRoute] = [
    Route("/admin/users", list_page, methods=["GET"]),
    Route("/admin/users/new", new_user_page, methods=["GET", "POST"]),
    Route("/admin/users/{user_id:int}", user_page, methods=["GET"]),
    Route("/admin/users/{user_id:int}/grants", grant_page, methods=["POST"]),
    Route("/admin/users/{user_id:int}/grants/{grant_id:int}/revoke", revoke_page, methods=["POST"]),
    Route("/admin/users/{user_id:int}/unlock", unlock_page, methods=["POST"]),
    Route("/admin/users/{user_id:int}/reset-password", reset_page, methods=["POST"]),
]
