"""Resident accounts: sign up, sign in, verification against the resident database, assisted mode.

Residents are not users of the kernel. Their accounts live here, with a password hashed by
scrypt and sessions of their own (a cookie for the portal, a token for the mobile app). An
account is *verified* once linked to one resident record, either by name + ID number matching
the record that also holds the account's phone (:meth:`Platform.verify_resident`), or by a
one-time code a cadre issued for that resident. With ``phone_proof = "sms"`` the first way needs
the phone proven first (:mod:`.phone`). Verification into a committee where the plugin is switched
off is refused (:mod:`.availability`). What the account may do is then decided from the resident
record as it is at each request (:func:`viewer_for`), so a transfer moves it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

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
from shequyun_sdk.passwords import weak_password_reason
from shequyun_sdk.residents import ResidentRef
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import phone as phone_proof
from .availability import is_open, refuse_resident
from .core import ASSIST, Errors, Viewer, mask_name, now
from .models import Account, AssistSession, ResidentSession, VerificationCode, aware

__all__ = [
    "hash_password",
    "issue_code",
    "log_in",
    "log_out",
    "redeem_code",
    "sign_up",
    "verify_identity",
    "verify_password",
    "viewer_for",
]

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
MAX_LOGIN_FAILURES = 5
LOGIN_LOCK = timedelta(minutes=15)
MAX_VERIFY_FAILURES = 5
VERIFY_WINDOW = timedelta(hours=24)
CODE_DIGITS = 8
#: Wrong names tried with one code before it stops working, whichever accounts tried them.
CODE_TRIES = 3
ASSIST_LIFETIME = timedelta(hours=2)
#: Sign-ups from one address per hour unless the setting ``signups_per_address_hour`` says.
SIGNUPS_PER_ADDRESS_HOUR = 10

# Every limit is counted in the platform's database before the guess is checked, so parallel
# requests and several worker processes share one count (Platform.count_attempt).
LOGIN_FROM_ADDRESS = AttemptLimit("interaction.login.address", 30, timedelta(minutes=15))
VERIFY_BY_ACCOUNT = AttemptLimit("interaction.verify.account", MAX_VERIFY_FAILURES, VERIFY_WINDOW)
VERIFY_FROM_ADDRESS = AttemptLimit("interaction.verify.address", 10, VERIFY_WINDOW)
#: Failed verifications naming one ID number, across every account and address.
VERIFY_OF_ID_NUMBER = AttemptLimit("interaction.verify.id_number", 5, VERIFY_WINDOW)

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


def _token_hash(token: str) -> str:
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
        account = session.exec(
            select(Account).where(Account.phone_hash == platform.lookup_hash(phone))
        ).first()
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


# -- verification --------------------------------------------------------------------------------


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


def _link(session: Session, account: Account, ref: ResidentRef, via: str) -> None:
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
    if len(canonical) != 18:
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
        _link(session, account, ref, "identity")
    _forgive_verification(platform, account_id, client, canonical)
    return ref


def _code_hash(code: str) -> str:
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
            code_hash=_code_hash(code),
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


def _use_code_try(session: Session, code_id: int) -> bool:
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
    digits = re.sub(r"\s", "", unicodedata.normalize("NFKC", code)) if isinstance(code, str) else ""
    if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", digits):
        errors.add("code", f"核验码应为 {CODE_DIGITS} 位数字")
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
        row = session.exec(
            select(VerificationCode).where(VerificationCode.code_hash == _code_hash(digits))
        ).first()
        if row is None or row.used_at is not None or aware(row.expires_at) <= now():
            raise refused
        assert row.id is not None
        if not _use_code_try(session, row.id):
            raise refused
        ref = platform.resident_refs(session, [row.resident_id]).get(row.resident_id)
        if ref is None or not ref.active or ref.name != name.strip():
            raise refused
        _refuse_if_closed(platform, plugin_name, ref, "code")
        _link(session, account, ref, "code")
        row.used_at = now()
        row.used_by_account_id = account_id
        session.add(row)
    _forgive_verification(platform, account_id, client)
    return ref


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account


def issued_codes(
    platform: Platform, actor: Actor, limit: int = 30
) -> list[tuple[VerificationCode, str]]:
    """The codes most recently issued within ``actor``'s reach, each with its resident's name
    masked as residents' names are shown elsewhere (王** , see :func:`~.core.mask_name`)."""
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
    return [
        (row, mask_name(refs[row.resident_id].name) if row.resident_id in refs else "")
        for row in rows
    ]


# -- assisted mode (代办) -------------------------------------------------------------------------


def start_assist(platform: Platform, actor: Actor, resident_id: int) -> tuple[str, ResidentRef]:
    """Begin acting for a resident the cadre may reach; returns the cookie value."""
    if not actor.has(ASSIST):
        raise Forbidden("您没有权限代办")
    with platform.session() as session:
        ref = assisted_resident(platform, session, actor, resident_id)
        if ref is None:
            raise NotFound("找不到该居民")
        token = secrets.token_urlsafe(32)
        session.add(
            AssistSession(
                token_hash=_token_hash(token),
                user_id=actor.user_id,
                resident_id=resident_id,
                expires_at=now() + ASSIST_LIFETIME,
            )
        )
        platform.audit(
            session,
            "interaction.assist_started",
            actor=actor,
            target_type="resident",
            target_id=resident_id,
        )
        return token, ref


def assisted_resident(
    platform: Platform, session: Session, actor: Actor, resident_id: int
) -> ResidentRef | None:
    """The resident, if ``actor`` may act for them now (checked at every use)."""
    if not actor.has(ASSIST):
        return None
    try:
        platform.get_resident(session, actor, resident_id)
    except NotFound:
        return None
    ref = platform.resident_refs(session, [resident_id]).get(resident_id)
    if ref is None or not ref.active or not platform.can(actor, ASSIST, ref.committee):
        return None
    return ref


def assist_target(session: Session, actor: Actor, token: str | None) -> int | None:
    if not token:
        return None
    row = session.get(AssistSession, _token_hash(token))
    if row is None or row.user_id != actor.user_id or aware(row.expires_at) <= now():
        return None
    return row.resident_id


def end_assist(platform: Platform, token: str) -> None:
    with platform.session() as session:
        row = session.get(AssistSession, _token_hash(token))
        if row is not None:
            session.delete(row)


def expired(moment: datetime | None) -> bool:
    return moment is not None and aware(moment) <= now()
