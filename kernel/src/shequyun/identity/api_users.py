"""``/api/v1`` users, grants and API tokens: what admins manage, inside their own subtree.

Every change is audited in its own transaction; the rules each route shares are in
:mod:`.api_support`.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.identity import requires
from shequyun_sdk.openapi import json_response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..openapi import describe
from . import api_schemas as docs
from . import user_admin, user_lists
from .api_confirm import confirm_holder, list_awaiting
from .api_grants import create_grant, list_user_grants, revoke_grant
from .api_support import (
    CREATED,
    INT,
    PAGE_PARAMS,
    STR,
    USERS_MANAGE,
    USERS_VIEW,
    active_grants,
    body_doc,
    call_of,
    int_field,
    json_body,
    load_user,
    page_bounds,
    query_flag,
    query_param,
    text_field,
    user_detail,
    user_json,
)
from .api_tokens import create_token, list_tokens, revoke_token
from .grant_rules import new_first_password
from .user_import import MAX_IMPORT_BYTES

# -- users -----------------------------------------------------------------------------------


@describe(
    parameters=[
        query_param("within", STR, "单位编码：只列出其下属范围内的用户"),
        query_param("q", STR, "用户名或姓名的一部分"),
        query_param("active", {"type": "boolean"}, "只列出启用（true）或停用（false）的用户"),
        *PAGE_PARAMS,
    ],
    response=docs.USER_PAGE,
)
@requires(USERS_VIEW)
async def list_users(request: Request) -> Response:
    """Users whose home unit lies in the actor's subtree, newest first.

    Query: ``within`` (a unit code, to narrow to its subtree), ``q`` (part of the username or
    name), ``active`` (true/false), ``limit`` (1-500, default 100), ``cursor`` (``next_cursor``
    of the previous page).
    """
    call = call_of(request)
    limit, before = page_bounds(request)
    within = request.query_params.get("within", "").strip()
    q = request.query_params.get("q", "").strip()
    if len(q) > 64:
        raise ValidationFailed("搜索词不能超过 64 个字", field="q")
    active = request.query_params.get("active")
    only_active = None if active is None else query_flag(request, "active", True)

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            page, more = user_lists.find_users(
                session, call, within=within, q=q, active=only_active, before=before, limit=limit
            )
            grants = active_grants(session, call, [u.id for u, _ in page if u.id is not None])
            return {
                "items": [user_json(call, u, h, grants[u.id or 0]) for u, h in page],
                "next_cursor": str(page[-1][0].id) if more else None,
            }

    return JSONResponse(await run_in_threadpool(work))


@describe(response=docs.USER)
@requires(USERS_VIEW)
async def get_user(request: Request) -> Response:
    """One user, with their grants inside the actor's subtree."""
    call = call_of(request)
    user_id: int = request.path_params["user_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = load_user(call, session, user_id, USERS_VIEW)
            return user_detail(call, session, user, home)

    return JSONResponse(await run_in_threadpool(work))


@describe(
    requestBody=body_doc(
        ["username", "display_name", "home_unit_code"],
        {
            "username": STR,
            "display_name": STR,
            "home_unit_code": STR,
            "phone": STR,
            "password": STR,
            "role": STR,
            "unit_code": STR,
        },
    ),
    responses=CREATED,
    response=docs.USER,
    status=201,
)
@requires(USERS_MANAGE)
async def create_user(request: Request) -> Response:
    """Create a user in the actor's subtree, optionally with a first grant.

    Body: ``username``, ``display_name``, ``home_unit_code``, optional ``phone``, ``password``
    (generated and returned once as ``password`` when left out), ``role`` and ``unit_code``
    (default: the home unit). The user must change the password at their first login.
    """
    call = call_of(request)
    body = await json_body(
        request,
        {"username", "display_name", "phone", "home_unit_code", "password", "role", "unit_code"},
    )
    username = text_field(body, "username", required=True) or ""
    display_name = text_field(body, "display_name", required=True) or ""
    home_code = text_field(body, "home_unit_code", required=True) or ""
    phone = text_field(body, "phone")
    chosen = text_field(body, "password")
    role = text_field(body, "role")
    unit_code = text_field(body, "unit_code")
    password = chosen if chosen is not None else new_first_password()

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = user_admin.create_user(
                session,
                call,
                username=username,
                display_name=display_name,
                home_unit_code=home_code,
                password=password,
                phone=phone,
                role=role,
                unit_code=unit_code,
            )
            session.commit()
            result = user_detail(call, session, user, home)
            if chosen is None:
                result["password"] = password
            return result

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@describe(
    requestBody=body_doc(
        ["version"],
        {
            "version": INT,
            "display_name": STR,
            "phone": {"type": ["string", "null"]},
            "is_active": {"type": "boolean"},
        },
    ),
    responses={"409": {"description": "version 已过期：error.current 为当前内容"}},
    response=docs.USER,
)
@requires(USERS_MANAGE)
async def update_user(request: Request) -> Response:
    """Change a user's name, phone or active state; ``version`` must be the current one.

    Body: ``version`` and any of ``display_name``, ``phone``, ``is_active``. A stale ``version``
    answers 409 with the user's current values in ``error.current``. Deactivating a user ends their
    sessions; their tokens stop working.
    """
    call = call_of(request)
    user_id: int = request.path_params["user_id"]
    body = await json_body(request, {"version", "display_name", "phone", "is_active"})
    version = int_field(body, "version")
    if "display_name" in body:
        text_field(body, "display_name", required=True)
    if "phone" in body:
        text_field(body, "phone")
    changes: dict[str, Any] = {
        k: body[k] for k in ("display_name", "phone", "is_active") if k in body
    }

    def work() -> tuple[int, dict[str, Any]]:
        with Session(call.engine) as session:
            try:
                user, home = user_admin.update_user(
                    session, call, user_id, version=version, changes=changes
                )
            except user_admin.StaleUser as stale:
                return 409, {
                    "error": {
                        "code": "version_conflict",
                        "message": "该用户已被他人修改，请查看当前内容后重试",
                        "field": "version",
                        "current": user_detail(call, session, stale.user, stale.home),
                    }
                }
            session.commit()
            session.refresh(user)
            return 200, user_detail(call, session, user, home)

    status, result = await run_in_threadpool(work)
    return JSONResponse(result, status_code=status)


@describe(response=docs.USER)
@requires(USERS_MANAGE)
async def unlock_user(request: Request) -> Response:
    """Lift a lockout after failed logins (and the growing delay before the next attempt)."""
    call = call_of(request)
    user_id: int = request.path_params["user_id"]

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home = user_admin.unlock_user(session, call, user_id)
            session.commit()
            return user_detail(call, session, user, home)

    return JSONResponse(await run_in_threadpool(work))


@describe(requestBody=body_doc([], {"password": STR}, optional=True), response=docs.USER)
@requires(USERS_MANAGE)
async def reset_password(request: Request) -> Response:
    """Give the user a new first password and end their sessions.

    The password must be changed at the next login. Body (optional): ``password``; when left out one
    is generated and returned once as ``password``. A lockout is lifted too.
    """
    call = call_of(request)
    user_id: int = request.path_params["user_id"]
    body = await json_body(request, {"password"})
    chosen = text_field(body, "password")

    def work() -> dict[str, Any]:
        with Session(call.engine) as session:
            user, home, password = user_admin.reset_password(session, call, user_id, chosen)
            session.commit()
            result = user_detail(call, session, user, home)
            if chosen is None:
                result["password"] = password
            return result

    return JSONResponse(await run_in_threadpool(work))


@describe(
    parameters=[query_param("dry_run", {"type": "boolean", "default": True}, "只检查，不写入")],
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
    responses={
        "200": json_response(docs.IMPORT_REPORT, {"description": "检查报告（dry_run=true）"}),
        "201": json_response(
            docs.IMPORT_REPORT, {"description": "已导入；users[].password 为初始密码，仅此一次"}
        ),
        "422": {"description": "文件有错误行（error.details），未写入任何数据"},
    },
)
@requires(USERS_MANAGE)
async def import_users(request: Request) -> Response:
    """Create users in bulk from a CSV or XLSX file (a dry run by default).

    Upload the file as the multipart field ``file``. ``dry_run`` (default true) checks every row and
    writes nothing; the report lists every bad row. With ``dry_run=false`` the file is applied all
    or nothing: 201 with each user's first password (shown once), or 422 listing the bad rows.
    """
    call = call_of(request)
    dry_run = query_flag(request, "dry_run", True)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("请以表单字段 file 上传 CSV 或 XLSX 文件", field="file")
        data = await upload.read(MAX_IMPORT_BYTES + 1)
        filename = upload.filename or ""
    report = await run_in_threadpool(
        lambda: user_admin.import_users(call, data, filename, apply=not dry_run)
    )
    if dry_run:
        return JSONResponse({"dry_run": True, **report.to_dict()})
    if not report.applied:
        return JSONResponse(
            {
                "error": {
                    "code": "validation_failed",
                    "message": f"文件中有 {len(report.errors)} 处错误，未导入任何用户",
                    "field": "file",
                    "details": [e.to_dict() for e in report.errors],
                }
            },
            status_code=422,
        )
    return JSONResponse({"dry_run": False, **report.to_dict()}, status_code=201)


ROUTES: list[BaseRoute] = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/import", import_users, methods=["POST"]),
    Route("/users/awaiting-confirmation", list_awaiting, methods=["GET"]),
    Route("/users/{user_id:int}/confirm-holder", confirm_holder, methods=["POST"]),
    Route("/users/{user_id:int}", get_user, methods=["GET"]),
    Route("/users/{user_id:int}", update_user, methods=["PATCH"]),
    Route("/users/{user_id:int}/unlock", unlock_user, methods=["POST"]),
    Route("/users/{user_id:int}/reset-password", reset_password, methods=["POST"]),
    Route("/users/{user_id:int}/grants", list_user_grants, methods=["GET"]),
    Route("/grants", create_grant, methods=["POST"]),
    Route("/grants/{grant_id:int}", revoke_grant, methods=["DELETE"]),
    Route("/tokens", list_tokens, methods=["GET"]),
    Route("/tokens", create_token, methods=["POST"]),
    Route("/tokens/{token_id:int}", revoke_token, methods=["DELETE"]),
]
