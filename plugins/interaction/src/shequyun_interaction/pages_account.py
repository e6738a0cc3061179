"""The resident's account pages: sign up, log in, log out and verification (实名核验).

The session cookie lasts the plugin's ``session_days``; with ``phone_proof = "sms"`` sign-up
goes on to ``/phone`` (:mod:`.pages_phone`) before verification.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequyun_sdk import ApiError, platform_from_request
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import accounts, verification
from .pages_common import page, phone_proof_required, plugin_name, session_days
from .web import (
    RESIDENT_COOKIE,
    client_address,
    form_errors,
    form_values,
    redirect,
    render,
    run,
    set_cookie,
    signups_per_hour,
    viewer_of,
)

__all__ = ["ROUTES"]


async def signup(request: Request) -> Response:
    platform = platform_from_request(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        if values.get("password") != values.get("password2"):
            errors["password2"] = platform.translator(request)("两次输入的密码不一致")
        else:
            try:
                await run(
                    accounts.sign_up,
                    platform,
                    values.get("phone"),
                    values.get("password"),
                    prove_phone=phone_proof_required(request),
                    client=client_address(request),
                    per_address_hour=signups_per_hour(request),
                )
                _, token = await run(
                    accounts.log_in,
                    platform,
                    values.get("phone"),
                    values.get("password"),
                    kind="cookie",
                    lifetime=timedelta(days=session_days(request)),
                    client=client_address(request),
                )
            except ApiError as exc:
                errors = form_errors(exc)
            else:
                response = redirect(
                    request, "/phone" if phone_proof_required(request) else "/verify"
                )
                set_cookie(request, response, RESIDENT_COOKIE, token, session_days(request) * 86400)
                return response
    values.pop("password", None)
    values.pop("password2", None)
    return render(
        request,
        "signup.html",
        None,
        {"errors": errors, "values": values},
        status_code=422 if errors else 200,
    )


async def login(request: Request) -> Response:
    platform = platform_from_request(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            _, token = await run(
                accounts.log_in,
                platform,
                values.get("phone"),
                values.get("password"),
                kind="cookie",
                lifetime=timedelta(days=session_days(request)),
                client=client_address(request),
            )
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            target = request.query_params.get("next", "/")
            response = redirect(request, target if target.startswith("/") else "/")
            set_cookie(request, response, RESIDENT_COOKIE, token, session_days(request) * 86400)
            return response
    values.pop("password", None)
    return render(
        request,
        "login.html",
        None,
        {"errors": errors, "values": values},
        status_code=422 if errors else 200,
    )


async def logout(request: Request) -> Response:
    token = request.cookies.get(RESIDENT_COOKIE)
    if token:
        await run(accounts.log_out, platform_from_request(request), token)
    response = redirect(request, "/")
    set_cookie(request, response, RESIDENT_COOKIE, None)
    return response


async def verify(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    if viewer.account is None:
        return redirect(request, "/login?next=/verify")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST" and not viewer.verified:
        values = await form_values(request)
        account_id = viewer.account.id
        try:
            if values.get("method") == "code":
                await run(
                    verification.redeem_code,
                    platform,
                    account_id,
                    values.get("code"),
                    values.get("code_name"),
                    plugin_name=plugin_name(request),
                    client=client_address(request),
                )
            else:
                await run(
                    verification.verify_identity,
                    platform,
                    account_id,
                    values.get("name"),
                    values.get("id_number"),
                    plugin_name=plugin_name(request),
                    require_phone=phone_proof_required(request),
                    client=client_address(request),
                )
        except ApiError as exc:
            errors = form_errors(exc)
            if "phone" in errors:  # no such field here: say it above the forms
                errors["_form"] = errors.pop("phone")
            if values.get("method") == "code" and "name" in errors:
                errors["code_name"] = errors.pop("name")
        else:
            return redirect(request, "/?verified=1")
    values.pop("id_number", None)
    pending = phone_proof_required(request) and viewer.account.phone_confirmed_at is None
    return await page(
        request,
        "verify.html",
        viewer,
        {"errors": errors, "values": values, "phone_pending": pending},
        status_code=422 if errors else 200,
    )


ROUTES = [
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/verify", verify, methods=["GET", "POST"]),
]
