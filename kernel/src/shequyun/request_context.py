"""A request id on every response and in every log line; an access line and a latency figure
for every request.

The id comes from an incoming ``X-Request-ID`` header when it looks sane, otherwise it is made
up; it is kept in a context variable so that the logging filter can stamp every record. When the
response is over, the gate (:mod:`shequyun.gate`) writes the access line (logger
``shequyun.access``: method, path without its query string, which may hold names or ID numbers,
status, duration, client) and observes the request's latency under its route template
(:mod:`shequyun.metrics`). An ID number or a mobile number typed into the path itself (a mistyped
address, a probe) is masked in the line as it is on the portal's pages.
"""

from __future__ import annotations

import logging
import os
import random
import re
from contextvars import ContextVar, Token

from starlette.types import Scope

from .logs import configure_logging

__all__ = [
    "HEADER",
    "RequestIdFilter",
    "access_log",
    "configure_logging",
    "current_client_ip",
    "current_request_id",
    "enter_request",
    "leave_request",
    "log_access",
    "masked_path",
    "request_id_from",
]

access_log = logging.getLogger("shequyun.access")

#: The current request's id and client address, in one variable: one set and one reset a
#: request instead of two of each.
_request: ContextVar[tuple[str, str | None]] = ContextVar("shequyun_request", default=("-", None))
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# An ID number (17 digits and a digit or X) or a mobile number inside a path segment, also
# in any script's digits (full-width, Arabic-Indic …: the path arrives percent-decoded, and a
# number the API refuses for its digits is still logged). ``\d`` is every Unicode digit here.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(\d{3})(\d{4,14})([\dXx]{4})(?!\d)")
HEADER = "x-request-id"

Tokens = Token[tuple[str, str | None]]


def current_request_id() -> str:
    """The id of the request being handled, or ``-`` outside a request."""
    return _request.get()[0]


def current_client_ip() -> str | None:
    """The address of the client whose request is being handled, or None outside a request.

    The audit log takes it from here, so a service function records who called it from where
    without the HTTP request being passed down to it.
    """
    return _request.get()[1]


def request_id_from(incoming: bytes | None) -> str:
    """The id of a request whose ``X-Request-ID`` header is ``incoming``: that, when it looks
    sane, otherwise a new one (32 hexadecimal digits).

    A new id only has to differ from every other one, not to be unguessable (a client may
    choose its own, and an id grants nothing): 128 bits of a generator of the module's own,
    seeded from the system's randomness when the module loads and again in every forked child,
    without a system call per request as :func:`os.urandom` makes. It is not :mod:`random`'s
    shared one: whatever calls ``random.seed(n)`` in the process (a script, a plugin, a test)
    would make ids repeat, in one worker and across workers."""
    if incoming:
        text = incoming.decode("latin-1")
        if _SANE_ID.match(text):
            return text
    return f"{_bits(128):032x}"


_ids = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_ids.seed)  # a forked worker must not repeat its parent's
_bits = _ids.getrandbits


def enter_request(request_id: str, client_ip: str | None) -> Tokens:
    """Make ``request_id`` and ``client_ip`` the current request's, until :func:`leave_request`."""
    return _request.set((request_id, client_ip))


def leave_request(tokens: Tokens) -> None:
    """Restore what was current before :func:`enter_request` returned ``tokens``."""
    _request.reset(tokens)


def log_access(scope: Scope, route: str, status: int, seconds: float) -> None:
    """Write the access line of the request ``scope`` to ``route`` (its template), answered
    with ``status`` in ``seconds``."""
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": masked_path(scope["path"]),
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "client": client[0] if client else None,
    }
    access_log.info(
        "%s %s %d %.1fms %s",
        fields["method"],
        fields["path"],
        status,
        fields["duration_ms"],
        fields["client"] or "-",
        extra=fields,
    )


def masked_path(path: str) -> str:
    """``path`` with every run of 11 to 21 digits (mobile and ID numbers, bank cards) cut to its
    first three and last four: ``/x/310***********1234``."""
    return _PERSONAL_NUMBER.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], path)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request.get()[0]
        return True
