"""Integers from outside, read in one place: query strings, headers, form fields, path segments.

``str.isdigit()`` is true for ``²`` and ``٣`` (which ``int()`` refuses or reads as 3), and
``int()`` happily returns numbers no database column can hold (SQLite raises ``OverflowError``
beyond 64 bits). Every handler that checked for itself got one of them wrong somewhere and
answered 500. These helpers accept only ASCII digits (an optional ``-`` where ``low`` is below
zero), check the range, and otherwise raise an error naming the parameter::

    from shequyun_sdk.params import query_int, path_id

    limit = query_int(request, "limit", 50, low=1, high=200)   # 422 naming "limit"
    case_id = path_id(request, "case_id")                       # 404 naming "case_id"

Path parameters declared ``{name:int}`` in a route need nothing: the kernel answers 404 naming
the parameter for values no stored id can have (above :data:`MAX_ID`) before your handler runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard, overload

from starlette.requests import Request

from .errors import NotFound, ValidationFailed

__all__ = ["MAX_ID", "form_int", "header_int", "is_id", "parse_int", "path_id", "query_int"]

#: The largest id a stored row can have: ids are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1

_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)


def parse_int(raw: Any, name: str, *, low: int = 0, high: int = MAX_ID) -> int:
    """``raw`` (text, or an int already) as an integer in ``low..high``, or
    :class:`~shequyun_sdk.ValidationFailed` (422) naming ``name``."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value: int | None = raw
    else:
        text = raw.strip() if isinstance(raw, str) else ""
        matched = _INTEGER.fullmatch(text)
        value = int(text) if matched and (low < 0 or not text.startswith("-")) else None
    if value is None or not low <= value <= high:
        raise ValidationFailed(f"{name} 应为 {low} 到 {high} 之间的整数", field=name)
    return value


@overload
def query_int(request: Request, name: str, default: int, *, low: int = ..., high: int = ...) -> int:
    pass


@overload
def query_int(
    request: Request, name: str, default: None = None, *, low: int = ..., high: int = ...
) -> int | None:
    pass


def query_int(
    request: Request, name: str, default: int | None = None, *, low: int = 0, high: int = MAX_ID
) -> int | None:
    """Query parameter ``name`` as an integer in ``low..high``; ``default`` when absent or empty.
    Given twice, it is refused (which one was meant?)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationFailed(f"{name} 只能给一次", field=name)
    return _optional(values[0] if values else None, name, default, low, high)


@overload
def header_int(
    request: Request, name: str, default: int, *, low: int = ..., high: int = ...
) -> int:
    pass


@overload
def header_int(
    request: Request, name: str, default: None = None, *, low: int = ..., high: int = ...
) -> int | None:
    pass


def header_int(
    request: Request, name: str, default: int | None = None, *, low: int = 0, high: int = MAX_ID
) -> int | None:
    """Request header ``name`` (e.g. ``X-Assist-Resident``) as an integer in ``low..high``."""
    return _optional(request.headers.get(name), name, default, low, high)


@overload
def form_int(
    values: Mapping[str, Any], name: str, default: int, *, low: int = ..., high: int = ...
) -> int:
    pass


@overload
def form_int(
    values: Mapping[str, Any], name: str, default: None = None, *, low: int = ..., high: int = ...
) -> int | None:
    pass


def form_int(
    values: Mapping[str, Any],
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int = MAX_ID,
) -> int | None:
    """Field ``name`` of a submitted form (or any mapping of text) as an integer."""
    return _optional(values.get(name), name, default, low, high)


def is_id(value: object) -> TypeGuard[int]:
    """Whether ``value`` (say, from a JSON body) can be the id of a stored row: an ``int`` (not a
    ``bool``) in 1…:data:`MAX_ID`. PostgreSQL refuses to compare an id column with a larger
    number (``integer out of range``), so check before querying."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def path_id(request: Request, name: str) -> int:
    """Path parameter ``name`` as the id of a stored row, or :class:`~shequyun_sdk.NotFound`
    (404) naming it: no row has the id ``²``, ``abc`` or ``2**70``."""
    raw = request.path_params[name]
    try:
        return parse_int(raw, name, low=1, high=MAX_ID)
    except ValidationFailed:
        raise NotFound(f"{name}：没有这个编号", field=name) from None


def _optional(raw: Any, name: str, default: int | None, low: int, high: int) -> int | None:
    if raw is None or raw == "":
        return default
    return parse_int(raw, name, low=low, high=high)
