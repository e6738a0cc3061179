"""The resident information base: every read and write of residents goes through here.

Scope is applied here, not by callers: lists are filtered with the kernel's scope filter and
single records are checked with the same rule (``scope.can``), answering "not found" for
records outside the actor's reach so that their existence does not leak. Every change bumps the
record's version (a stale version is refused with the current values), writes one history row
per field, adds an audit entry (which fields, not their values: those are in the history) and
publishes an event to the outbox, all in the same transaction (the steps writes share are in
:mod:`.write_steps`). Rows written by an import are audited once, for the file
(:mod:`.importing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import Conflict, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import update
from sqlmodel import Session, col, select

from ..i18n import Message
from ..identity import scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .changes import field_titles
from .dates import read_date
from .households import address_label, household_number, place
from .idnumber import mask_id, mask_phone
from .models import Resident, ResidentTag, ResidentTransfer
from .reading import (
    READ,
    REVEAL,
    Page,
    ResidentFilters,
    ResidentReader,
    decode_cursor,
    encode_cursor,
)
from .validation import DATE_REFUSAL, Cleaned, clean_resident, raise_if_invalid
from .write_steps import (
    Diff,
    audit_write,
    merged_extra,
    record_history,
    set_phone,
    set_tags,
    shown,
    shown_json,
    shown_masked,
)

__all__ = [
    "READ",
    "REVEAL",
    "TRANSFER",
    "WRITE",
    "ResidentFilters",
    "ResidentService",
    "change_refused",
]

WRITE = "residents.write"
TRANSFER = "residents.transfer"
EXPORT = "residents.export"
#: A transfer's fields as its refusals name them (迁移日期：应为日期，如 …).
TRANSFER_TITLES = {
    "to_unit_code": "迁入居委",
    "effective_on": "迁移日期",
    "reason": "迁移原因",
    "version": "版本号",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class ResidentService(ResidentReader):
    """Reads (:class:`~.reading.ResidentReader`) and writes residents on behalf of an actor."""

    def field_titles(self) -> dict[str, str]:
        """Each resident field's Chinese title by the name history and the audit log use
        (``phone`` 电话, ``attributes.advisors.disability_grade`` 残疾等级)."""
        return field_titles(self.vocabulary)

    # -- writing ---------------------------------------------------------------------------

    def create(
        self, session: Session, actor: Actor | None, data: Mapping[str, Any], *, source: str
    ) -> Resident:
        cleaned = clean_resident(data, self.vocabulary, partial=False)
        unit = self._target_unit(session, actor, cleaned)
        raise_if_invalid(cleaned)
        values = cleaned.values
        id_hash = self.cipher.lookup_hash(values["id_number"])
        self._refuse_duplicate(session, actor, id_hash)
        assert unit.id is not None
        resident = Resident(
            unit_id=unit.id,
            name=values["name"],
            gender=values["gender"],
            birth_date=values["birth_date"],
            id_number_enc=self.cipher.encrypt(values["id_number"]),
            id_number_hash=id_hash,
            id_number_masked=mask_id(values["id_number"]),
            registration=values["registration"],
        )
        set_phone(self.cipher, resident, values.get("phone"))
        session.add(resident)
        session.flush()
        assert resident.id is not None
        if "address" in values or "household_number" in values:
            place(session, resident, unit, values)
        if "tags" in values:
            set_tags(session, resident.id, values["tags"])
        if "attributes" in values:
            resident.extra = merged_extra({}, values["attributes"])
        session.add(resident)
        record_history(session, actor, resident, source, [("(created)", None, resident.name)])
        audit_write(session, actor, "resident.created", resident, source, unit=unit.code)
        self.events.publish(
            session,
            "resident.created",
            {"resident_id": resident.id, "unit_code": unit.code, "unit_id": unit.id, "version": 1},
        )
        return resident

    def update(
        self,
        session: Session,
        actor: Actor | None,
        resident_id: int,
        changes: Mapping[str, Any],
        *,
        version: Any,
        source: str,
    ) -> Resident:
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationFailed("请提供记录的版本号 version", field="version")
        resident = self.get(session, actor, resident_id, WRITE)
        _refuse_removed(resident)
        if "unit_code" in changes:
            raise ValidationFailed("更换所属居委请使用迁移（transfer）", field="unit_code")
        stored_id = None
        if ("gender" in changes or "birth_date" in changes) and "id_number" not in changes:
            # Checked against the number on record, as registering checks the one it is given.
            stored_id = self.cipher.decrypt(resident.id_number_enc)
        cleaned = clean_resident(changes, self.vocabulary, partial=True, id_on_record=stored_id)
        raise_if_invalid(cleaned)
        if resident.version != version:
            raise self._stale(session, resident)
        unit = session.get(OrgUnit, resident.unit_id)
        assert unit is not None and resident.id is not None
        diffs = self._apply(session, resident, unit, cleaned.values)
        if not diffs:
            return resident
        # The version check and the write are one statement, so of two concurrent writers
        # exactly one wins, on SQLite and PostgreSQL alike.
        new_version = version + 1
        bumped = session.execute(
            update(Resident)
            .where(col(Resident.id) == resident.id, col(Resident.version) == version)
            .values(version=new_version)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            fresh = session.get(Resident, resident_id)
            assert fresh is not None
            raise self._stale(session, fresh)
        resident.version = new_version
        resident.updated_at = utcnow()
        session.add(resident)
        record_history(session, actor, resident, source, diffs)
        fields = sorted({field for field, _, _ in diffs})
        audit_write(session, actor, "resident.updated", resident, source, fields=fields)
        self.events.publish(
            session,
            "resident.updated",
            {
                "resident_id": resident.id,
                "unit_code": unit.code,
                "unit_id": unit.id,
                "version": new_version,
                "fields": sorted({field for field, _, _ in diffs}),
            },
        )
        return resident

    def transfer(
        self,
        session: Session,
        actor: Actor | None,
        resident_id: int,
        *,
        to_unit_code: Any,
        effective_on: Any,
        reason: Any,
        version: Any,
        source: str,
    ) -> Resident:
        """Move the record to another committee; the old one keeps the transfer in its history.

        ``source`` says where the move was asked (``portal``, ``api``...), as for every write."""
        problems = Cleaned()
        if not isinstance(version, int) or isinstance(version, bool):
            problems.error("version", "请提供记录的版本号")
        when = read_date(effective_on)
        if when is None:
            problems.error("effective_on", DATE_REFUSAL)
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            problems.error("reason", "不能超过 200 个字")
        if not isinstance(to_unit_code, str):
            problems.error("to_unit_code", "请提供迁入居委的编码")
        raise_if_invalid(problems, TRANSFER_TITLES)
        resident = self.get(session, actor, resident_id, TRANSFER)
        _refuse_removed(resident)
        destination = session.exec(select(OrgUnit).where(OrgUnit.code == to_unit_code)).first()
        if destination is None or destination.level != "committee" or destination.closed_on:
            raise ValidationFailed("迁入单位应为现有的居委会或村委会", field="to_unit_code")
        if destination.id == resident.unit_id:
            raise ValidationFailed("迁入单位与当前所属居委相同", field="to_unit_code")
        if resident.version != version:
            raise self._stale(session, resident)
        origin = session.get(OrgUnit, resident.unit_id)
        assert origin is not None and resident.id is not None and destination.id is not None
        assert when is not None
        session.add(
            ResidentTransfer(
                resident_id=resident.id,
                from_unit_id=resident.unit_id,
                to_unit_id=destination.id,
                effective_on=when,
                reason=(reason or "").strip(),
                actor_user_id=actor.user_id if actor else None,
            )
        )
        diffs: list[Diff] = [("unit", origin.name, destination.name)]
        if resident.address_id is not None:
            diffs.append(("address", address_label(session, resident.address_id), None))
        if resident.household_id is not None:
            # The household left behind, in the history (and for whoever re-checks it).
            diffs.append(
                ("household_number", household_number(session, resident.household_id), None)
            )
        resident.unit_id = destination.id
        resident.address_id = None
        resident.household_id = None
        resident.version += 1
        resident.updated_at = utcnow()
        session.add(resident)
        record_history(session, actor, resident, source, diffs, unit_id=origin.id)
        audit_write(
            session,
            actor,
            "resident.transferred",
            resident,
            source,
            unit_id=origin.id,
            to_unit=destination.code,
            effective_on=when.isoformat(),
        )
        self.events.publish(
            session,
            "resident.moved",
            {
                "resident_id": resident.id,
                "from_unit_code": origin.code,
                "from_unit_id": origin.id,
                "to_unit_code": destination.code,
                "to_unit_id": destination.id,
                "effective_on": when.isoformat(),
                "version": resident.version,
            },
        )
        return resident

    def remove(
        self,
        session: Session,
        actor: Actor | None,
        resident_id: int,
        *,
        version: Any,
        reason: Any,
        source: str,
    ) -> Resident:
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            raise ValidationFailed("请说明注销原因（不超过 200 个字）", field="reason")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationFailed("请提供记录的版本号 version", field="version")
        resident = self.get(session, actor, resident_id, WRITE)
        if resident.version != version:
            raise self._stale(session, resident)
        _refuse_removed(resident)
        unit = session.get(OrgUnit, resident.unit_id)
        assert unit is not None
        resident.status = "removed"
        resident.version += 1
        resident.updated_at = utcnow()
        session.add(resident)
        record_history(
            session,
            actor,
            resident,
            source,
            [("status", "active", "removed"), ("(reason)", None, reason.strip())],
        )
        audit_write(session, actor, "resident.removed", resident, source, reason=reason.strip())
        self.events.publish(
            session,
            "resident.removed",
            {
                "resident_id": resident.id,
                "unit_code": unit.code,
                "unit_id": unit.id,
                "version": resident.version,
            },
        )
        return resident

    # -- reading around a record ----------------------------------------------------------

    def household_members(
        self, session: Session, actor: Actor | None, resident: Resident, limit: int = 50
    ) -> list[tuple[int, str]]:
        """(id, name) of the other registered members of ``resident``'s household that
        ``actor`` may read, in registration order."""
        if resident.household_id is None:
            return []
        rows = session.exec(
            select(Resident.id, Resident.name)
            .where(Resident.household_id == resident.household_id)
            .where(Resident.status == "active", col(Resident.id) != resident.id)
            .where(scope.scope_filter(actor, READ, Resident.unit_id))
            .order_by(col(Resident.id))
            .limit(limit)
        )
        return [(rid, name) for rid, name in rows if rid is not None]

    def moved_out(
        self, session: Session, actor: Actor | None, limit: int = 100, after: str | None = None
    ) -> Page:
        """The transfers out of committees ``actor`` may read (the old committee keeps them):
        who, from where, to where, when and why; newest first, ``limit`` a page, the next page
        after the cursor ``after`` (keyset by the transfer, so transfers made while paging
        come first on a new walk, never in the middle of this one)."""
        origin = OrgUnit.__table__.alias("origin")  # type: ignore[attr-defined]
        query = (
            select(ResidentTransfer, Resident.name, OrgUnit.name, origin.c.name)
            .join(Resident, col(Resident.id) == ResidentTransfer.resident_id)
            .join(OrgUnit, col(OrgUnit.id) == ResidentTransfer.to_unit_id)
            .join(origin, origin.c.id == ResidentTransfer.from_unit_id)
            .where(scope.scope_filter(actor, READ, ResidentTransfer.from_unit_id))
        )
        if after is not None:
            query = query.where(col(ResidentTransfer.id) < decode_cursor(after, "t"))
        rows = list(session.exec(query.order_by(col(ResidentTransfer.id).desc()).limit(limit + 1)))
        more, rows = len(rows) > limit, rows[:limit]
        last = rows[-1][0].id if more and rows else None
        items = [
            {
                "resident_id": t.resident_id,
                "name": name,
                "from": origin_name,
                "to": to_name,
                "effective_on": t.effective_on.isoformat(),
                "reason": t.reason,
            }
            for t, name, to_name, origin_name in rows
        ]
        return Page(items, None if last is None else encode_cursor(last, "t"))

    # -- helpers ---------------------------------------------------------------------------

    def _target_unit(self, session: Session, actor: Actor | None, cleaned: Cleaned) -> OrgUnit:
        code = cleaned.values.get("unit_code")
        if (
            code is None
            and actor is not None
            and actor.unit is not None
            and actor.unit.level == "committee"
        ):
            code = actor.unit.code
        if code is None:
            cleaned.error("unit_code", "请指定所属居委（12 位编码）")
            raise_if_invalid(cleaned)
        unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
        if unit is None or not scope.can(actor, WRITE, unit_ref(unit)):
            cleaned.error("unit_code", "找不到该居委，或您无权在此登记居民")
            raise_if_invalid(cleaned)
        assert unit is not None
        if unit.level != "committee" or unit.closed_on is not None:
            cleaned.error("unit_code", "居民只能登记在现有的居委会或村委会")
            raise_if_invalid(cleaned)
        return unit

    def _refuse_duplicate(
        self, session: Session, actor: Actor | None, id_hash: str, exclude: int | None = None
    ) -> None:
        query = select(Resident.id, Resident.unit_id).where(
            Resident.id_number_hash == id_hash, Resident.status == "active"
        )
        if exclude is not None:
            query = query.where(col(Resident.id) != exclude)
        found = session.exec(query).first()
        if found is None:
            return
        unit = session.get(OrgUnit, found[1])
        where = unit.name if unit and scope.can(actor, READ, unit_ref(unit)) else ""
        raise Conflict(
            Message("该身份证号已登记（{unit}），请勿重复登记", unit=where)
            if where
            else Message("该身份证号已登记，请勿重复登记"),
            field="id_number",
            details=[{"field": "id_number", "message": "重复", "resident_id": str(found[0])}]
            if where
            else None,
        )

    def _stale(self, session: Session, resident: Resident) -> Conflict:
        return Conflict(
            "该记录已被他人修改，请查看最新内容后重试",
            field="version",
            code="stale_version",
            extra={"current": self.view(session, resident)},
        )

    def _apply(
        self, session: Session, resident: Resident, unit: OrgUnit, values: Mapping[str, Any]
    ) -> list[Diff]:
        diffs: list[Diff] = []
        for name in ("name", "gender", "birth_date", "registration"):
            if name in values and getattr(resident, name) != values[name]:
                diffs.append((name, shown(getattr(resident, name)), shown(values[name])))
                setattr(resident, name, values[name])
        if "id_number" in values:
            new_hash = self.cipher.lookup_hash(values["id_number"])
            if new_hash != resident.id_number_hash:
                self._refuse_duplicate(session, None, new_hash, exclude=resident.id)
                diffs.append(("id_number", resident.id_number_masked, mask_id(values["id_number"])))
                resident.id_number_enc = self.cipher.encrypt(values["id_number"])
                resident.id_number_hash = new_hash
                resident.id_number_masked = mask_id(values["id_number"])
        if "phone" in values:
            new_phone = values["phone"]
            phone_hash = self.cipher.lookup_hash(new_phone) if new_phone else None
            if phone_hash != resident.phone_hash:
                diffs.append(
                    ("phone", resident.phone_masked, mask_phone(new_phone) if new_phone else None)
                )
                set_phone(self.cipher, resident, new_phone)
        if "address" in values or "household_number" in values:
            before_address = address_label(session, resident.address_id)
            before_household = household_number(session, resident.household_id)
            place(session, resident, unit, values)
            after_address = address_label(session, resident.address_id)
            after_household = household_number(session, resident.household_id)
            if before_address != after_address:
                diffs.append(("address", before_address, after_address))
            if before_household != after_household:
                diffs.append(("household_number", before_household, after_household))
        if "tags" in values:
            assert resident.id is not None
            before = sorted(
                session.exec(select(ResidentTag.tag).where(ResidentTag.resident_id == resident.id))
            )
            if before != values["tags"]:
                diffs.append(("tags", "、".join(before) or None, "、".join(values["tags"]) or None))
                set_tags(session, resident.id, values["tags"])
        if "attributes" in values:
            for key, value in values["attributes"].items():
                plugin, name = key.split(".", 1)
                old = resident.extra.get(plugin, {}).get(name)
                if old != value:
                    spec = self.vocabulary.attributes[key]
                    show = shown_masked if spec.attribute.sensitive else shown_json
                    diffs.append((f"attributes.{key}", show(old), show(value)))
            resident.extra = merged_extra(resident.extra, values["attributes"])
        return diffs


def change_refused(status: str) -> str | None:
    """Why a record in ``status`` takes no change, move or removal any more, or None when it
    does: a removed (注销) record is kept as it was. Pages ask before offering a form that
    could only be refused. (Undoing a merge makes a record active again through
    :mod:`..quality.duplicates`, not through here.)"""
    return "该居民已注销" if status == "removed" else None


def _refuse_removed(resident: Resident) -> None:
    refusal = change_refused(resident.status)
    if refusal is not None:
        raise Conflict(refusal, field="status")
