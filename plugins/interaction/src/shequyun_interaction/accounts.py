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
from datetime import datetime, timedelta

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, ValidationFailed
from shequyun_sdk.residents import ResidentRef
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import phone as phone_proof
from .availability import is_open, refuse_resident
from .core import ASSIST, Errors, Viewer, now
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

PHONE = re.compile(r"^1[3-9]\d{9}$")
MAX_LOGIN_FAILURES = 5
LOGIN_LOCK = timedelta(minutes=15)
MAX_VERIFY_FAILURES = 5
VERIFY_WINDOW = timedelta(hours=24)
CODE_DIGITS = 8
ASSIST_LIFETIME = timedelta(hours=2)

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


def password_problem(password: str) -> str | None:
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
    return "密码需包含字母、数字或符号中的至少两类" if classes < 2 else None


def clean_phone(raw: object, errors: Errors, field: str = "phone") -> str:
    phone = re.sub(r"[\s-]", "", raw.strip()) if isinstance(raw, str) else ""
    if not PHONE.match(phone):
        errors.add(field, "请填写 11 位手机号码")
    return phone


# -- sign up, sign in ----------------------------------------------------------------------------


def sign_up(
    platform: Platform, phone: object, password: object, *, prove_phone: bool = False
) -> tuple[Account, phone_proof.Sent | None]:
    """Create an account; with ``prove_phone`` an SMS code goes to the phone in the same
    transaction (see :mod:`.phone`)."""
    errors = Errors()
    phone = clean_phone(phone, errors)
    problem = password_problem(password) if isinstance(password, str) else "请设置密码"
    if problem:
        errors.add("password", problem)
    errors.raise_if_any()
    assert isinstance(password, str)
    try:
        with platform.session() as session:
            account = Account(phone=phone, password_hash=hash_password(password))
            session.add(account)
            session.flush()
            sent = phone_proof.send(platform, session, account) if prove_phone else None
            return account, sent
    except IntegrityError:
        raise Conflict("该手机号已注册，请直接登录", field="phone") from None


def log_in(
    platform: Platform, phone: object, password: object, *, kind: str, lifetime: timedelta
) -> tuple[Account, str]:
    """Check the password (with lock-out after repeated failures); return the new session."""
    if not isinstance(phone, str) or not isinstance(password, str) or not password:
        raise ValidationFailed("请填写手机号和密码", field="phone")
    phone = re.sub(r"[\s-]", "", phone.strip())
    moment = now()
    with platform.session() as session:
        account = session.exec(select(Account).where(Account.phone == phone)).first()
        if account is not None and account.locked_until and aware(account.locked_until) > moment:
            raise Forbidden("登录失败次数过多，请 15 分钟后再试", code="locked", field="password")
        if not verify_password(account.password_hash if account else None, password):
            if account is not None:
                account.failed_logins += 1
                if account.failed_logins >= MAX_LOGIN_FAILURES:
                    account.locked_until = moment + LOGIN_LOCK
                    account.failed_logins = 0
                session.add(account)
                session.commit()
            raise ValidationFailed("手机号或密码不正确", field="password", code="login_failed")
        assert account is not None and account.id is not None
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


def _count_failure(session: Session, account: Account) -> None:
    moment = now()
    start = account.verify_window_start
    if start is None or aware(start) < moment - VERIFY_WINDOW:
        account.verify_window_start = moment
        account.verify_failures = 0
    account.verify_failures += 1
    session.add(account)
    session.commit()


def _refuse_if_throttled(account: Account) -> None:
    start = account.verify_window_start
    if (
        account.verify_failures >= MAX_VERIFY_FAILURES
        and start is not None
        and aware(start) >= now() - VERIFY_WINDOW
    ):
        raise Forbidden("核验失败次数过多，请 24 小时后再试，或到居委会领取核验码", code="locked")


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
    account.verify_failures = 0
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
) -> ResidentRef:
    """Link the account to the resident whose name, ID number and phone (the account's) match.

    ``require_phone``: the account must have proven its phone by SMS first (403 otherwise).
    """
    errors = Errors()
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "请填写姓名")
    if not isinstance(id_number, str) or len(id_number.strip()) != 18:
        errors.add("id_number", "请填写 18 位身份证号")
    errors.raise_if_any()
    assert isinstance(name, str) and isinstance(id_number, str)
    with platform.session() as session:
        account = _account(session, account_id)
        if require_phone and account.phone_confirmed_at is None:
            raise Forbidden(
                "请先验证手机号：填写注册时收到的短信验证码后，才能用姓名和身份证号核验",
                field="phone",
                code="phone_unconfirmed",
            )
        _refuse_if_throttled(account)
        ref = platform.verify_resident(session, name=name, id_number=id_number, phone=account.phone)
        if ref is None:
            _count_failure(session, account)
            raise ValidationFailed(
                "未能核验：姓名、身份证号与本账号手机号须与居委登记的信息一致。"
                "如登记的手机号不同，请到居委会领取核验码",
                field="id_number",
                code="not_verified",
            )
        _refuse_if_closed(platform, plugin_name, ref, "id_number")
        _link(session, account, ref, "identity")
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


def redeem_code(
    platform: Platform, account_id: int, code: object, *, plugin_name: str
) -> ResidentRef:
    digits = re.sub(r"\s", "", code) if isinstance(code, str) else ""
    if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits):
        raise ValidationFailed(f"核验码应为 {CODE_DIGITS} 位数字", field="code")
    with platform.session() as session:
        account = _account(session, account_id)
        _refuse_if_throttled(account)
        row = session.exec(
            select(VerificationCode).where(VerificationCode.code_hash == _code_hash(digits))
        ).first()
        usable = row is not None and row.used_at is None and aware(row.expires_at) > now()
        ref = (
            platform.resident_refs(session, [row.resident_id]).get(row.resident_id) if row else None
        )
        if not usable or ref is None or not ref.active:
            _count_failure(session, account)
            raise ValidationFailed("核验码无效或已过期，请向居委会重新领取", field="code")
        assert row is not None
        _refuse_if_closed(platform, plugin_name, ref, "code")
        _link(session, account, ref, "code")
        row.used_at = now()
        row.used_by_account_id = account_id
        session.add(row)
        return ref


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account


def issued_codes(platform: Platform, actor: Actor, limit: int = 30) -> list[VerificationCode]:
    with platform.session() as session:
        return list(
            session.exec(
                select(VerificationCode)
                .where(platform.scope_filter(actor, ASSIST, VerificationCode.unit_id))
                .order_by(col(VerificationCode.id).desc())
                .limit(limit)
            )
        )


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
