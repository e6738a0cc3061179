"""Passwords nobody should be allowed to choose, for staff and residents alike.

Length and character classes are each door's own rule; this module adds what every door shares:
a password must not be one of the common ones people pick first (``Password``, ``password1``,
``Aa123456``, ``12345678a``: the list in ``data/common_passwords.txt``, compared in lower case),
must not contain the account's own name (a username, a phone number) and must not contain the
platform's name (``shequyun``, ``社区云``), the first thing someone guessing tries.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from importlib import resources

__all__ = ["PLATFORM_NAMES", "is_common_password", "weak_password_reason"]

#: Names of the platform that a password may not contain (compared in lower case).
PLATFORM_NAMES = ("shequyun", "社区云")
#: Shorter names (a two-letter username) are not looked for inside a password.
_MIN_NAME = 3


@functools.cache
def _common() -> frozenset[str]:
    text = resources.files("shequyun_sdk").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_common_password(password: str) -> bool:
    """Whether ``password`` (in any case, full-width or not) is on the common-password list."""
    return _folded(password) in _common()


def weak_password_reason(password: str, *, names: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be used (in Chinese), or None.

    ``names`` are the account's own names (username, phone number); a password containing one of
    them, or the platform's name, or on the common-password list, is refused.
    """
    folded = _folded(password)
    if folded in _common():
        return "密码过于常见，容易被猜中，请换一个"
    for name in names:
        name = _folded(name.strip())
        if len(name) >= _MIN_NAME and name in folded:
            return "密码不能包含用户名或手机号"
    if any(platform in folded for platform in PLATFORM_NAMES):
        return "密码不能包含平台名称（社区云、shequyun）"
    return None
