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

Dates people type follow the platform's one rule (:func:`read_date`, :func:`parse_date`): the
resident base reads a birth date or a transfer's date with it, and a plugin's form reads its
own dates the same way, so a cadre who writes ``2026/12/1`` is understood everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeGuard, overload

from starlette.requests import Request

from .errors import NotFound, ValidationFailed

__all__ = [
    "DATE_EXAMPLES",
    "MAX_ID",
    "form_int",
    "header_int",
    "is_id",
    "parse_date",
    "parse_int",
    "path_id",
    "query_int",
    "read_date",
]

#: The largest id a stored row can have: ids are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1

_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)


def parse_int(
    raw: Any, name: str, *, low: int = 0, high: int = MAX_ID, label: str | None = None
) -> int:
    """``raw`` (text, or an int already) as an integer in ``low..high``, or
    :class:`~shequyun_sdk.ValidationFailed` (422) naming ``name``.

    The refusal reads ``resident_id 应为 1 到 2147483647 之间的整数``. A form people fill in
    gives the field's Chinese ``label`` (since SDK 1.4), and they read
    ``居民编号：应为 1 到 2147483647 之间的整数``, worded as :func:`parse_date` words its own;
    the ``field`` stays ``name``."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value: int | None = raw
    else:
        text = raw.strip() if isinstance(raw, str) else ""
        matched = _INTEGER.fullmatch(text)
        value = int(text) if matched and (low < 0 or not text.startswith("-")) else None
    if value is None or not low <= value <= high:
        said = f"{label}：" if label else f"{name} "
        raise ValidationFailed(f"{said}应为 {low} 到 {high} 之间的整数", field=name)
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
    values: Mapping[str, Any],
    name: str,
    default: int,
    *,
    low: int = ...,
    high: int = ...,
    label: str | None = ...,
) -> int:
    pass


@overload
def form_int(
    values: Mapping[str, Any],
    name: str,
    default: None = None,
    *,
    low: int = ...,
    high: int = ...,
    label: str | None = ...,
) -> int | None:
    pass


def form_int(
    values: Mapping[str, Any],
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int = MAX_ID,
    label: str | None = None,
) -> int | None:
    """Field ``name`` of a submitted form (or any mapping of text) as an integer; a refusal is
    worded with ``label`` (the field's Chinese name, since SDK 1.4) as :func:`parse_int`'s."""
    return _optional(values.get(name), name, default, low, high, label)


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


def _optional(
    raw: Any, name: str, default: int | None, low: int, high: int, label: str | None = None
) -> int | None:
    if raw is None or raw == "":
        return default
    return parse_int(raw, name, low=low, high=high, label=label)


#: The forms of a date people may type, as refusals and the docs name them.
DATE_EXAMPLES = "1950-03-08、1950/3/8、1950.3.8 或 1950年3月8日"

_SEPARATED = re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})", re.ASCII)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?", re.ASCII)


def read_date(raw: Any) -> date | None:
    """``raw`` as a date when it is one of the accepted forms of a real day, else None.

    People write ``1950-03-08``, ``1950/3/8`` (how Chinese Excel writes a date into CSV),
    ``1950.3.8`` or ``1950年3月8日``; an input method may type the digits full-width
    (``１９５０／３／８``). All of these are one date. Anything else — two-digit years, day first,
    ``19500308``, ISO week dates that :meth:`date.fromisoformat` would also take — is refused, so
    that a date never means something other than what its writer meant. A :class:`date` (or a
    spreadsheet cell's :class:`datetime`) is taken as it is.
    """
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _SEPARATED.fullmatch(text)
    if match is not None:
        year, _, month, day = match.groups()
    else:
        match = _CHINESE.fullmatch(text)
        if match is None:
            return None
        year, month, day = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 1950-02-30
        return None


def parse_date(raw: Any, name: str, *, label: str | None = None) -> date:
    """``raw`` (a form field, a JSON value) as a date by :func:`read_date`'s rule, or
    :class:`~shequyun_sdk.ValidationFailed` (422) naming ``name``, worded as the resident base
    words it: ``服务日期：应为日期，如 1950-03-08、1950/3/8、1950.3.8 或 1950年3月8日`` with
    ``label="服务日期"`` (``label`` defaults to ``name``). Since SDK 1.3."""
    value = read_date(raw)
    if value is None:
        raise ValidationFailed(f"{label or name}：应为日期，如 {DATE_EXAMPLES}", field=name)
    return value
