"""One error shape for the whole platform.

API requests (paths under ``/api/``, or clients asking for JSON) get
``{"error": {"code", "message", "field"?}}``; portal pages get the error page, in the visitor's
language (Chinese unless they chose English). Every error, from a plugin's
:class:`~shequyun_sdk.ApiError` to an unhandled exception, leaves here.

The API does not negotiate a language: its messages are Chinese. A message given as an
:class:`~shequyun.i18n.Message` is translated for each: Chinese in the JSON body, the visitor's
language on the page; a plain message is shown as it is in JSON and looked up in the visitor's
catalog on the page.
"""

from __future__ import annotations

import logging

from shequyun_sdk.errors import ApiError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

from .i18n import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, LANGUAGES, Message, gettext
from .outages import RETRY_AFTER_SECONDS, database_unavailable, describe
from .request_context import current_request_id

__all__ = [
    "error_response",
    "exception_handlers",
    "json_error",
    "unhandled_response",
    "wants_json",
]

log = logging.getLogger("shequyun.errors")

_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("too_large", "The request body is too large"),
    503: ("unavailable", "Service unavailable"),
}


#: The most problems one error answer lists. A body of ten megabytes can name some 200,000
#: unknown fields, each a problem: listed in full that was a 12 MB answer to a 3.5 MB request.
#: Beyond this the answer keeps the first ones and says how many there were in all.
MAX_DETAILS = 1000


def bounded(body: dict[str, object]) -> dict[str, object]:
    """``body`` (``{"error": {...}}``) with at most :data:`MAX_DETAILS` details; when some
    were left out, ``details_total`` gives their whole number."""
    error = body.get("error")
    if isinstance(error, dict):
        details = error.get("details")
        if isinstance(details, list) and len(details) > MAX_DETAILS:
            error["details"] = details[:MAX_DETAILS]
            error["details_total"] = len(details)
    return body


def wants_json(scope: Scope) -> bool:
    """Whether the client should get the JSON error shape rather than an HTML page."""
    if str(scope.get("path", "")).startswith("/api/"):
        return True
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return "application/json" in accept and "text/html" not in accept


def json_error(
    status_code: int, code: str, message: str, *, field: str | None = None
) -> JSONResponse:
    """The platform's JSON error shape, whatever the client asked for (probes, the API)."""
    body: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status_code)


def language_of_scope(scope: Scope) -> str:
    """The language the visitor chose for the portal (its cookie), Chinese unless English."""
    chosen = Request(scope).cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def error_response(
    scope: Scope,
    status_code: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render an error as JSON or as the portal's error page, whichever the client wants:
    ``message`` in Chinese in JSON, in the visitor's language on the page."""
    if wants_json(scope):
        text = gettext(message) if isinstance(message, Message) else message
        body: dict[str, object] = {"code": code, "message": text}
        if field is not None:
            body["field"] = field
        if details:
            body["details"] = details
        return JSONResponse(bounded({"error": body}), status_code=status_code, headers=headers)
    page = _error_page(status_code, message, language_of_scope(scope))
    return HTMLResponse(page, status_code=status_code, headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    retry_after = exc.extra.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None
    if wants_json(request.scope):
        return JSONResponse(bounded(exc.to_dict()), status_code=exc.status_code, headers=headers)
    return error_response(
        request.scope,
        exc.status_code,
        exc.code,
        exc.message,
        field=exc.field,
        details=exc.details,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, default_message = _STATUS_CODES.get(exc.status_code, ("error", "Error"))
    message: str = Message(default_message)
    if exc.detail and isinstance(exc.detail, str) and exc.detail not in _http_phrases():
        message = exc.detail
    return error_response(
        request.scope, exc.status_code, code, message, headers=dict(exc.headers or {})
    )


def _http_phrases() -> set[str]:
    from http import HTTPStatus

    return {s.phrase for s in HTTPStatus}


exception_handlers = {ApiError: _api_error, HTTPException: _http_error}


def unhandled_response(scope: Scope, exc: Exception, *, started: bool) -> Response | None:
    """Log ``exc``, which escaped the handling of ``scope``, and return the answer: a 500 in the
    error shape with the request id, or for a database outage a 503 ``database_unavailable``
    with ``Retry-After``, logged in one line. None when the response had ``started`` already:
    the caller re-raises.

    The gate (:mod:`shequyun.gate`) calls it inside the request id's context, so the id is
    still known when the error is rendered (the platform's app leaves out Starlette's own
    ServerErrorMiddleware, which would sit outside every middleware)."""
    if database_unavailable(exc):
        # An outage, not a bug: one line (no traceback) and a 503 the client can retry.
        log.warning(
            "database unavailable on %s %s: %s",
            scope.get("method"),
            scope.get("path"),
            describe(exc),
        )
        if started:
            return None
        return error_response(
            scope,
            503,
            "database_unavailable",
            Message("The database is unavailable; try again in a few seconds"),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    plugin = scope.get("shequyun.plugin")
    where = f" in plugin {plugin.name}" if plugin is not None else ""
    log.error(
        "unhandled error%s on %s %s",
        where,
        scope.get("method"),
        scope.get("path"),
        exc_info=exc,
    )
    if started:
        return None
    message = Message(
        "Internal error; the incident was logged with request id {request_id}",
        request_id=current_request_id(),
    )
    return error_response(scope, 500, "internal_error", message)


#: The page's ``lang`` attribute for each portal language.
_HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def _error_page(status_code: int, message: str, language: str) -> str:
    from html import escape

    def _(text: str, **params: object) -> str:
        return escape(gettext(text, language, **params))

    # The kernel's own words have English ids (the zh_CN catalog gives the Chinese); a plain
    # message is Chinese, which the en catalog translates when it has it.
    title = _("Error")
    return (
        f'<!doctype html><html lang="{_HTML_LANG.get(language, "zh-CN")}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{status_code} {title} · {_('Community Cloud')}</title>"
        '<link rel="stylesheet" href="/static/kernel/shell.css"></head><body class="error-page">'
        f"<main><h1>{status_code} {title}</h1><p>{_(message)}</p>"
        f'<p class="muted">{_("Request id")}: {escape(current_request_id())}</p>'
        f'<p><a href="/">{_("Back to home")}</a></p></main></body></html>'
    )
