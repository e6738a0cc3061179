"""Limits on attempts (logins, codes, sign-ups) that hold across every worker process.

Declare a limit once, then count each attempt with :meth:`Platform.count_attempt` *before* doing
the guessable thing (checking a password or a code)::

    FROM_ADDRESS = AttemptLimit("myplugin.login", limit=20, window=timedelta(minutes=15))

    verdict = platform.count_attempt(FROM_ADDRESS, request.client.host)
    if not verdict.allowed:
        raise TooManyAttempts("尝试过于频繁，请稍后再试", retry_after=verdict.retry_after)
    if password_is_right:
        platform.forgive_attempt(FROM_ADDRESS, request.client.host)

The kernel counts in its database with one atomic statement, so parallel requests racing for
the last allowed attempt get different counts, on SQLite and PostgreSQL, whichever process
serves them. Keys are stored hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .errors import ApiError

__all__ = ["AttemptLimit", "AttemptVerdict", "TooManyAttempts"]


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``limit`` attempts per ``window`` for each key; ``bucket`` names the limit
    (start it with your plugin's name). The window starts at a key's first attempt."""

    bucket: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= timedelta(0) or not 0 < len(self.bucket) <= 60:
            raise ValueError("an attempt limit needs a bucket name, a limit ≥ 1 and a window > 0")


@dataclass(frozen=True)
class AttemptVerdict:
    """One counted attempt: ``allowed`` (within the limit), the key's ``count`` in the window,
    and ``retry_after``, the seconds until the window ends (0 when allowed)."""

    allowed: bool
    count: int
    retry_after: int


class TooManyAttempts(ApiError):
    """429 with a ``Retry-After`` the client can honour (``retry_after`` in the error body)."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(
        self, message: str, *, retry_after: int, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, field=field, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after
