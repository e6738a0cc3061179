"""Errors a plugin raises to answer a request with a clear 4xx.

The kernel turns every :class:`ApiError` into the one error shape of the platform::

    {"error": {"code": "...", "message": "...", "field": "..."}}

``message`` is shown to people, so write it in Chinese; ``code`` is for programs.
"""

from __future__ import annotations

__all__ = ["ApiError", "Conflict", "Forbidden", "NotFound", "ValidationFailed"]


class ApiError(Exception):
    """An error with an HTTP status, a machine-readable code and a human message."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        details: list[dict[str, str]] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: More members of the error object, e.g. ``{"current": {...}}`` on a stale write.
        self.extra = dict(extra or {})
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = details or []

    def to_dict(self) -> dict[str, object]:
        """The body of the error response."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        for key, value in self.extra.items():
            body.setdefault(key, value)
        return {"error": body}


class ValidationFailed(ApiError):
    """Input failed validation; ``details`` lists every problem as ``{"field", "message"}``."""

    status_code = 422
    code = "validation_failed"


class NotFound(ApiError):
    """The thing does not exist, or the actor may not know that it exists."""

    status_code = 404
    code = "not_found"


class Forbidden(ApiError):
    """The actor is known but lacks the permission."""

    status_code = 403
    code = "forbidden"


class Conflict(ApiError):
    """The request conflicts with the current state (a stale version, a duplicate)."""

    status_code = 409
    code = "conflict"
