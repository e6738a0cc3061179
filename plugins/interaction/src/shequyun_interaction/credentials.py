"""Residents' secrets and the forms they type them in: scrypt password hashes, session token
hashes, the password rules, and phone / ID number canonical forms (full-width digits, spaces).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from shequyun_sdk.passwords import weak_password_reason

from .core import Errors

__all__ = [
    "PHONE",
    "canonical_id_number",
    "canonical_phone",
    "clean_phone",
    "hash_password",
    "password_problem",
    "token_hash",
    "verify_password",
]

PHONE = re.compile(r"^1[3-9][0-9]{9}$")

# scrypt at n=2**14, r=8: about 16 MiB and tens of milliseconds per check.
_N, _R, _P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(stored: str | None, password: str) -> bool:
    """Check ``password``; takes as long when there is no account, so phones cannot be probed."""
    try:
        _, n, r, p, salt, digest = (stored or _DUMMY).split("$")
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed.hex(), digest) and stored is not None


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_problem(password: str, phone: str = "") -> str | None:
    """Why a resident may not use ``password`` (in Chinese), or None."""
    if len(password) < 8:
        return "密码至少需要 8 个字符"
    if len(password) > 128:
        return "密码不能超过 128 个字符"
    classes = sum(
        [
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 2:
        return "密码需包含字母、数字或符号中的至少两类"
    return weak_password_reason(password, names=[phone] if phone else [])


def canonical_phone(raw: str) -> str:
    """Full-width digits become ASCII (NFKC); spaces and hyphens go."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw))


def canonical_id_number(raw: str) -> str:
    """NFKC (full-width digits become ASCII), no spaces, upper-case X."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", raw)).upper()


def clean_phone(raw: object, errors: Errors, field: str = "phone") -> str:
    phone = canonical_phone(raw) if isinstance(raw, str) else ""
    if not PHONE.match(phone):
        errors.add(field, "请填写 11 位手机号码")
    return phone
