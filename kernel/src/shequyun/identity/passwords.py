"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from shequyun_sdk.passwords import weak_password_reason

from ..i18n import Message

__all__ = ["check_policy", "hash_password", "needs_rehash", "verify_password"]

# OWASP's argon2id baseline (19 MiB, 2 iterations, 1 lane).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this keeps the time of a login for an unknown user like a known one.
_DUMMY_HASH = _hasher.hash("shequyun-dummy-password")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; spends the same time when there is no hash to check against."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_policy(password: str, username: str) -> str | None:
    """The reason ``password`` is not acceptable (in Chinese), or None when it is: too short,
    the username, one kind of character, or common / containing the username or the
    platform's name (:func:`shequyun_sdk.passwords.weak_password_reason`)."""
    if len(password) < MIN_LENGTH:
        return Message("密码至少需要 {count} 个字符", count=MIN_LENGTH)
    if len(password) > 256:
        return "密码不能超过 256 个字符"
    if password.lower() == username.lower():
        return "密码不能与用户名相同"
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 2:
        return "密码需包含字母、数字或符号中的至少两类"
    return weak_password_reason(password, names=[username])
