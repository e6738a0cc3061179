"""Verification: linking a resident account to one resident record.

Either by name + ID number matching the record that also holds the account's phone
(:meth:`Platform.verify_resident`; with ``phone_proof = "sms"`` the phone proven first, see
:mod:`.phone`), or by a one-time code a cadre issued for that resident. Every attempt is counted
before anything is compared (per account, per address, per ID number, per code). Verification
into a committee where the plugin is switched off is refused (:mod:`.availability`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from shequyun_sdk import (
    Actor,
    AttemptLimit,
    Conflict,
    Forbidden,
    NotFound,
    Platform,
    TooManyAttempts,
    ValidationFailed,
)
from shequyun_sdk.numbers import canonical_id_number, is_canonical_id_number
from shequyun_sdk.residents import ResidentRef
from sqlalchemy import update
from sqlmodel import Session, col, select

from . import phone as phone_proof
from .availability import is_open, refuse_resident
from .core import ASSIST, Errors, mask_name, now
from .models import Account, VerificationCode, aware

__all__ = [
    "CODE_DIGITS",
    "CODE_TRIES",
    "MAX_VERIFY_FAILURES",
    "IssuedCode",
    "code_digits",
    "code_hash",
    "issue_code",
    "issued_codes",
    "redeem_code",
    "take_code",
    "use_code_try",
    "verify_identity",
]

MAX_VERIFY_FAILURES = 5
VERIFY_WINDOW = timedelta(hours=24)
CODE_DIGITS = 8
#: Wrong names tried with one code before it stops working, whichever accounts tried them.
CODE_TRIES = 3

# Counted in the platform's database before the guess is checked (Platform.count_attempt).
VERIFY_BY_ACCOUNT = AttemptLimit("interaction.verify.account", MAX_VERIFY_FAILURES, VERIFY_WINDOW)
VERIFY_FROM_ADDRESS = AttemptLimit("interaction.verify.address", 10, VERIFY_WINDOW)
#: Failed verifications naming one ID number, across every account and address.
VERIFY_OF_ID_NUMBER = AttemptLimit("interaction.verify.id_number", 5, VERIFY_WINDOW)


def _count_verification(
    platform: Platform, account_id: int, client: str | None, id_number: str | None = None
) -> None:
    """Count a verification attempt against every limit it falls under, before checking it;
    raise 403 ``locked`` (the account's daily tries are spent) or 429 (address, ID number)."""
    verdict = platform.count_attempt(VERIFY_BY_ACCOUNT, str(account_id))
    if not verdict.allowed:
        raise Forbidden("核验失败次数过多，请 24 小时后再试，或到居委会领取核验码", code="locked")
    others = [(VERIFY_FROM_ADDRESS, client)] if client else []
    if id_number:
        others.append((VERIFY_OF_ID_NUMBER, id_number))
    for limit, key in others:
        verdict = platform.count_attempt(limit, key)
        if not verdict.allowed:
            raise TooManyAttempts(
                "核验尝试过于频繁，请稍后再试，或到居委会领取核验码",
                retry_after=verdict.retry_after,
            )


def _forgive_verification(
    platform: Platform, account_id: int, client: str | None, id_number: str | None = None
) -> None:
    platform.reset_attempts(VERIFY_BY_ACCOUNT, str(account_id))
    if client:
        platform.forgive_attempt(VERIFY_FROM_ADDRESS, client)
    if id_number:
        platform.forgive_attempt(VERIFY_OF_ID_NUMBER, id_number)


def _link(
    platform: Platform, session: Session, account: Account, ref: ResidentRef, via: str
) -> None:
    """Link ``account`` to the resident ``ref`` and record it in the audit log: from now on the
    account sees and acts as that resident (``via``: ``identity`` or ``code``)."""
    other = session.exec(
        select(Account).where(Account.resident_id == ref.id, Account.id != account.id)
    ).first()
    if other is not None:
        raise Conflict("该居民已绑定其他账号，如需更换请联系居委会", field="id_number")
    account.resident_id = ref.id
    account.unit_hint = ref.committee.id
    account.verified_at = now()
    account.verified_via = via
    session.add(account)
    platform.audit(
        session,
        "interaction.account_verified",
        actor=None,
        target_type="interaction_account",
        target_id=account.id,
        detail={"resident_id": ref.id, "committee": ref.committee.code, "via": via},
    )


def _refuse_if_closed(platform: Platform, plugin_name: str, ref: ResidentRef, field: str) -> None:
    if not is_open(platform, plugin_name, ref.committee):
        raise refuse_resident(ref.committee, field=field, doing="暂不能核验")


def verify_identity(
    platform: Platform,
    account_id: int,
    name: object,
    id_number: object,
    *,
    plugin_name: str,
    require_phone: bool = False,
    client: str | None = None,
) -> ResidentRef:
    """Link the account to the resident whose name, ID number and phone (the account's) match.

    ``require_phone``: the account must have proven its phone by SMS first (403 otherwise).
    Each attempt counts against the account (5 a day), the ``client`` address and the ID
    number named (whichever account names it) before anything is compared.
    """
    errors = Errors()
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "请填写姓名")
    canonical = canonical_id_number(id_number) if isinstance(id_number, str) else ""
    if not is_canonical_id_number(canonical):  # Arabic-Indic and other scripts' digits too
        errors.add("id_number", "请填写 18 位身份证号")
    errors.raise_if_any()
    assert isinstance(name, str)
    with platform.session() as session:
        account = _account(session, account_id)
        if require_phone and account.phone_confirmed_at is None:
            raise Forbidden(
                "请先验证手机号：填写注册时收到的短信验证码后，才能用姓名和身份证号核验",
                field="phone",
                code="phone_unconfirmed",
            )
        phone = phone_proof.phone_of(platform, account)
    _count_verification(platform, account_id, client, canonical)
    with platform.session() as session:
        account = _account(session, account_id)
        ref = platform.verify_resident(session, name=name, id_number=canonical, phone=phone)
        if ref is None:
            raise ValidationFailed(
                "未能核验：姓名、身份证号与本账号手机号须与居委登记的信息一致。"
                "如登记的手机号不同，请到居委会领取核验码",
                field="id_number",
                code="not_verified",
            )
        _refuse_if_closed(platform, plugin_name, ref, "id_number")
        _link(platform, session, account, ref, "identity")
    _forgive_verification(platform, account_id, client, canonical)
    return ref


def code_digits(code: object, errors: Errors) -> str:
    """The code's digits as typed (full-width digits and spaces allowed), or its problem in
    ``errors`` under ``code``."""
    digits = re.sub(r"\s", "", unicodedata.normalize("NFKC", code)) if isinstance(code, str) else ""
    if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", digits):
        errors.add("code", f"核验码应为 {CODE_DIGITS} 位数字")
    return digits


def code_hash(platform: Platform, code: str) -> str:
    """What is kept of a code: its keyed hash (:meth:`Platform.lookup_hash`, under the data
    key). A plain SHA-256 of eight digits is undone by trying all 10^8 of them, in seconds, so
    whoever read the table (a backup, a replica, a leaked dump) learnt every live code, and with
    the resident's name linked an account of their own to that resident."""
    return platform.lookup_hash(f"shequyun-interaction-code:{code}")


def _unkeyed_hash(code: str) -> str:
    """How codes issued before the keyed hash were kept: they keep working until they expire
    (at most the ``code_days`` they were issued for), so nobody holding one is turned away."""
    return hashlib.sha256(f"shequyun-interaction-code:{code}".encode()).hexdigest()


def issue_code(
    platform: Platform, actor: Actor, resident_id: int, lifetime: timedelta
) -> tuple[str, VerificationCode]:
    """A one-time code for a resident the cadre may reach; shown once, stored hashed."""
    if not actor.has(ASSIST):
        raise Forbidden("您没有权限发放核验码")
    with platform.session() as session:
        platform.get_resident(session, actor, resident_id)  # NotFound outside the cadre's scope
        ref = platform.resident_refs(session, [resident_id]).get(resident_id)
        if ref is None or not ref.active:
            raise NotFound("找不到该居民")
        if not platform.can(actor, ASSIST, ref.committee):
            raise NotFound("找不到该居民")
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        row = VerificationCode(
            code_hash=code_hash(platform, code),
            resident_id=resident_id,
            unit_id=ref.committee.id,
            issued_by_user_id=actor.user_id,
            issued_by=actor.username,
            expires_at=now() + lifetime,
        )
        session.add(row)
        platform.audit(
            session,
            "interaction.code_issued",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
            detail={"expires_at": row.expires_at.isoformat()},
        )
        return code, row


def take_code(
    platform: Platform, session: Session, digits: str, name: str
) -> tuple[VerificationCode, ResidentRef] | None:
    """The live code ``digits`` and its resident, when ``name`` is theirs as registered; the
    try is counted first (and committed), so a wrong name spends one of :data:`CODE_TRIES`.
    None for any refusal (no such code, used, expired, spent, the resident gone, another
    name, claimed a moment ago): the caller says one thing whatever it was. The code is
    claimed (``used_at``) in the caller's transaction; the caller records who used it."""
    hashes = [code_hash(platform, digits), _unkeyed_hash(digits)]
    row = session.exec(
        select(VerificationCode).where(col(VerificationCode.code_hash).in_(hashes))
    ).first()
    if row is None or row.used_at is not None or aware(row.expires_at) <= now():
        return None
    assert row.id is not None
    if not use_code_try(session, row.id):
        return None
    ref = platform.resident_refs(session, [row.resident_id]).get(row.resident_id)
    if ref is None or not ref.active or ref.name != name.strip():
        return None
    if not _claim(session, row):
        return None
    return row, ref


def _claim(session: Session, row: VerificationCode) -> bool:
    """Mark the code used in the caller's transaction (one UPDATE of an unused code): of two
    requests with the same code at the same moment one claims it and the other is refused,
    where both read it unused and each linked an account. A refusal after this point rolls the
    claim back with everything else."""
    table = VerificationCode.__table__  # type: ignore[attr-defined]
    moment = now()
    claimed = session.execute(
        update(table).where(table.c.id == row.id, table.c.used_at.is_(None)).values(used_at=moment)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    row.used_at = moment
    return True


def use_code_try(session: Session, code_id: int) -> bool:
    """Count a try of the code before the name is compared (one UPDATE: parallel tries are
    counted one by one); False once :data:`CODE_TRIES` were spent."""
    table = VerificationCode.__table__  # type: ignore[attr-defined]
    counted = session.execute(
        update(table)
        .where(table.c.id == code_id, table.c.tries < CODE_TRIES, table.c.used_at.is_(None))
        .values(tries=table.c.tries + 1)
    )
    session.commit()
    return bool(counted.rowcount)  # type: ignore[attr-defined]


def redeem_code(
    platform: Platform,
    account_id: int,
    code: object,
    name: object,
    *,
    plugin_name: str,
    client: str | None = None,
) -> ResidentRef:
    """Link the account to the resident a committee's code was issued for.

    The resident's ``name`` goes with the code: a guessed code is useless without it, and a
    code tried :data:`CODE_TRIES` times with a wrong name stops working, whichever accounts
    tried. Each attempt also counts against the account and the ``client`` address.
    """
    errors = Errors()
    digits = code_digits(code, errors)
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "请填写核验码所属居民的姓名")
    errors.raise_if_any()
    assert isinstance(name, str)
    with platform.session() as session:
        _account(session, account_id)
    _count_verification(platform, account_id, client)
    refused = ValidationFailed(
        "核验码或姓名不正确，或核验码已失效，请向居委会重新领取", field="code"
    )
    with platform.session() as session:
        account = _account(session, account_id)
        taken = take_code(platform, session, digits, name)
        if taken is None:
            raise refused
        row, ref = taken
        _refuse_if_closed(platform, plugin_name, ref, "code")
        _link(platform, session, account, ref, "code")
        row.used_by_account_id = account_id
        session.add(row)
    _forgive_verification(platform, account_id, client)
    return ref


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account


@dataclass(frozen=True)
class IssuedCode:
    """A code in the committee's list: ``resident`` masked (王**, "" when the record is gone),
    ``issuer`` the staff member's name (their login name if the user no longer exists)."""

    row: VerificationCode
    resident: str
    issuer: str


def issued_codes(platform: Platform, actor: Actor, limit: int = 30) -> list[IssuedCode]:
    """The codes most recently issued within ``actor``'s reach, each with its resident's name
    masked as residents' names are shown elsewhere (王** , see :func:`~.core.mask_name`) and
    the name of the staff member who issued it."""
    with platform.session() as session:
        rows = list(
            session.exec(
                select(VerificationCode)
                .where(platform.scope_filter(actor, ASSIST, VerificationCode.unit_id))
                .order_by(col(VerificationCode.id).desc())
                .limit(limit)
            )
        )
        refs = platform.resident_refs(session, {row.resident_id for row in rows})
        names = platform.user_names(session, {row.issued_by_user_id for row in rows})
    return [
        IssuedCode(
            row,
            mask_name(refs[row.resident_id].name) if row.resident_id in refs else "",
            names.get(row.issued_by_user_id, row.issued_by),
        )
        for row in rows
    ]
