"""``/phone``: a new resident confirms the SMS code sent to their phone (``phone_proof = "sms"``).

Sign-up sends the first code and comes here; once the code is confirmed the resident goes on to
verification by name and ID number. The page also sends a new code (after the cool-down) and
points to the committee's one-time code for those whom no SMS reaches.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk import ApiError, platform_from_request, plugin_from_request
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import phone
from .web import form_errors, form_values, redirect, render, run, viewer_of

__all__ = ["ROUTES"]


async def confirm_phone(request: Request) -> Response:
    platform = platform_from_request(request)
    viewer = await viewer_of(request)
    account = viewer.account
    if account is None or account.id is None:
        return redirect(request, "/login?next=/phone")
    proven = account.phone_confirmed_at is not None
    if proven or viewer.verified or not phone.required(plugin_from_request(request).settings):
        return redirect(request, "/verify")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    status_code = 200
    if request.method == "POST":
        values = await form_values(request)
        resend = values.get("action") == "resend"
        try:
            if resend:
                await run(phone.resend, platform, account.id)
            else:
                await run(phone.confirm, platform, account.id, values.get("code"))
        except ApiError as exc:
            errors = {"resend": exc.message} if resend else form_errors(exc)
            status_code = exc.status_code
        else:
            return redirect(request, "/phone?sent=1" if resend else "/verify")
    values.pop("code", None)
    return render(
        request,
        "phone.html",
        viewer,
        {
            "errors": errors,
            "values": values,
            "phone": account.phone_masked,
            "minutes": int(phone.LIFETIME.total_seconds() // 60),
            "sent": bool(request.query_params.get("sent")),
            # Accounts from before phone_proof was switched on have had no code yet.
            "never_sent": account.code_sent_at is None,
        },
        status_code=status_code,
    )


ROUTES = [Route("/phone", confirm_phone, methods=["GET", "POST"])]
