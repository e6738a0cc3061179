"""One canonical form for resident ID numbers and phone numbers, everywhere.

The same person's ID number typed with full-width digits (``３１０…``, what a Chinese input
method gives) or pasted with spaces must be the same text before it is validated, hashed for
lookup, searched for or compared; otherwise one person is registered twice. The canonical form
is: Unicode NFKC (full-width and other compatibility digits become ASCII), no spaces, and an
upper-case ``X``. Anything that is still not ASCII afterwards (Arabic-Indic ``٣``, Devanagari
digits…) is *not* a digit here: validation refuses it, however Python's ``str.isdigit`` or
``int()`` would read it.

Phones: mobiles are 11 ASCII digits (``+86`` and separators dropped); landlines are written
``0AA-NNNNNNNN`` with the area code of China's numbering plan (three digits for ``010`` and
``02x``, four for the others).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "canonical_id_number",
    "canonical_phone",
    "is_canonical_id_number",
    "is_canonical_phone",
]

_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s\-()]+")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_LANDLINE = re.compile(r"0[0-9]{9,11}", re.ASCII)
_CANONICAL_LANDLINE = re.compile(r"(0[12][0-9]-[0-9]{7,8}|0[3-9][0-9]{2}-[0-9]{7,8})", re.ASCII)


def canonical_id_number(raw: str) -> str:
    """``raw`` in the canonical form (NFKC, no spaces, upper-case X); not validated."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()


def canonical_phone(raw: str) -> str:
    """``raw`` in the canonical form (see the module); not validated.

    >>> canonical_phone("１３８ ００１３-８０００")
    '13800138000'
    >>> canonical_phone("02158881234")
    '021-58881234'
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if _MOBILE.fullmatch(digits):
        return digits
    if _LANDLINE.fullmatch(digits):
        area = 3 if digits[1] in "12" else 4
        return f"{digits[:area]}-{digits[area:]}"
    return _SPACES.sub("", text)


def is_canonical_id_number(value: str) -> bool:
    """Whether ``value`` is already canonical and has the shape of an ID number (17 ASCII
    digits and a digit or X); the date and the check character are not looked at."""
    return _ID_NUMBER.fullmatch(value) is not None and canonical_id_number(value) == value


def is_canonical_phone(value: str) -> bool:
    """Whether ``value`` is a mobile or landline number in the canonical form."""
    return bool(_MOBILE.fullmatch(value) or _CANONICAL_LANDLINE.fullmatch(value))
