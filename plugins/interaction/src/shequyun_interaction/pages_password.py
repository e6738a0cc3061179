"""``/password`` (忘记密码): a resident who forgot their password sets a new one.

With a committee's 核验码 on ``/password``; with an SMS code on ``/password/sms`` where the
plugin proves phones by SMS. The rules are :mod:`.password_reset`'s; after a reset the resident
signs in again on ``/login``, which says the password was changed.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, platform_from_request
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import password_reset, phone
from .pages_common import phone_proof_required
from .web import client_address, form_errors, form_values, redirect, render, run, viewer_of

__all__ = ["ROUTES"]

_SECRETS = ("password", "password2", "code")


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in _SECRETS}


async def with_code(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = await form_values(request)
        try:
            await run(
                password_reset.reset_with_code,
                platform,
                values.get("phone"),
                values.get("name"),
                values.get("code"),
                values.get("password"),
                values.get("password2"),
                client=client_address(request),
            )
        except ApiError as exc:
            errors = form_errors(exc)
        else:
            return redirect(request, "/login?reset=1")
    return render(
        request,
        "password.html",
        viewer,
        {"errors": errors, "values": _shown(values), "sms": phone_proof_required(request)},
        status_code=422 if errors else 200,
    )


async def with_sms(request: Request) -> Response:
    platform = platform_from_request(request)
    if not phone_proof_required(request):
        return redirect(request, "/password")
    viewer = await viewer_of(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    sent: phone.Sent | None = None
    status_code = 200
    if request.method == "POST":
        values = await form_values(request)
        try:
            if values.get("action") == "send":
                sent = await run(
                    password_reset.send_sms_code,
                    platform,
                    values.get("phone"),
                    client=client_address(request),
                )
            else:
                await run(
                    password_reset.reset_with_sms,
                    platform,
                    values.get("phone"),
                    values.get("code"),
                    values.get("password"),
                    values.get("password2"),
                    client=client_address(request),
                )
                return redirect(request, "/login?reset=1")
        except ApiError as exc:
            errors = form_errors(exc)
            status_code = exc.status_code
    return render(
        request,
        "password_sms.html",
        viewer,
        {
            "errors": errors,
            "values": _shown(values),
            "sent": sent,
            # The second step shows once a code went out, or while one is being typed.
            "step2": sent is not None or values.get("action") == "reset",
            "minutes": int(phone.LIFETIME.total_seconds() // 60),
        },
        status_code=status_code,
    )


ROUTES = [
    Route("/password", with_code, methods=["GET", "POST"]),
    Route("/password/sms", with_sms, methods=["GET", "POST"]),
]
