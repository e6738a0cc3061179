"""The dates resident input takes: one rule for a birth date and a transfer's date, whether
they come through the API, the portal's forms, a plugin or a spreadsheet import.

People write ``1950-03-08``, ``1950/3/8`` (how Chinese Excel writes a date into CSV),
``1950.3.8`` or ``1950年3月8日``; an input method may type the digits full-width
(``１９５０／３／８``). All of these are one date. Anything else — two-digit years, day first,
``19500308``, ISO week dates that :meth:`date.fromisoformat` would also take — is refused, so
that a date never means something other than what its writer meant.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

__all__ = ["DATE_EXAMPLES", "read_date"]

#: The accepted forms, as refusals and the docs name them.
DATE_EXAMPLES = "1950-03-08、1950/3/8、1950.3.8 或 1950年3月8日"

_SEPARATED = re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})", re.ASCII)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?", re.ASCII)


def read_date(raw: Any) -> date | None:
    """``raw`` as a date when it is one of the accepted forms of a real day, else None.

    A :class:`date` (or a spreadsheet cell's :class:`datetime`) is taken as it is.
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
