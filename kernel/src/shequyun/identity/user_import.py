"""Creating users in bulk from a CSV or XLSX file.

An import is checked in full before anything is written: every bad row is reported (row, field,
reason in Chinese) and the file is applied all or nothing. Users get a generated first password,
returned once, which they must change at their first login. The same rules apply as to an
admin creating one user through the API: the user's home unit and the grant's unit must lie in
the admin's subtree, and the role may not carry more power than the admin's
(:func:`~.grant_rules.may_grant`).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shequyun_sdk import ApiError, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..spreadsheets import OVERPACKED_MESSAGE, overpacked_xlsx
from . import audit, scope
from .auth import unit_ref
from .directory import USERNAME_RE, create_user, grant_role
from .grant_rules import (
    USERS_MANAGE,
    escalation_message,
    may_grant,
    new_first_password,
    personal_data_hold,
    resolve_role,
)
from .models import Grant, OrgUnit, User
from .passwords import hash_password
from .permissions import PermissionRegistry

__all__ = [
    "COLUMNS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "ImportReport",
    "RowError",
    "import_users",
]

#: Bounds on one import: generating and hashing a password takes ~30 ms per user.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 1000
#: Rows of a sheet read at all, blank ones included (a styled sheet may have thousands).
MAX_SHEET_ROWS = 20 * MAX_IMPORT_ROWS

#: Columns of the file: canonical name → the Chinese header (also accepted).
COLUMNS = {
    "username": "用户名",
    "display_name": "姓名",
    "phone": "手机",
    "home_unit_code": "所属单位编码",
    "role": "角色",
    "unit_code": "授权单位编码",
}
REQUIRED_COLUMNS = ("username", "display_name", "home_unit_code")
_HEADER_ALIASES = {
    **{name: name for name in COLUMNS},
    **{title: name for name, title in COLUMNS.items()},
    "手机号": "phone",
    "电话": "phone",
}
# directory.py names the fields of its errors; the import reports them as file columns.
_DIRECTORY_FIELDS = {"unit": "unit_code"}


# -- reading the file ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in the file: ``row`` as a spreadsheet shows it (the header is row 1)."""

    row: int
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class PlannedUser:
    row: int
    username: str
    display_name: str
    home_unit_code: str
    role: str | None
    unit_code: str | None
    user_id: int | None = None
    password: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "row": self.row,
            "username": self.username,
            "display_name": self.display_name,
            "home_unit_code": self.home_unit_code,
            "role": self.role,
            "unit_code": self.unit_code,
        }
        if self.password is not None:  # applied: the user exists and this is its first password
            data["id"] = self.user_id
            data["password"] = self.password
        return data


@dataclass
class ImportReport:
    """What an import found (``errors``) and would create or created (``users``)."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    users: list[PlannedUser] = field(default_factory=list)
    applied: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "valid": self.valid,
            "rows": self.rows,
            "errors": [e.to_dict() for e in self.errors],
            "users": [u.to_dict() for u in self.users],
            "grants": sum(1 for u in self.users if u.role),
        }


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def read_table(data: bytes, filename: str = "") -> list[tuple[int, list[str]]]:
    """The rows of a CSV (UTF-8 with or without BOM, GBK/GB18030) or XLSX file, numbered.

    Blank rows are dropped but keep their number, so row numbers match what a spreadsheet shows.
    """
    if not data.strip():
        raise _file_error("文件是空的")
    if len(data) > MAX_IMPORT_BYTES:
        raise _file_error(f"文件不能超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise _file_error("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV（UTF-8）")
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    numbered: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(rows, start=1):
        values = [_cell(c) for c in cells]
        if any(values):
            numbered.append((number, values))
            if len(numbered) > MAX_IMPORT_ROWS + 1:
                raise _file_error(f"一次最多导入 {MAX_IMPORT_ROWS} 行，请拆分文件")
    if not numbered:
        raise _file_error("文件是空的")
    return numbered


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    text: str | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise _file_error("无法识别文件编码，请使用 UTF-8 或 GBK 编码的 CSV，或 XLSX")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _file_error(f"CSV 格式错误：{exc}") from None


def _xlsx_rows(data: bytes) -> Iterable[list[Any]]:
    if overpacked_xlsx(data):
        raise _file_error(OVERPACKED_MESSAGE)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                rows: list[list[Any]] = []
                for cells in sheet.iter_rows(values_only=True):
                    rows.append(list(cells))
                    if len(rows) > MAX_SHEET_ROWS:
                        raise _file_error(f"表格超过 {MAX_SHEET_ROWS} 行（含空行），请删去多余的行")
                return rows
            finally:
                workbook.close()
    except ApiError:
        raise
    except Exception:  # openpyxl raises many kinds of error on a damaged file
        raise _file_error("无法读取 XLSX 文件，请确认文件未损坏") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or phone number typed into a spreadsheet
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header(number: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    columns: dict[str, int] = {}
    errors: list[RowError] = []
    for index, title in enumerate(cells):
        if not title:
            continue
        name = _HEADER_ALIASES.get(title.strip().lower()) or _HEADER_ALIASES.get(title.strip())
        if name is None:
            errors.append(RowError(number, title, f"未知的列“{title}”"))
        elif name in columns:
            errors.append(RowError(number, name, f"列“{title}”重复"))
        else:
            columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            errors.append(RowError(number, name, f"缺少列“{COLUMNS[name]}”（{name}）"))
    return columns, errors


# -- checking and applying ----------------------------------------------------------------


def import_users(
    engine: Engine,
    registry: PermissionRegistry,
    actor: Actor,
    data: bytes,
    filename: str = "",
    *,
    apply: bool,
    client_ip: str | None = None,
) -> ImportReport:
    """Check ``data`` row by row and, when ``apply`` and every row is good, create the users.

    Raises :class:`~shequyun_sdk.ValidationFailed` (field ``file``) when the file cannot be
    read at all; problems in rows are in the report. Nothing is written unless the whole file
    is good and ``apply`` is true.
    """
    table = read_table(data, filename)
    header_number, header_cells = table[0]
    columns, header_errors = _header(header_number, header_cells)
    report = ImportReport(rows=len(table) - 1, errors=header_errors)
    if header_errors:
        return report
    if report.rows == 0:
        raise _file_error("文件只有表头，没有数据行")
    records = [
        (number, {name: cells[i] if i < len(cells) else "" for name, i in columns.items()})
        for number, cells in table[1:]
    ]
    report = _check(engine, registry, actor, records, report)
    if not report.valid or not apply:
        return report
    # Hash outside any transaction (~30 ms a user), then check again and write in one go:
    # whatever changed meanwhile (a username taken) is reported and nothing is written.
    passwords = {planned.username: new_first_password() for planned in report.users}
    hashes = {username: hash_password(password) for username, password in passwords.items()}
    report = _check(
        engine,
        registry,
        actor,
        records,
        ImportReport(rows=report.rows),
        hashes=hashes,
        filename=filename,
        client_ip=client_ip,
    )
    for planned in report.users:
        planned.password = passwords.get(planned.username) if report.applied else None
    return report


def _check(
    engine: Engine,
    registry: PermissionRegistry,
    actor: Actor,
    records: Sequence[tuple[int, Mapping[str, str]]],
    report: ImportReport,
    *,
    hashes: Mapping[str, str] | None = None,
    filename: str = "",
    client_ip: str | None = None,
) -> ImportReport:
    """Check every row by creating it in a transaction; commit only with ``hashes`` given and
    every row good, otherwise roll back."""
    with Session(engine, expire_on_commit=False) as session:
        checker = _RowChecker(session, registry, actor, records)
        for number, values in records:
            checker.check(number, values, report)
        if not report.valid or hashes is None:
            session.rollback()
            return report
        hold = personal_data_hold(actor)
        for planned, user in checker.created:
            user.password_hash = hashes[planned.username]
            user.personal_data_hold = hold
            session.add(user)
            audit.record(
                session,
                "user.created",
                actor=actor,
                target_type="user",
                target_id=user.id,
                detail={"username": user.username, "via": "import", "row": planned.row},
                client_ip=client_ip,
            )
        # The same detail as a grant given one by one (user_admin.give_grant), and "via".
        names = {user.id: user.username for _, user in checker.created}
        for grant in checker.grants:
            unit = session.get(OrgUnit, grant.unit_id)
            audit.record(
                session,
                "grant.created",
                actor=actor,
                target_type="grant",
                target_id=grant.id,
                detail={
                    "user_id": grant.user_id,
                    "username": names.get(grant.user_id),
                    "role": grant.role,
                    "unit_code": unit.code if unit else None,
                    "via": "import",
                },
                client_ip=client_ip,
            )
        audit.record(
            session,
            "users.imported",
            actor=actor,
            detail={
                "filename": filename[:200],
                "users": len(checker.created),
                "grants": len(checker.grants),
            },
            client_ip=client_ip,
        )
        session.commit()
    report.applied = True
    return report


class _RowChecker:
    """Checks rows against the database and the admin's scope, creating them in the session."""

    def __init__(
        self,
        session: Session,
        registry: PermissionRegistry,
        actor: Actor,
        records: Sequence[tuple[int, Mapping[str, str]]],
    ) -> None:
        self.session = session
        self.registry = registry
        self.actor = actor
        codes = {v.get(k, "") for _, v in records for k in ("home_unit_code", "unit_code")}
        names = {v["username"].strip().lower() for _, v in records}
        self.units = {
            u.code: u
            for chunk in _chunks(sorted(c for c in codes if c))
            for u in session.exec(select(OrgUnit).where(col(OrgUnit.code).in_(chunk)))
        }
        self.existing = {
            name.lower()
            for chunk in _chunks(sorted(n for n in names if n))
            for name in session.exec(
                select(User.username).where(func.lower(User.username).in_(chunk))
            )
        }
        self.first_row: dict[str, int] = {}
        self.created: list[tuple[PlannedUser, User]] = []
        self.grants: list[Grant] = []

    def check(self, number: int, values: Mapping[str, str], report: ImportReport) -> None:
        errors: list[RowError] = []

        def error(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        username = values["username"].strip().lower()
        if not username:
            error("username", "用户名不能为空")
        elif not USERNAME_RE.match(username):
            error("username", "用户名应为 3-64 位小写字母、数字或 _ . -，以字母开头")
        elif username in self.first_row:
            error("username", f"与第 {self.first_row[username]} 行的用户名重复")
        elif username in self.existing:
            error("username", f"用户名 {username} 已存在")
        username_ok = not errors
        if username and username not in self.first_row:
            self.first_row[username] = number

        home = self._unit(values["home_unit_code"], "home_unit_code", error)
        role_text = values.get("role", "").strip()
        unit_code = values.get("unit_code", "").strip()
        role: str | None = None
        grant_unit: OrgUnit | None = None
        if role_text:
            role = resolve_role(self.registry, role_text)
            grant_unit = self._unit(unit_code, "unit_code", error) if unit_code else home
            if role is None:
                error("role", f"未知角色“{role_text}”")
        elif unit_code:
            error("role", "填写了授权单位编码，但没有填写角色")

        # The directory checks the rest of the user (name, phone) even when the role is bad.
        user: User | None = None
        if username_ok and home is not None:
            try:
                user = create_user(
                    self.session,
                    username=username,
                    display_name=values["display_name"],
                    home_unit=home,
                    phone=values.get("phone", "").strip() or None,
                )
            except ApiError as exc:
                error(_DIRECTORY_FIELDS.get(exc.field or "", exc.field or "username"), exc.message)
        if user is not None and role is not None and grant_unit is not None and not errors:
            try:
                grant = grant_role(
                    self.session,
                    self.registry,
                    user=user,
                    role=role,
                    unit=grant_unit,
                    granted_by=self.actor.user_id,
                )
                if may_grant(self.registry, self.actor, role, grant_unit):
                    self.grants.append(grant)
                else:
                    error("role", escalation_message(self.registry, role, grant_unit))
            except ApiError as exc:
                column = "unit_code" if unit_code else "role"
                error(column if exc.field == "unit" else exc.field or "role", exc.message)
        if errors:
            report.errors.extend(errors)
            return
        assert user is not None
        planned = PlannedUser(
            row=number,
            username=username,
            display_name=user.display_name,
            home_unit_code=home.code if home else "",
            role=role,
            unit_code=grant_unit.code if role and grant_unit else None,
            user_id=user.id,
        )
        self.created.append((planned, user))
        report.users.append(planned)

    def _unit(self, code: str, column: str, error: Any) -> OrgUnit | None:
        code = code.strip()
        if not code:
            error(column, "单位编码不能为空")
            return None
        unit = self.units.get(code)
        if unit is None:
            error(column, f"找不到编码为 {code} 的单位")
            return None
        if not scope.can(self.actor, USERS_MANAGE, unit_ref(unit)):
            error(column, f"{unit.name}（{code}）不在您的管辖范围内")
            return None
        if unit.closed_on is not None:
            error(column, f"{unit.name}（{code}）已撤销")
            return None
        return unit


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
