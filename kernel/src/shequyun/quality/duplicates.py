"""Duplicate records beyond the exact ID number: candidates, review, reversible merges.

Candidates are found set-based: the same name, gender and birth date (``name_birth`` in one
committee, ``missed_transfer`` across two: a move that was never recorded as a transfer), or
the same name and phone (``name_phone``); names are compared as written, then as
:func:`.names.name_key` folds them (full-width letters, spaces, middle dots, traditional
forms). A pair is decided by someone holding ``quality.merge`` who can see both records: a
street for its committees, and for two records in two streets only their common district (or
the city), since a street sees nothing of the other street.

A merge keeps one record (``kept``) and removes the other with its history intact: the kept
record gains the tags, plugin attributes and missing phone, address and household of the other,
the roster answers of collection campaigns that named the other now name the kept one, and
each plugin's ``resident_merged`` hook moves its own references (interaction accounts and the
like) in the same transaction, ``resident_merge_undone`` puts them back, and ``resident.merged``
/ ``resident.unmerged`` are published for anything else that listens. Everything moved is
recorded on the merge, so an undo puts it back. Both are audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shequyun_sdk import Conflict, Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import DateTime, String, and_, case, exists, insert, literal, select, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from ..events import EventBus
from ..identity import audit, scope
from ..identity.models import OrgUnit
from ..residents.models import (
    GENDERS,
    REGISTRATIONS,
    Address,
    Resident,
    ResidentTag,
    ResidentTransfer,
)
from ..residents.service import READ, ResidentService
from ..residents.write_steps import record_history
from . import names
from .models import DuplicatePair, Merge
from .roster_rows import drop_twin_rows, move_roster_rows, name_in_rosters, restore_twin_rows

__all__ = ["MERGE", "REASONS", "Duplicates"]

MERGE = "quality.merge"
REASONS = {
    "name_birth": "姓名、性别、出生日期相同",
    "missed_transfer": "姓名、性别、出生日期相同，登记在两个居委（可能漏办迁移）",
    "name_phone": "姓名和电话相同",
}
#: Fields the kept record takes from the other when it has none itself.
FILLED = ("phone_enc", "phone_hash", "phone_masked", "address_id", "household_id")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Duplicates:
    """Finding, listing and deciding duplicate pairs; merging and undoing."""

    def __init__(self, engine: Any, residents: ResidentService, events: EventBus) -> None:
        self.engine = engine
        self.residents = residents
        self.events = events
        # Set by the kernel once the platform exists: plugins' resident_merged hooks.
        self.host: Any = None
        self.platform: Any = None

    def find(self, *, variants: bool = True) -> int:
        """Add every new candidate pair among active records; the number added.

        ``variants=False`` compares names only as written (the benchmark's baseline).
        """
        a, b = aliased(Resident, name="a"), aliased(Resident, name="b")
        pair = DuplicatePair.__table__  # type: ignore[attr-defined]
        active = and_(col(a.status) == "active", col(b.status) == "active", col(a.id) < col(b.id))
        unknown = ~exists(select(1).where(pair.c.resident_a == a.id, pair.c.resident_b == b.id))
        same_person = and_(
            col(a.name) == col(b.name),
            col(a.gender) == col(b.gender),
            col(a.birth_date) == col(b.birth_date),
        )
        now, status = literal(utcnow(), DateTime(timezone=True)), literal("open", String)
        reason = case(
            (col(a.unit_id) != col(b.unit_id), literal("missed_transfer", String)),
            else_=literal("name_birth", String),
        )
        ids = (col(a.id), col(b.id))
        by_birth = select(*ids, reason, status, now).where(active, same_person, unknown)
        by_phone = select(*ids, literal("name_phone", String), status, now).where(
            active,
            col(a.name) == col(b.name),
            col(a.phone_hash) == col(b.phone_hash),
            ~same_person,
            unknown,
        )
        rows = union_all(by_birth, by_phone)
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(pair)
                .from_select(["resident_a", "resident_b", "reason", "status", "found_at"], rows)
                .execution_options(preserve_rowcount=True)
            )
            # One name written two ways (陳/陈, 阿卜杜•热合曼/阿卜杜·热合曼, full-width letters).
            found = names.variant_pairs(connection) if variants else []
            if found:
                found_at = utcnow()
                connection.execute(
                    insert(pair),
                    [
                        {"resident_a": a, "resident_b": b, "reason": reason, "status": "open",
                         "found_at": found_at}
                        for a, b, reason in found
                    ],
                )  # fmt: skip
        return max(result.rowcount or 0, 0) + len(found)

    def pairs(
        self, session: Session, actor: Actor, *, status: str = "open", limit: int = 100
    ) -> list[dict[str, Any]]:
        """Pairs whose two records ``actor`` can both see."""
        if status not in {"open", "merged", "different"}:
            raise ValidationFailed("status 应为 open、merged 或 different", field="status")
        a, b = aliased(Resident, name="a"), aliased(Resident, name="b")
        ua, ub = aliased(OrgUnit, name="ua"), aliased(OrgUnit, name="ub")
        # Where each lives helps the reviewer decide: the addresses, when recorded.
        da, db = aliased(Address, name="da"), aliased(Address, name="db")
        rows = session.exec(
            sm_select(DuplicatePair, a, b, ua.name, ub.name, da, db)  # type: ignore[call-overload]
            .join(a, col(a.id) == col(DuplicatePair.resident_a))
            .join(b, col(b.id) == col(DuplicatePair.resident_b))
            .join(ua, col(ua.id) == col(a.unit_id))
            .join(ub, col(ub.id) == col(b.unit_id))
            .outerjoin(da, col(da.id) == col(a.address_id))
            .outerjoin(db, col(db.id) == col(b.address_id))
            .where(
                col(DuplicatePair.status) == status,
                scope.scope_filter(actor, READ, col(a.unit_id)),
                scope.scope_filter(actor, READ, col(b.unit_id)),
            )
            .order_by(col(DuplicatePair.id))
            .limit(max(1, min(limit, 500)))
        ).all()
        return [
            {
                "id": pair.id,
                "reason": pair.reason,
                "reason_text": REASONS.get(pair.reason, pair.reason),
                "status": pair.status,
                "residents": [
                    {**_person(r, unit), "address": home.label() if home is not None else None}
                    for r, unit, home in ((ra, na, ha), (rb, nb, hb))
                ],
            }
            for pair, ra, rb, na, nb, ha, hb in rows
        ]

    def recent_merges(
        self, session: Session, actor: Actor, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Merges whose two records ``actor`` can both see, newest first (for undo)."""
        kept, gone = aliased(Resident, name="kept"), aliased(Resident, name="gone")
        uk, ug = aliased(OrgUnit, name="uk"), aliased(OrgUnit, name="ug")
        rows = session.exec(
            sm_select(Merge, kept, gone, uk.name, ug.name)  # type: ignore[call-overload]
            .join(kept, col(kept.id) == col(Merge.kept_id))
            .join(gone, col(gone.id) == col(Merge.merged_id))
            .join(uk, col(uk.id) == col(kept.unit_id))
            .join(ug, col(ug.id) == col(gone.unit_id))
            .where(
                scope.scope_filter(actor, READ, col(kept.unit_id)),
                scope.scope_filter(actor, READ, col(gone.unit_id)),
            )
            .order_by(col(Merge.id).desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": merge.id,
                "kept": _person(k, kn),
                "merged": _person(g, gn),
                "at": merge.at,
                "actor_username": merge.actor_username,
                "undone_at": merge.undone_at,
                "undone_by": merge.undone_by,
            }
            for merge, k, g, kn, gn in rows
        ]

    def mark_different(self, session: Session, actor: Actor, pair_id: int) -> DuplicatePair:
        """Decide that the two records are different people."""
        pair, _, _ = self._pair(session, actor, pair_id)
        if pair.status != "open":
            raise Conflict("该组记录已处理", field="status")
        pair.status, pair.decided_at, pair.decided_by = "different", utcnow(), actor.username
        session.add(pair)
        audit.record(
            session,
            "quality.not_duplicate",
            actor=actor,
            target_type="duplicate",
            target_id=pair_id,
        )
        return pair

    def merge(
        self, session: Session, actor: Actor, pair_id: int, keep: Any, *, source: str
    ) -> Merge:
        """Merge the pair's other record into ``keep`` (one of its two ids); ``source``
        (``portal`` or ``api``) goes into both records' history and the audit entry."""
        pair, first, second = self._pair(session, actor, pair_id)
        if pair.status != "open":
            raise Conflict("该组记录已处理", field="status")
        if keep not in (first.id, second.id):
            raise ValidationFailed("请选择保留两条记录中的一条", field="keep")
        kept, merged = (first, second) if keep == first.id else (second, first)
        if kept.status != "active" or merged.status != "active":
            raise Conflict("只能合并两条在册记录", field="status")
        assert kept.id is not None and merged.id is not None
        moved: dict[str, Any] = {"tags": [], "attributes": [], "filled": [], "tasks": {}}
        kept_tags = set(
            session.exec(sm_select(ResidentTag.tag).where(ResidentTag.resident_id == kept.id))
        )
        for tag in session.exec(
            sm_select(ResidentTag.tag).where(ResidentTag.resident_id == merged.id)
        ):
            if tag not in kept_tags:
                session.add(ResidentTag(resident_id=kept.id, tag=tag))
                moved["tags"].append(tag)
        extra = {plugin: dict(attrs) for plugin, attrs in kept.extra.items()}
        for plugin, attrs in merged.extra.items():
            for name, value in attrs.items():
                if name not in extra.get(plugin, {}):
                    extra.setdefault(plugin, {})[name] = value
                    moved["attributes"].append(f"{plugin}.{name}")
        kept.extra = extra
        for field in FILLED:
            if getattr(kept, field) is None and getattr(merged, field) is not None:
                setattr(kept, field, getattr(merged, field))
                moved["filled"].append(field)
        # A roster lists the residents of its task's committee: the merged record's rows are in
        # the tasks of the committees it has been in, not among every task of the city.
        units = {merged.unit_id} | set(
            session.exec(
                sm_select(ResidentTransfer.from_unit_id).where(
                    ResidentTransfer.resident_id == merged.id
                )
            )
        )
        moved["task_rows"] = drop_twin_rows(session, merged.id, kept.id, units=units)
        moved["tasks"] = move_roster_rows(session, merged.id, kept.id, units=units)
        moved["rosters"] = name_in_rosters(session, merged.id, kept.id)
        moved["plugins"] = self._plugins_merge(session, kept.id, merged.id)
        self._bump(session, actor, kept, [("(merged)", None, f"合并记录 {merged.id}")], source)
        merged.status = "removed"
        self._bump(
            session,
            actor,
            merged,
            [("status", "active", "removed"), ("(merged into)", None, f"并入记录 {kept.id}")],
            source,
        )
        record = Merge(
            pair_id=pair.id,
            kept_id=kept.id,
            merged_id=merged.id,
            moved=moved,
            actor_username=actor.username,
        )
        session.add(record)
        pair.status, pair.decided_at, pair.decided_by = "merged", utcnow(), actor.username
        session.add(pair)
        session.flush()
        audit.record(
            session,
            "quality.merged",
            actor=actor,
            target_type="resident",
            target_id=kept.id,
            unit_id=kept.unit_id,
            detail={"merged": merged.id, "merge": record.id, "moved": moved, "source": source},
        )
        self._publish(session, "resident.merged", record, kept, merged)
        return record

    def undo(self, session: Session, actor: Actor, merge_id: int, *, source: str) -> Merge:
        """Put a merge back: the other record active again, everything moved returned
        (``source`` as for :meth:`merge`)."""
        record = session.get(Merge, merge_id)
        if record is None:
            raise NotFound("找不到该合并记录")
        self._require(actor)
        kept = self.residents.get(session, actor, record.kept_id, READ)
        merged = self.residents.get(session, actor, record.merged_id, READ)
        if record.undone_at is not None:
            raise Conflict("该合并已撤销", field="merge")
        moved: Mapping[str, Any] = record.moved
        for tag in moved.get("tags", []):
            found = session.get(ResidentTag, (kept.id, tag))
            if found is not None:
                session.delete(found)
        extra = {plugin: dict(attrs) for plugin, attrs in kept.extra.items()}
        for key in moved.get("attributes", []):
            plugin, name = key.split(".", 1)
            extra.get(plugin, {}).pop(name, None)
        kept.extra = {plugin: attrs for plugin, attrs in extra.items() if attrs}
        for field in moved.get("filled", []):
            if getattr(kept, field) == getattr(merged, field):
                setattr(kept, field, None)
        assert kept.id is not None and merged.id is not None
        move_roster_rows(session, kept.id, merged.id, only=moved.get("tasks", {}))
        restore_twin_rows(session, moved.get("task_rows", {}))
        name_in_rosters(session, kept.id, merged.id, only=moved.get("rosters", []))
        self._plugins_undo(session, kept.id, merged.id, moved.get("plugins", {}))
        merged.status = "active"
        self._bump(
            session, actor, kept, [("(merge undone)", None, f"撤销合并记录 {merged.id}")], source
        )
        self._bump(
            session,
            actor,
            merged,
            [("status", "removed", "active"), ("(merge undone)", None, f"撤销并入 {kept.id}")],
            source,
        )
        record.undone_at, record.undone_by = utcnow(), actor.username
        session.add(record)
        if record.pair_id is not None:
            pair = session.get(DuplicatePair, record.pair_id)
            if pair is not None:
                pair.status, pair.decided_at, pair.decided_by = "open", None, None
                session.add(pair)
        audit.record(
            session,
            "quality.merge_undone",
            actor=actor,
            target_type="resident",
            target_id=kept.id,
            unit_id=kept.unit_id,
            detail={"merged": merged.id, "merge": record.id, "source": source},
        )
        self._publish(session, "resident.unmerged", record, kept, merged)
        return record

    # -- helpers ---------------------------------------------------------------------------

    def _plugins_merge(self, session: Session, kept_id: int, merged_id: int) -> dict[str, Any]:
        """Every plugin's ``resident_merged``, in the merge's transaction; what each moved."""
        moved: dict[str, Any] = {}
        if self.host is None:
            return moved
        for record in self.host.active_records():
            try:
                result = self.host.call_strict(
                    record,
                    "resident_merged",
                    platform=self.platform,
                    session=session,
                    kept_id=kept_id,
                    merged_id=merged_id,
                )
            except Exception as exc:
                raise Conflict(
                    f"插件“{record.name}”未能迁移它的居民关联，合并未进行：{exc}", field="plugins"
                ) from exc
            if result is not None:
                moved[record.name] = dict(result)
        return moved

    def _plugins_undo(
        self, session: Session, kept_id: int, merged_id: int, moved: Mapping[str, Any]
    ) -> None:
        if self.host is None:
            return
        for name, theirs in moved.items():
            record = self.host.records.get(name)
            if record is None:
                continue
            try:
                self.host.call_strict(
                    record,
                    "resident_merge_undone",
                    platform=self.platform,
                    session=session,
                    kept_id=kept_id,
                    merged_id=merged_id,
                    moved=theirs,
                )
            except Exception as exc:
                raise Conflict(
                    f"插件“{name}”未能恢复它的居民关联，撤销未进行：{exc}", field="plugins"
                ) from exc

    def _require(self, actor: Actor | None) -> None:
        if actor is None or not actor.has(MERGE):
            raise Forbidden("合并重复记录需由街镇或区处理")

    def _pair(
        self, session: Session, actor: Actor, pair_id: int
    ) -> tuple[DuplicatePair, Resident, Resident]:
        self._require(actor)
        pair = session.get(DuplicatePair, pair_id)
        if pair is None:
            raise NotFound("找不到该组重复记录")
        # Both records must be in reach: two streets' pair is for their common district.
        try:
            first = self.residents.get(session, actor, pair.resident_a, READ)
            second = self.residents.get(session, actor, pair.resident_b, READ)
        except (NotFound, Forbidden):
            raise NotFound("找不到该组重复记录") from None
        return pair, first, second

    def _bump(
        self,
        session: Session,
        actor: Actor,
        resident: Resident,
        diffs: list[tuple[str, str | None, str | None]],
        source: str,
    ) -> None:
        resident.version += 1
        resident.updated_at = utcnow()
        session.add(resident)
        record_history(session, actor, resident, source, diffs)

    def _publish(
        self, session: Session, kind: str, record: Merge, kept: Resident, merged: Resident
    ) -> None:
        units = {
            u.id: u
            for u in session.exec(
                sm_select(OrgUnit).where(col(OrgUnit.id).in_({kept.unit_id, merged.unit_id}))
            )
        }
        kept_unit = units[kept.unit_id]
        payload = {
            "merge_id": record.id,
            "kept_id": kept.id,
            "merged_id": merged.id,
            "unit_code": kept_unit.code,
            "unit_id": kept_unit.id,
        }
        self.events.publish(session, kind, payload)
        # The kernel's own subscribers (data quality) re-read both records.
        for resident in (kept, merged):
            unit = units[resident.unit_id]
            self.events.publish(
                session,
                "resident.updated",
                {
                    "resident_id": resident.id,
                    "unit_code": unit.code,
                    "unit_id": unit.id,
                    "version": resident.version,
                    "fields": ["status"],
                },
            )


def _person(resident: Resident, unit_name: str) -> dict[str, Any]:
    return {
        "id": resident.id,
        "name": resident.name,
        "gender": GENDERS.get(resident.gender, resident.gender),
        "birth_date": resident.birth_date.isoformat(),
        "registration": REGISTRATIONS.get(resident.registration, resident.registration),
        "id_number": resident.id_number_masked,
        "phone": resident.phone_masked,
        "unit_name": unit_name,
        "status": resident.status,
    }
