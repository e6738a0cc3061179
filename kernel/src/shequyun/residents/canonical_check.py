"""Finding resident rows whose ID number or phone was stored before the canonical form.

Until the canonical form (:mod:`shequyun_sdk.numbers`) was applied everywhere, an ID number
typed with full-width or Arabic-Indic digits was stored as typed and hashed as typed: such a
row is invisible to exact search and to the duplicate check, and may be a second record of a
person registered elsewhere. The values are encrypted, so only a process holding the data key
can look: ``shequyun residents check-numbers`` (run it once after upgrading) decrypts every
row, reports what is not canonical, and with ``--fix`` rewrites the rows whose canonical form
is valid and belongs to nobody else. Rows it cannot fix (invalid, or the same person as
another row) are left for a cadre to merge or correct.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..identity.models import OrgUnit
from .crypto import FieldCipher
from .idnumber import IdNumberError, mask_id, mask_phone, validate_id, validate_phone
from .models import Resident

__all__ = ["Finding", "find_non_canonical", "fix_non_canonical"]

BATCH = 2000
TABLE = Resident.__table__  # type: ignore[attr-defined]
UNITS = OrgUnit.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Finding:
    """One resident row whose ``field`` is not stored in the canonical form."""

    resident_id: int
    unit_code: str
    field: str  # id_number or phone
    problem: str  # "not_canonical", "invalid" or "duplicate"
    shown: str  # the stored value, masked
    canonical: str | None  # the canonical value when it is valid, else None
    duplicate_of: int | None = None

    def line(self) -> str:
        what = {"not_canonical": "未规范", "invalid": "无效", "duplicate": "与其他居民重复"}
        where = f"居民 {self.resident_id}（{self.unit_code}）{self.field}"
        text = f"{where}: {what[self.problem]} {self.shown}"
        if self.duplicate_of is not None:
            text += f"，与居民 {self.duplicate_of} 为同一身份证号"
        return text


def _rows(engine: Engine) -> Iterator[tuple[int, str, str, str | None, str | None, str]]:
    last = 0
    while True:
        with engine.connect() as connection:
            batch = connection.execute(
                select(
                    TABLE.c.id,
                    TABLE.c.id_number_enc,
                    TABLE.c.id_number_hash,
                    TABLE.c.phone_enc,
                    TABLE.c.phone_hash,
                    UNITS.c.code,
                )
                .join(UNITS, UNITS.c.id == TABLE.c.unit_id)
                .where(TABLE.c.id > last)
                .order_by(TABLE.c.id)
                .limit(BATCH)
            ).all()
        if not batch:
            return
        yield from (tuple(row) for row in batch)  # type: ignore[misc]
        last = batch[-1][0]


def find_non_canonical(engine: Engine, cipher: FieldCipher) -> list[Finding]:
    """Every resident row whose ID number or phone is stored otherwise than canonically."""
    findings: list[Finding] = []
    claimed: dict[str, int] = {}  # canonical hash → the first non-canonical row claiming it
    for resident_id, id_enc, id_hash, phone_enc, phone_hash, unit_code in _rows(engine):
        stored = cipher.decrypt(id_enc)
        try:
            canonical: str | None = validate_id(stored)
        except IdNumberError:
            canonical = None
        if canonical != stored or cipher.lookup_hash(stored) != id_hash:
            problem = "not_canonical" if canonical else "invalid"
            duplicate = None
            if canonical is not None:
                wanted = cipher.lookup_hash(canonical)
                duplicate = _holder(engine, wanted, resident_id) or claimed.get(wanted)
                claimed.setdefault(wanted, resident_id)
                problem = "duplicate" if duplicate is not None else problem
            findings.append(
                Finding(
                    resident_id,
                    unit_code,
                    "id_number",
                    problem,
                    mask_id(stored),
                    canonical,
                    duplicate,
                )
            )
        if phone_enc is None:
            continue
        phone = cipher.decrypt(phone_enc)
        try:
            canonical_phone: str | None = validate_phone(phone)
        except ValueError:
            canonical_phone = None
        if canonical_phone != phone or cipher.lookup_hash(phone) != phone_hash:
            findings.append(
                Finding(
                    resident_id,
                    unit_code,
                    "phone",
                    "not_canonical" if canonical_phone else "invalid",
                    mask_phone(phone),
                    canonical_phone,
                )
            )
    return findings


def _holder(engine: Engine, id_hash: str, other_than: int) -> int | None:
    with engine.connect() as connection:
        found = connection.execute(
            select(TABLE.c.id)
            .where(TABLE.c.id_number_hash == id_hash, TABLE.c.id != other_than)
            .limit(1)
        ).first()
    return None if found is None else int(found[0])


def fix_non_canonical(engine: Engine, cipher: FieldCipher, findings: list[Finding]) -> int:
    """Rewrite the rows of ``findings`` that can be fixed alone; return how many were."""
    fixed = 0
    with engine.begin() as connection:
        for finding in findings:
            if finding.problem != "not_canonical" or finding.canonical is None:
                continue
            value = finding.canonical
            if finding.field == "id_number":
                values = {
                    "id_number_enc": cipher.encrypt(value),
                    "id_number_hash": cipher.lookup_hash(value),
                    "id_number_masked": mask_id(value),
                }
            else:
                values = {
                    "phone_enc": cipher.encrypt(value),
                    "phone_hash": cipher.lookup_hash(value),
                    "phone_masked": mask_phone(value),
                }
            connection.execute(
                update(TABLE).where(TABLE.c.id == finding.resident_id).values(values)
            )
            fixed += 1
    return fixed
