"""Proof of the phone: a one-time SMS code shows that an account's holder controls its phone.

Verification by name + ID number matches the resident record that also holds the account's
phone. Unless signing up proves the phone, whoever knows a resident's name, ID number and
registered phone could claim them. With the setting ``phone_proof = "sms"`` a new account is
sent a 6-digit code and must confirm it before it may verify that way; a committee's one-time
code (handed over in person) needs no SMS.

The plugin sends no SMS itself. It publishes the event ``interaction.sms`` and an adapter
plugin delivers it::

    {"phone": "13800000001", "purpose": "signup", "text": "【社区云】验证码 123456，…",
     "params": {"code": "123456", "minutes": 10}}

(``params`` for gateways that only send approved templates). That event is the only place a
code leaves: the database keeps a salted scrypt hash, and neither logs nor the audit log see it.
The event declares ``phone``, ``text`` and ``params`` sealed: they wait in the outbox encrypted
under the data key and are left out of the change feed, webhooks and the broker bridge.
A code is valid for :data:`LIFETIME`, allows :data:`MAX_ATTEMPTS` tries, and only the newest
code of an account counts. A phone gets at most :data:`PER_HOUR` codes an hour and
:data:`PER_DAY` a day, at least :data:`COOL_DOWN` apart.

The phone itself is personal data and is kept like the kernel keeps resident phones
(:func:`at_rest`): sealed under the platform's data key, found by its keyed hash, shown masked.
It is unsealed only to hand it to the SMS adapter and to match the resident record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shequyun_sdk import ApiError, Conflict, NotFound, Platform, ValidationFailed
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from .core import Errors, now
from .models import Account, PhoneCode, aware

__all__ = [
    "MODES",
    "SMS_EVENT",
    "Sent",
    "TooMany",
    "account_by_phone",
    "at_rest",
    "check_code",
    "confirm",
    "mask",
    "phone_of",
    "required",
    "resend",
    "send",
]

MODES = ("sms", "none")
SMS_EVENT = "interaction.sms"
SIGNUP = "signup"
#: A code that lets the holder of a forgotten password set a new one (:mod:`.password_reset`).
RESET = "reset"
#: What each purpose's SMS says the code is for.
_FOR = {SIGNUP: "用于注册居社互动", RESET: "用于重置居社互动的登录密码，如非本人操作请忽略"}
CODE_DIGITS = 6
LIFETIME = timedelta(minutes=10)
COOL_DOWN = timedelta(seconds=60)
PER_HOUR = 5
PER_DAY = 10
MAX_ATTEMPTS = 5

# The same scrypt cost as passwords: tens of milliseconds per check, so that searching the
# million codes of a stolen hash takes longer than the code lives.
_N, _R, _P = 2**14, 8, 1


class TooMany(ApiError):
    """Too many codes asked for, or too many tries of one code (429)."""

    status_code = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Sent:
    """What the resident is told after a code went out (never the code)."""

    to: str
    expires_in: int
    resend_after: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent_to": self.to,
            "expires_in": self.expires_in,
            "resend_after": self.resend_after,
        }


def required(settings: Mapping[str, Any]) -> bool:
    """Whether the plugin's settings ask for SMS proof before verification by ID number."""
    return settings.get("phone_proof", "none") == "sms"


def mask(phone: str) -> str:
    """13812345678 → 138****5678."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else phone


def at_rest(platform: Platform, phone: str) -> dict[str, str]:
    """The account columns that keep the canonical ``phone``: sealed, its keyed hash, masked."""
    return {
        "phone_sealed": platform.seal(phone),
        "phone_hash": platform.lookup_hash(phone),
        "phone_masked": mask(phone),
    }


def account_by_phone(platform: Platform, session: Session, phone: str) -> Account | None:
    """The account signed up with the canonical ``phone`` (found by its keyed hash), or None."""
    return session.exec(
        select(Account).where(Account.phone_hash == platform.lookup_hash(phone))
    ).first()


def phone_of(platform: Platform, account: Account) -> str:
    """The account's phone in clear, for the SMS adapter and the resident-record match only."""
    return platform.unseal(account.phone_sealed)


def _hash(code: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{salt.hex()}${digest.hex()}"


def _matches(stored: str, code: str) -> bool:
    salt, digest = stored.split("$")
    computed = hashlib.scrypt(code.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P, dklen=32)
    return hmac.compare_digest(computed.hex(), digest)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


# -- sending -------------------------------------------------------------------------------------


def _refuse_if_too_many(session: Session, phone_hash: str, moment: datetime) -> None:
    def since(window: timedelta) -> list[datetime]:
        return list(
            session.exec(
                select(PhoneCode.created_at)
                .where(
                    PhoneCode.phone_hash == phone_hash, col(PhoneCode.created_at) > moment - window
                )
                .order_by(col(PhoneCode.created_at))
            )
        )

    day = since(timedelta(days=1))
    if len(day) >= PER_DAY:
        raise TooMany(
            "该手机号今日获取验证码次数已达上限，请明天再试，或到居委会领取核验码",
            field="phone",
            code="sms_daily_limit",
            extra={"retry_after": _seconds(aware(day[0]) + timedelta(days=1) - moment)},
        )
    hour = [t for t in day if aware(t) > moment - timedelta(hours=1)]
    if len(hour) >= PER_HOUR:
        raise TooMany(
            "该手机号一小时内获取验证码次数过多，请稍后再试",
            field="phone",
            code="sms_hourly_limit",
            extra={"retry_after": _seconds(aware(hour[0]) + timedelta(hours=1) - moment)},
        )


def _take_turn(session: Session, account: Account, moment: datetime) -> None:
    """Claim the right to send now: one UPDATE, so two concurrent requests send one code."""
    claimed = session.execute(
        update(Account)
        .where(
            col(Account.id) == account.id,
            or_(
                col(Account.code_sent_at).is_(None),
                col(Account.code_sent_at) <= moment - COOL_DOWN,
            ),
        )
        .values(code_sent_at=moment)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        last = account.code_sent_at
        wait = COOL_DOWN - (moment - aware(last)) if last is not None else COOL_DOWN
        raise TooMany(
            f"验证码已发送，请 {_seconds(wait)} 秒后再重新获取",
            field="phone",
            code="sms_cool_down",
            extra={"retry_after": _seconds(wait)},
        )
    account.code_sent_at = moment


def send(platform: Platform, session: Session, account: Account, purpose: str = SIGNUP) -> Sent:
    """Send a new code to the account's phone, in ``session``: the event leaves with its commit.

    Raises :class:`TooMany` (429) within the cool-down or beyond the hourly or daily limit.
    """
    assert account.id is not None
    moment = now()
    _refuse_if_too_many(session, account.phone_hash, moment)
    _take_turn(session, account, moment)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = int(LIFETIME.total_seconds() // 60)
    session.add(
        PhoneCode(
            account_id=account.id,
            phone_hash=account.phone_hash,
            purpose=purpose,
            code_hash=_hash(code),
            created_at=moment,
            expires_at=moment + LIFETIME,
        )
    )
    platform.publish(
        session,
        SMS_EVENT,
        {
            "phone": phone_of(platform, account),
            "purpose": purpose,
            "text": f"【社区云】验证码 {code}，{_FOR[purpose]}，{minutes} 分钟内有效。"
            "请勿告诉他人，工作人员不会向您索要验证码。",
            "params": {"code": code, "minutes": minutes},
        },
    )
    platform.audit(
        session,
        "interaction.phone_code_sent",
        actor=None,
        target_type="interaction_account",
        target_id=account.id,
        detail={"purpose": purpose, "phone": account.phone_masked},
    )
    return Sent(account.phone_masked, _seconds(LIFETIME), _seconds(COOL_DOWN))


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account


def resend(platform: Platform, account_id: int) -> Sent:
    """A new code for an account that has not proven its phone yet (the old one stops counting)."""
    with platform.session() as session:
        account = _account(session, account_id)
        if account.phone_confirmed_at is not None:
            raise Conflict("手机号已验证，无需再获取验证码", field="phone", code="phone_confirmed")
        if account.resident_id is not None:
            raise Conflict("账号已完成实名核验，无需验证手机号", field="phone", code="verified")
        return send(platform, session, account)


# -- confirming ----------------------------------------------------------------------------------


def _use_one_try(session: Session, row: PhoneCode) -> int:
    """Count a try before checking it (one UPDATE, so parallel guesses cannot exceed the
    limit); return the tries left after this one, or -1 when none was left."""
    bumped = session.execute(
        update(PhoneCode)
        .where(
            col(PhoneCode.id) == row.id,
            col(PhoneCode.attempts) < MAX_ATTEMPTS,
            col(PhoneCode.used_at).is_(None),
        )
        .values(attempts=PhoneCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        return -1
    session.refresh(row)
    return MAX_ATTEMPTS - row.attempts


def code_digits(code: object, errors: Errors | None = None) -> str:
    """The 6 digits of an SMS code as typed; otherwise a 422 naming ``code``, or with ``errors``
    the problem added there (beside the form's other fields) and ``""``."""
    # NFKC: full-width ０-９ (what a Chinese input method types) are the ASCII digits; any
    # other script's digits are no code's, though \d and int() would take them.
    digits = re.sub(r"\s", "", unicodedata.normalize("NFKC", code)) if isinstance(code, str) else ""
    if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", digits):
        message = f"请填写短信中的 {CODE_DIGITS} 位数字验证码"
        if errors is None:
            raise ValidationFailed(message, field="code")
        errors.add("code", message)
        return ""
    return digits


def check_code(session: Session, account: Account, digits: str, purpose: str) -> PhoneCode:
    """Check ``digits`` against the newest ``purpose`` code sent to the account's phone, counting
    the try first; return the code's row (the caller marks it used with what it then does), or
    raise 422 (none, expired, wrong: with the tries left) or 429 (tries spent)."""
    row = session.exec(
        select(PhoneCode)
        .where(
            PhoneCode.account_id == account.id,
            PhoneCode.phone_hash == account.phone_hash,
            PhoneCode.purpose == purpose,
        )
        .order_by(col(PhoneCode.id).desc())
    ).first()
    if row is None:
        raise ValidationFailed("请先获取短信验证码", field="code", code="no_code")
    if row.used_at is not None or aware(row.expires_at) <= now():
        raise ValidationFailed("验证码已过期，请重新获取", field="code", code="code_expired")
    left = _use_one_try(session, row)
    if left < 0:
        raise TooMany(
            "验证码错误次数过多，已失效，请重新获取", field="code", code="too_many_attempts"
        )
    if not _matches(row.code_hash, digits):
        message = (
            f"验证码不正确，还可再试 {left} 次"
            if left
            else "验证码不正确，错误次数已达上限，请重新获取"
        )
        raise ValidationFailed(message, field="code", code="wrong_code")
    return row


def confirm(platform: Platform, account_id: int, code: object) -> None:
    """Check the code sent to the account's phone; on success the phone is proven."""
    digits = code_digits(code)
    with platform.session() as session:
        account = _account(session, account_id)
        if account.phone_confirmed_at is not None:
            return
        row = check_code(session, account, digits, SIGNUP)
        moment = now()
        row.used_at = moment
        account.phone_confirmed_at = moment
        session.add(row)
        session.add(account)
        platform.audit(
            session,
            "interaction.phone_confirmed",
            actor=None,
            target_type="interaction_account",
            target_id=account_id,
            detail={"phone": account.phone_masked},
        )
