"""用户批量导入: upload a file, read the row report, confirm; the first passwords shown once.

The checking and writing are :func:`~shequyun.identity.user_import.import_users`, as for the
API: every row checked against the admin's subtree and the escalation rules, all rows written
or none. The generated passwords appear once, on the answer to the confirmation, as a table
and as a CSV link carried inside the page itself (a ``data:`` address), so they are never kept
on the server nor fetched again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shequyun_sdk import ValidationFailed
from shequyun_sdk.csvfiles import csv_bytes
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..portal.common import page, render
from . import user_admin, user_import
from .access import Call
from .api_support import call_of
from .pages_admin import (
    USERS_MANAGE,
    crumbs,
    drop_upload,
    in_thread,
    keep_upload,
    no_store,
    pending_upload,
    read_upload,
    tr,
)

__all__ = ["ROUTES", "passwords_csv"]

IMPORT_KIND = "users"
SHOWN_ROWS = 500
HEADERS = ("username", "display_name", "phone", "home_unit_code", "role", "unit_code")
TEMPLATE_CSV = "用户名,姓名,手机,所属单位编码,角色,授权单位编码\r\n"


def passwords_csv(users: list[user_import.PlannedUser]) -> str:
    """The created users and their first passwords as a ``data:`` address of a CSV file."""
    rows = [[u.username, u.display_name, u.home_unit_code, u.password] for u in users]
    text = csv_bytes(rows, header=["用户名", "姓名", "所属单位编码", "初始密码"]).decode("utf-8")
    return "data:text/csv;charset=utf-8," + quote(text)


def _context(request: Request, **values: Any) -> dict[str, Any]:
    return {
        "report": None,
        "token": None,
        "filename": "",
        "errors": {},
        "shown_rows": SHOWN_ROWS,
        "titles": {},
        "columns": user_import.COLUMNS,
        "applied": False,
        "download": None,
        "breadcrumbs": crumbs(
            request,
            (tr(request, "用户与授权"), "/admin/users"),
            (tr(request, "批量导入"), None),
        ),
        **values,
    }


def _role_titles(call: Call) -> dict[str, str]:
    return {name: role.title for name, role in call.registry.roles.items()}


@page(USERS_MANAGE)
async def import_page(request: Request) -> Response:
    """Step 1 (upload) and step 2 (the dry run's row report)."""
    call = call_of(request)
    if request.method == "GET":
        return render(request, "admin/user_import.html", _context(request))
    data, filename, _ = await read_upload(request, user_import.MAX_IMPORT_BYTES)
    if not data:
        context = _context(request, errors={"file": "请选择要导入的 CSV 或 XLSX 文件"})
        return render(request, "admin/user_import.html", context, status_code=422)
    try:
        report = await in_thread(
            lambda: user_import.import_users(
                call.engine, call.registry, call.actor, data, filename, apply=False
            )
        )
    except ValidationFailed as exc:
        context = _context(request, errors={"file": exc.message}, filename=filename)
        return render(request, "admin/user_import.html", context, status_code=422)
    token = None
    if report.valid and report.users:
        token = await in_thread(keep_upload, request, call.actor, IMPORT_KIND, data, filename)
    context = _context(
        request, report=report, token=token, filename=filename, titles=_role_titles(call)
    )
    return render(request, "admin/user_import.html", context)


@page(USERS_MANAGE)
async def import_confirm(request: Request) -> Response:
    """Step 3: create every user of the checked file, or none; show the passwords once."""
    call = call_of(request)
    form = await request.form()
    token = str(form.get("token") or "")
    kept = await in_thread(pending_upload, request, call.actor, IMPORT_KIND, token)
    if kept is None:
        context = _context(request, errors={"file": "上传的文件已过期或已导入，请重新上传"})
        return render(request, "admin/user_import.html", context, status_code=422)
    data, filename = kept
    report = await in_thread(lambda: user_admin.import_users(call, data, filename, apply=True))
    titles = _role_titles(call)
    if not report.applied:
        # Something changed since the dry run (a username taken meanwhile).
        context = _context(request, report=report, filename=filename, titles=titles)
        return render(request, "admin/user_import.html", context, status_code=422)
    await in_thread(drop_upload, request, token)
    context = _context(
        request,
        report=report,
        filename=filename,
        titles=titles,
        applied=True,
        download=passwords_csv(report.users),
    )
    return no_store(render(request, "admin/user_import.html", context))


async def import_template(request: Request) -> Response:
    """An empty file with the headers the import reads."""
    return Response(
        ("\ufeff" + TEMPLATE_CSV).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="users_template.csv"'},
    )


ROUTES: list[BaseRoute] = [
    Route("/admin/users/import", import_page, methods=["GET", "POST"]),
    Route("/admin/users/import/confirm", import_confirm, methods=["POST"]),
    Route(
        "/admin/users/import/template.csv",
        page(USERS_MANAGE)(import_template),
        methods=["GET"],
    ),
]
