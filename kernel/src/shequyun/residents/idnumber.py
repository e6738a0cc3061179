"""Chinese resident ID numbers (居民身份证号码, GB 11643-1999) and phone numbers.

Every value is first put in the one canonical form of :mod:`shequyun_sdk.numbers` (NFKC, ASCII
digits, upper-case X), then validated; what is hashed, stored, searched and compared is always
that form, so full-width or otherwise exotic digits can never register one person twice.
"""

from __future__ import annotations

import operator
import re
from datetime import date

from shequyun_sdk.numbers import (
    canonical_id_number,
    canonical_phone,
    is_canonical_phone,
)

from ..i18n import Message

__all__ = [
    "IdNumberError",
    "birth_date_of",
    "check_digit",
    "gender_of",
    "mask_id",
    "mask_phone",
    "normalize_id",
    "normalize_phone",
    "validate_id",
    "validate_phone",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_CODE_OFFSET = 48 * sum(_WEIGHTS)
_ID_RE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


class IdNumberError(ValueError):
    """The ID number is not valid; the message (a Chinese :class:`~shequyun.i18n.Message`) says
    why."""


def normalize_id(raw: str) -> str:
    """The canonical form of ``raw`` (see :func:`shequyun_sdk.numbers.canonical_id_number`)."""
    return canonical_id_number(raw)


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    digits = first17.encode("ascii")
    if len(digits) != len(_WEIGHTS) or not digits.isdigit():
        raise ValueError("check_digit needs the first 17 characters, digits")
    # On the bytes' codes (each digit's code is 48 more than it): no int() per digit, which
    # was a quarter of an import row's check.
    total = sum(map(operator.mul, digits, _WEIGHTS)) - _CODE_OFFSET
    return _CHECK[total % 11]


def validate_id(raw: str) -> str:
    """Return the normalized 18-character ID number or raise :class:`IdNumberError`."""
    value = normalize_id(raw)
    if not _ID_RE.fullmatch(value):
        raise IdNumberError(Message("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X"))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(Message("身份证号中的出生日期无效")) from None
    if born > date.today() or born.year < 1890:
        raise IdNumberError(Message("身份证号中的出生日期无效"))
    if check_digit(value[:17]) != value[17]:
        raise IdNumberError(Message("身份证号校验位不正确"))
    return value


def birth_date_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def gender_of(id_number: str) -> str:
    """``male`` or ``female``, from the 17th digit (odd is male)."""
    return "male" if int(id_number[16]) % 2 else "female"


def normalize_phone(raw: str) -> str:
    """The canonical form of ``raw`` (see :func:`shequyun_sdk.numbers.canonical_phone`)."""
    return canonical_phone(raw)


def validate_phone(raw: str) -> str:
    """Return the canonical phone number or raise ValueError (Chinese message)."""
    value = normalize_phone(raw)
    if not is_canonical_phone(value):
        raise ValueError(Message("电话号码应为 11 位手机号或带区号的固定电话"))
    return value


def mask_id(id_number: str) -> str:
    """``310***********1234``: region prefix and last four only."""
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
