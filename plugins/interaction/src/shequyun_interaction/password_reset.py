"""Forgotten passwords (忘记密码): a resident sets a new one without being signed in.

Two ways, as for verification:

- **with a committee's 核验码** (:func:`reset_with_code`): the resident shows their ID at the
  committee, a cadre issues the same one-time code as for verification (:mod:`.verification`),
  and the resident gives their phone, their name as registered, the code and a new password.
  Only an account already linked to that resident is reset: the code proves who the person is,
  the link proves the account is theirs.
- **by SMS** (:func:`send_sms_code`, :func:`reset_with_sms`), where the plugin proves phones by
  SMS (``phone_proof = "sms"``, so an SMS adapter is installed): a 6-digit code goes to the
  account's phone, with the same limits per phone as at sign-up (:mod:`.phone`).

A refused code reset says the same whatever was wrong (phone, name or code), since the code is
the secret. A phone without an account is told so, as sign-up tells it (该手机号已注册). Every
attempt is counted on the client address first (and on the code, or the SMS code's tries).
A reset ends every session of the account (a stranger who knew the old password is signed
out), lifts a login lock and is in the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from shequyun_sdk import AttemptLimit, Platform, TooManyAttempts, ValidationFailed
from sqlalchemy import delete
from sqlmodel import Session

from . import phone as phone_proof
from .core import Errors, now
from .credentials import clean_phone, hash_password, password_problem
from .models import Account, ResidentSession
from .verification import code_digits, take_code

__all__ = ["RESET_FROM_ADDRESS", "reset_with_code", "reset_with_sms", "send_sms_code"]

#: Reset attempts (codes tried, SMS codes asked for) from one address per hour.
RESET_FROM_ADDRESS = AttemptLimit("interaction.reset.address", 10, timedelta(hours=1))


def _count(platform: Platform, client: str | None) -> None:
    if not client:
        return
    verdict = platform.count_attempt(RESET_FROM_ADDRESS, client)
    if not verdict.allowed:
        raise TooManyAttempts(
            "找回密码的尝试过于频繁，请稍后再试", retry_after=verdict.retry_after, field="phone"
        )


def _new_password(errors: Errors, password: object, password2: object, phone: str) -> str:
    """The new password, or its problem in ``errors`` (``password``, ``password2``)."""
    if not isinstance(password, str) or not password:
        errors.add("password", "请设置新密码")
        return ""
    problem = password_problem(password, phone)
    if problem:
        errors.add("password", problem)
    elif password != password2:
        errors.add("password2", "两次输入的密码不一致")
    return password


def _set_password(
    platform: Platform, session: Session, account: Account, password: str, via: str
) -> None:
    """The new password; every session of the account ends and a login lock is lifted."""
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    session.add(account)
    session.execute(delete(ResidentSession).where(ResidentSession.account_id == account.id))  # type: ignore[arg-type]
    platform.audit(
        session,
        "interaction.password_reset",
        actor=None,
        target_type="interaction_account",
        target_id=account.id,
        detail={"via": via, "phone": account.phone_masked},
    )


def reset_with_code(
    platform: Platform,
    phone: object,
    name: object,
    code: object,
    password: object,
    password2: object,
    *,
    client: str | None = None,
) -> None:
    """Set a new password with a committee's one-time code for the resident the account is
    linked to; the code is then used up. Refusals name the field; a wrong phone, name or code,
    or a code for another resident, all read alike (``code``)."""
    errors = Errors()
    canonical = clean_phone(phone, errors)
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "请填写居委登记的姓名")
    digits = code_digits(code, errors)
    new = _new_password(errors, password, password2, canonical)
    errors.raise_if_any()
    assert isinstance(name, str)
    _count(platform, client)
    refused = ValidationFailed(
        "手机号、姓名或核验码不正确，或核验码已失效，请向居委会重新领取", field="code"
    )
    with platform.session() as session:
        taken = take_code(platform, session, digits, name)
        account = phone_proof.account_by_phone(platform, session, canonical)
        if taken is None or account is None or account.resident_id != taken[0].resident_id:
            raise refused
        row = taken[0]
        _set_password(platform, session, account, new, "code")
        row.used_by_account_id = account.id
        session.add(row)
    if client:
        platform.forgive_attempt(RESET_FROM_ADDRESS, client)


def send_sms_code(
    platform: Platform, phone: object, *, client: str | None = None
) -> phone_proof.Sent:
    """Send a reset code to the phone of the account registered with ``phone``: the masked
    phone and how long the code lives. The phone's hourly and daily limits and the cool-down
    are those of sign-up codes (429)."""
    errors = Errors()
    canonical = clean_phone(phone, errors)
    errors.raise_if_any()
    _count(platform, client)
    with platform.session() as session:
        account = phone_proof.account_by_phone(platform, session, canonical)
        if account is None:
            raise _unregistered()
        return phone_proof.send(platform, session, account, phone_proof.RESET)


def _unregistered() -> ValidationFailed:
    return ValidationFailed("该手机号尚未注册居民账号", field="phone", code="not_registered")


def reset_with_sms(
    platform: Platform,
    phone: object,
    code: object,
    password: object,
    password2: object,
    *,
    client: str | None = None,
) -> None:
    """Set a new password with the reset code sent to the account's phone; the phone is then
    proven too. A phone without an account is told so (422 on ``phone``), as when sending."""
    errors = Errors()
    canonical = clean_phone(phone, errors)
    digits = phone_proof.code_digits(code, errors)
    new = _new_password(errors, password, password2, canonical)
    errors.raise_if_any()
    _count(platform, client)
    with platform.session() as session:
        account = phone_proof.account_by_phone(platform, session, canonical)
        if account is None:
            raise _unregistered()
        row = phone_proof.check_code(session, account, digits, phone_proof.RESET)
        moment = now()
        row.used_at = moment
        session.add(row)
        if account.phone_confirmed_at is None:
            account.phone_confirmed_at = moment
        _set_password(platform, session, account, new, "sms")
    if client:
        platform.forgive_attempt(RESET_FROM_ADDRESS, client)
