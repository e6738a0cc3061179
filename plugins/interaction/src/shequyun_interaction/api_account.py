"""The residents' accounts over the JSON API: sign-up, login and logout, the SMS phone proof,
``/me`` and verifying who they are (see :mod:`.api` for the rest of the residents' API).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequyun_sdk import (
    Conflict,
    NotAuthenticated,
    ValidationFailed,
    platform_from_request,
    plugin_from_request,
)
from shequyun_sdk.openapi import describe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import (
    accounts,
    password_reset,
    phone,
    verification,
)
from . import api_schemas as docs
from .availability import is_open
from .core import Viewer
from .web import (
    TOKEN_HEADER,
    client_address,
    json_object,
    run,
    signups_per_hour,
    viewer_of,
)

__all__ = ["ACCOUNT_ROUTES", "resident_viewer"]


async def resident_viewer(
    request: Request, *, account: bool = True, public: bool = False
) -> Viewer:
    """Who calls the API; without a resident account (or a cadre assisting one), 401."""
    viewer = await viewer_of(request, api=True, public=public)
    if account and viewer.account is None and viewer.assistant is None:
        raise NotAuthenticated("请先登录居民账号")
    return viewer


def _me(viewer: Viewer, *, phone_proof: bool = False, enabled: bool = True) -> dict[str, Any]:
    """The account and placement; ``enabled`` is false when the plugin is off in the resident's
    committee, ``must_confirm_phone`` when an SMS code is wanted before verifying by ID number."""
    ref = viewer.resident
    account = viewer.account
    confirmed = account is not None and account.phone_confirmed_at is not None
    return {
        "account": None
        if account is None
        else {
            "id": account.id,
            "phone": account.phone_masked,
            "verified": ref is not None,
            "verified_via": account.verified_via or None,
            "phone_confirmed": confirmed,
            "must_confirm_phone": phone_proof and not confirmed and ref is None,
        },
        "resident": None
        if ref is None
        else {
            "id": ref.id,
            "name": ref.name,
            "committee": {"code": ref.committee.code, "name": ref.committee.name},
            "address": ref.address_label,
            "building": ref.building,
            "household_number": ref.household_number,
        },
        "assisted_by": viewer.assisted_by,
        "enabled": enabled,
    }


def _phone_proof(request: Request) -> bool:
    return phone.required(plugin_from_request(request).settings)


async def _me_response(request: Request, status_code: int = 200, **extra: Any) -> Response:
    viewer = await resident_viewer(request, public=True)
    enabled = True
    if viewer.resident is not None:
        name = plugin_from_request(request).name
        platform = platform_from_request(request)
        enabled = await run(is_open, platform, name, viewer.resident.committee)
    body = _me(viewer, phone_proof=_phone_proof(request), enabled=enabled)
    return JSONResponse({**body, **extra}, status_code=status_code)


# -- account -----------------------------------------------------------------------------------


@describe(body=docs.CREDENTIALS, response=docs.ME, status=201)
async def signup(request: Request) -> Response:
    """201 with the account; with ``phone_proof = "sms"`` also ``phone_code`` (where the SMS
    code went, how long it lives, when another may be asked for)."""
    body = await json_object(request)
    prove = _phone_proof(request)
    account, sent = await run(
        accounts.sign_up,
        platform_from_request(request),
        body.get("phone"),
        body.get("password"),
        prove_phone=prove,
        client=client_address(request),
        per_address_hour=signups_per_hour(request),
    )
    data = _me(Viewer(account), phone_proof=prove)
    if sent is not None:
        data["phone_code"] = sent.as_dict()
    return JSONResponse(data, status_code=201)


@describe(body=docs.CREDENTIALS, response=docs.TOKEN)
async def login(request: Request) -> Response:
    body = await json_object(request)
    days = int(plugin_from_request(request).settings.get("session_days", 30))
    _, token = await run(
        accounts.log_in,
        platform_from_request(request),
        body.get("phone"),
        body.get("password"),
        kind="api",
        lifetime=timedelta(days=days),
        client=client_address(request),
    )
    return JSONResponse({"token": token, "header": "X-Resident-Token"})


@describe(responses=docs.NO_CONTENT)
async def logout(request: Request) -> Response:
    token = request.headers.get(TOKEN_HEADER)
    if token:
        await run(accounts.log_out, platform_from_request(request), token)
    return Response(status_code=204)


@describe(response=docs.ME)
async def me(request: Request) -> Response:
    return await _me_response(request)


async def _own_account(request: Request) -> int:
    """The signed-in resident's own account (not in assisted mode), for the phone routes."""
    viewer = await resident_viewer(request)
    if viewer.account is None or viewer.account.id is None:
        raise ValidationFailed("代办模式下不能验证手机号", field="(account)")
    if not _phone_proof(request):
        raise Conflict("本平台未启用短信验证手机号", field="phone", code="phone_proof_off")
    return viewer.account.id


@describe(body=docs.CODE, response=docs.ME)
async def phone_confirm(request: Request) -> Response:
    """``{code}``: the SMS code sent to the account's phone; 200 with the account."""
    account_id = await _own_account(request)
    body = await json_object(request)
    await run(phone.confirm, platform_from_request(request), account_id, body.get("code"))
    return await _me_response(request)


@describe(response=docs.SENT, status=202)
async def phone_resend(request: Request) -> Response:
    """Send a new SMS code (429 within the cool-down or past the hourly or daily limit)."""
    account_id = await _own_account(request)
    sent = await run(phone.resend, platform_from_request(request), account_id)
    return JSONResponse(sent.as_dict(), status_code=202)


@describe(body=docs.VERIFY, response=docs.ME)
async def verify(request: Request) -> Response:
    viewer = await resident_viewer(request)
    if viewer.account is None:
        raise ValidationFailed("代办模式下不能核验账号", field="(account)")
    body = await json_object(request)
    platform = platform_from_request(request)
    name = plugin_from_request(request).name
    if "code" in body:
        await run(
            verification.redeem_code,
            platform,
            viewer.account.id,
            body.get("code"),
            body.get("name"),
            plugin_name=name,
            client=client_address(request),
        )
    else:
        await run(
            verification.verify_identity,
            platform,
            viewer.account.id,
            body.get("name"),
            body.get("id_number"),
            plugin_name=name,
            require_phone=_phone_proof(request),
            client=client_address(request),
        )
    return await _me_response(request)


# -- 忘记密码 ------------------------------------------------------------------------------------


@describe(body=docs.PASSWORD_RESET_CODE, responses=docs.NO_CONTENT)
async def password_reset_with_code(request: Request) -> Response:
    """A new password with a committee's 核验码, for an account linked to that resident: 204,
    every session of the account ended; 422 alike for a wrong phone, name or code."""
    body = await json_object(request)
    await run(
        password_reset.reset_with_code,
        platform_from_request(request),
        body.get("phone"),
        body.get("name"),
        body.get("code"),
        body.get("password"),
        body.get("password2"),
        client=client_address(request),
    )
    return Response(status_code=204)


def _require_sms(request: Request) -> None:
    if not _phone_proof(request):
        raise Conflict("本平台未启用短信验证码", field="phone", code="phone_proof_off")


@describe(body=docs.PHONE, response=docs.SENT, status=202)
async def password_sms_send(request: Request) -> Response:
    """Send a reset code to the phone of the account registered with ``phone`` (409 where the
    plugin sends no SMS, 422 for a phone without an account, 429 as for sign-up codes)."""
    _require_sms(request)
    body = await json_object(request)
    sent = await run(
        password_reset.send_sms_code,
        platform_from_request(request),
        body.get("phone"),
        client=client_address(request),
    )
    return JSONResponse(sent.as_dict(), status_code=202)


@describe(body=docs.PASSWORD_RESET_SMS, responses=docs.NO_CONTENT)
async def password_reset_with_sms(request: Request) -> Response:
    """A new password with the SMS reset code: 204, every session of the account ended."""
    _require_sms(request)
    body = await json_object(request)
    await run(
        password_reset.reset_with_sms,
        platform_from_request(request),
        body.get("phone"),
        body.get("code"),
        body.get("password"),
        body.get("password2"),
        client=client_address(request),
    )
    return Response(status_code=204)


ACCOUNT_ROUTES = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/phone/confirm", phone_confirm, methods=["POST"]),
    Route("/auth/phone/resend", phone_resend, methods=["POST"]),
    Route("/auth/password/reset", password_reset_with_code, methods=["POST"]),
    Route("/auth/password/sms", password_sms_send, methods=["POST"]),
    Route("/auth/password/reset-sms", password_reset_with_sms, methods=["POST"]),
    Route("/me", me, methods=["GET"]),
    Route("/me/verify", verify, methods=["POST"]),
]
