"""Resident accounts: sign up, sign in, sessions, and who the signed-in account is.

Residents are not users of the kernel. Their accounts live here, with a password hashed by
scrypt (:mod:`.credentials`) and sessions of their own (a cookie for the portal, a token for the
mobile app). An account is *verified* once linked to one resident record (:mod:`.verification`);
a cadre may act for a resident in assisted mode (:mod:`.assisting`). What the account may do is
then decided from the resident record as it is at each request (:func:`viewer_for`), so a
transfer moves it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from shequyun_sdk import (
    Actor,
    AttemptLimit,
    Conflict,
    Forbidden,
    Platform,
    TooManyAttempts,
    ValidationFailed,
)
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from . import phone as phone_proof
from .assisting import ASSIST_LIFETIME, assist_target, assisted_resident, end_assist, start_assist
from .core import Errors, Viewer, now
from .credentials import (
    canonical_phone,
    clean_phone,
    hash_password,
    password_problem,
    verify_password,
)
from .credentials import token_hash as _token_hash
from .models import Account, ResidentSession, aware
from .verification import (
    CODE_TRIES,
    MAX_VERIFY_FAILURES,
    issue_code,
    issued_codes,
    redeem_code,
    verify_identity,
)

# What moved to .assisting and .verification stays importable from here.
__all__ = [
    "ASSIST_LIFETIME",
    "CODE_TRIES",
    "MAX_VERIFY_FAILURES",
    "account_for_token",
    "assist_target",
    "assisted_resident",
    "canonical_phone",
    "end_assist",
    "hash_password",
    "issue_code",
    "issued_codes",
    "log_in",
    "log_out",
    "redeem_code",
    "sign_up",
    "start_assist",
    "verify_identity",
    "verify_password",
    "viewer_for",
]

MAX_LOGIN_FAILURES = 5
LOGIN_LOCK = timedelta(minutes=15)
#: Sign-ups from one address per hour unless the setting ``signups_per_address_hour`` says.
SIGNUPS_PER_ADDRESS_HOUR = 10

# Every limit is counted in the platform's database before the guess is checked, so parallel
# requests and several worker processes share one count (Platform.count_attempt).
LOGIN_FROM_ADDRESS = AttemptLimit("interaction.login.address", 30, timedelta(minutes=15))


# -- sign up, sign in ----------------------------------------------------------------------------


def signup_limit(per_hour: int) -> AttemptLimit:
    return AttemptLimit("interaction.signup.address", per_hour, timedelta(hours=1))


def sign_up(
    platform: Platform,
    phone: object,
    password: object,
    *,
    prove_phone: bool = False,
    client: str | None = None,
    per_address_hour: int = SIGNUPS_PER_ADDRESS_HOUR,
) -> tuple[Account, phone_proof.Sent | None]:
    """Create an account; with ``prove_phone`` an SMS code goes to the phone in the same
    transaction (see :mod:`.phone`). One ``client`` address may try ``per_address_hour``
    sign-ups an hour (each new account would bring its own verification attempts)."""
    errors = Errors()
    phone = clean_phone(phone, errors)
    problem = password_problem(password, phone or "") if isinstance(password, str) else "请设置密码"
    if problem:
        errors.add("password", problem)
    errors.raise_if_any()
    assert isinstance(password, str)
    if client:
        verdict = platform.count_attempt(signup_limit(per_address_hour), client)
        if not verdict.allowed:
            raise TooManyAttempts(
                "注册过于频繁，请稍后再试", retry_after=verdict.retry_after, field="phone"
            )
    try:
        with platform.session() as session:
            account = Account(
                **phone_proof.at_rest(platform, phone), password_hash=hash_password(password)
            )
            session.add(account)
            session.flush()
            sent = phone_proof.send(platform, session, account) if prove_phone else None
            return account, sent
    except IntegrityError:
        raise Conflict("该手机号已注册，请直接登录", field="phone") from None


def _count_login(session: Session, account_id: int, moment: datetime) -> bool:
    """Count a login attempt on the account before its password is checked (one conditional
    UPDATE, so parallel attempts are counted one by one); False while the account is locked."""
    table = Account.__table__  # type: ignore[attr-defined]
    counted = session.execute(
        update(table)
        .where(
            table.c.id == account_id,
            or_(table.c.locked_until.is_(None), table.c.locked_until <= moment),
        )
        .values(failed_logins=table.c.failed_logins + 1)
        .returning(table.c.failed_logins)
    ).first()
    if counted is None:
        return False
    if counted[0] >= MAX_LOGIN_FAILURES:
        session.execute(
            update(table)
            .where(table.c.id == account_id)
            .values(locked_until=moment + LOGIN_LOCK, failed_logins=0)
        )
    return True


def log_in(
    platform: Platform,
    phone: object,
    password: object,
    *,
    kind: str,
    lifetime: timedelta,
    client: str | None = None,
) -> tuple[Account, str]:
    """Check the password (with lock-out after repeated failures); return the new session.

    The attempt is counted on the account, and on the ``client`` address, before the password
    is checked; a right password takes both counts back.
    """
    if not isinstance(phone, str) or not isinstance(password, str) or not password:
        raise ValidationFailed("请填写手机号和密码", field="phone")
    phone = canonical_phone(phone)
    moment = now()
    if client:
        verdict = platform.count_attempt(LOGIN_FROM_ADDRESS, client)
        if not verdict.allowed:
            raise TooManyAttempts(
                "登录尝试过于频繁，请稍后再试", retry_after=verdict.retry_after, field="password"
            )
    with platform.session() as session:
        account = phone_proof.account_by_phone(platform, session, phone)
        if account is not None:
            assert account.id is not None
            session.commit()
            allowed = _count_login(session, account.id, moment)
            session.commit()  # counted before the password is checked, whatever follows
            if not allowed:
                raise Forbidden(
                    "登录失败次数过多，请 15 分钟后再试", code="locked", field="password"
                )
        if not verify_password(account.password_hash if account else None, password):
            raise ValidationFailed("手机号或密码不正确", field="password", code="login_failed")
        assert account is not None and account.id is not None
        session.refresh(account)
        account.failed_logins = 0
        account.locked_until = None
        account.last_login_at = moment
        session.add(account)
        token = secrets.token_urlsafe(32)
        session.add(
            ResidentSession(
                token_hash=_token_hash(token),
                account_id=account.id,
                kind=kind,
                expires_at=moment + lifetime,
            )
        )
    if client:
        platform.forgive_attempt(LOGIN_FROM_ADDRESS, client)
    return account, token


def log_out(platform: Platform, token: str) -> None:
    with platform.session() as session:
        row = session.get(ResidentSession, _token_hash(token))
        if row is not None:
            session.delete(row)


def account_for_token(session: Session, token: str | None, kind: str) -> Account | None:
    if not token:
        return None
    row = session.get(ResidentSession, _token_hash(token))
    if row is None or row.kind != kind or aware(row.expires_at) <= now():
        return None
    return session.get(Account, row.account_id)


def viewer_for(
    platform: Platform,
    session: Session,
    account: Account | None,
    *,
    assistant: Actor | None = None,
    assisted_resident: int | None = None,
) -> Viewer:
    """The viewer, with the resident's placement read afresh from the resident database."""
    if assistant is not None and assisted_resident is not None:
        ref = platform.resident_refs(session, [assisted_resident]).get(assisted_resident)
        return Viewer(None, ref if ref is not None and ref.active else None, assistant)
    if account is None or account.resident_id is None:
        return Viewer(account)
    ref = platform.resident_refs(session, [account.resident_id]).get(account.resident_id)
    if ref is not None and ref.active and account.unit_hint != ref.committee.id:
        account.unit_hint = ref.committee.id
        session.add(account)
    return Viewer(account, ref if ref is not None and ref.active else None)


def expired(moment: datetime | None) -> bool:
    return moment is not None and aware(moment) <= now()
