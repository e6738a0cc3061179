"""民情日志: visits and observations of cadres and social workers, and visit coverage.

An entry belongs to the committee the author works for and may concern a resident, a household
or a building (a pick key, checked in the author's scope) or just the committee. Photos are
files of the kernel's attachment store. An entry that needs follow-up becomes a case of the
committee in one step (:func:`to_case`). **Coverage** of a committee is the share of its
active households visited (a visit to the household or to one of its members) within the last
``months`` months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shequyun_sdk import Actor, Conflict, Forbidden, NotFound, Platform, UnitRef, ValidationFailed
from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from . import cases, categories
from .core import HANDLE, LOG, VIEW, Errors, acting_unit, day, photo_ids, text, today, within
from .files import Upload, attach
from .models import Case, LogEntry

__all__ = ["KINDS", "Coverage", "coverage", "get", "listed", "record", "to_case"]

KINDS = {"visit": "走访", "observation": "发现"}
MAX_PHOTOS = 6
#: What a visit written down without any text says.
VISIT_TEXT = "入户走访"


def record(
    platform: Platform,
    session: Session,
    actor: Actor,
    raw: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
) -> LogEntry:
    """Log a visit or an observation at the author's committee (``governance.log``).

    ``photos`` in ``raw`` are ids of uploads; ``uploads`` are files a portal form sent. A
    visit needs no text (a photo of the doorstep says it): it is written down as 入户走访.
    """
    unit = acting_unit(actor)
    if not platform.can(actor, LOG, unit):
        raise Forbidden("您没有记录民情日志的权限")
    if unit.level != "committee":
        raise Forbidden("民情日志由居村委的干部和社工记录")
    errors = Errors()
    kind = str(raw.get("kind") or "visit")
    if kind not in KINDS:
        errors.add("kind", "类型应为 visit（走访）或 observation（发现）")
    category = categories.pick(session, "log", raw.get("category"), errors)
    body = text(raw, "body", "内容", errors, max_length=4000, required=kind != "visit")
    body = body or VISIT_TEXT
    occurred = day(raw, "occurred_on", "日期", errors) or today()
    if occurred > today() or occurred < today() - timedelta(days=366):
        errors.add("occurred_on", "日期应在一年之内且不晚于今天")
    photos = photo_ids(raw, "photos", errors, MAX_PHOTOS)
    subject_key = str(raw["subject"]) if raw.get("subject") else None
    found = None
    if subject_key is not None:
        found = platform.resolve_picks(session, actor, [subject_key], permission=VIEW).get(
            subject_key
        )
        if found is None:
            errors.add("subject", "找不到该居民、家庭户或楼栋，或不在您的管辖范围内")
    errors.raise_if_any()
    assert category is not None
    entry = LogEntry(
        unit_id=unit.id,
        unit_name=unit.name,
        kind=kind,
        category_id=int(category.id or 0),
        category_name=category.name,
        subject_key=subject_key,
        subject_label=found.label if found is not None else "",
        resident_id=found.resident_id if found is not None else None,
        household_id=found.household_id if found is not None else None,
        building=(
            f"{found.compound}{found.building}号楼"
            if found is not None and found.compound and found.building
            else None
        ),
        body=body,
        follow_up=str(raw.get("follow_up") or "").lower() in ("1", "true", "on", "yes", "是")
        or raw.get("follow_up") is True,
        occurred_on=occurred,
        author_user_id=actor.user_id,
        author=actor.display_name,
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    if photos or uploads:
        entry.photos = attach(
            platform,
            session,
            actor,
            owner_ref=f"log:{entry.id}",
            unit=unit,
            ids=photos,
            uploads=uploads,
            limit=MAX_PHOTOS,
        )
    platform.audit(
        session,
        "governance.log_recorded",
        actor=actor,
        target_type="governance_log",
        target_id=entry.id,
        detail={"kind": kind, "category": category.name},
    )
    platform.publish(
        session,
        "governance.log.recorded",
        {
            "log_id": entry.id,
            "unit_code": unit.code,
            "unit_id": unit.id,
            "kind": kind,
            "category": category.name,
            "follow_up": entry.follow_up,
        },
    )
    return entry


def get(platform: Platform, session: Session, actor: Actor, log_id: int) -> LogEntry:
    entry = session.exec(
        select(LogEntry).where(
            LogEntry.id == log_id, platform.scope_filter(actor, VIEW, LogEntry.unit_id)
        )
    ).first()
    if entry is None:
        raise NotFound("找不到该民情日志")
    return entry


def listed(
    platform: Platform,
    session: Session,
    actor: Actor,
    *,
    unit: UnitRef | None = None,
    follow_up: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[LogEntry]:
    query = select(LogEntry).where(within(platform, actor, unit, LogEntry.unit_id))
    if follow_up is not None:
        query = query.where(LogEntry.follow_up == follow_up)
    query = query.order_by(col(LogEntry.occurred_on).desc(), col(LogEntry.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


def to_case(
    platform: Platform, session: Session, actor: Actor, log_id: int, raw: Mapping[str, Any]
) -> Case:
    """Turn an entry into a case of the committee (立案), in one step; once only."""
    entry = get(platform, session, actor, log_id)
    if entry.case_id is not None:
        raise Conflict("该日志已转为案件", code="already_case", field="log_id")
    unit = acting_unit(actor)
    if unit.id != entry.unit_id or not platform.can(actor, HANDLE, unit):
        raise Forbidden("只有本居委可以把日志转为案件")
    values = {
        "title": raw.get("title") or _case_title(session, entry, raw.get("category")),
        "description": raw.get("description") or entry.body,
        "category": raw.get("category"),
        "subject": entry.subject_key,
        "photos": [],
        "priority": raw.get("priority") or "normal",
        "due_days": raw.get("due_days"),
    }
    if not values["category"]:
        raise ValidationFailed("请选择案件类别", field="category")
    opening = cases.check_opening(platform, session, actor, values)
    case = cases.open_case(platform, session, actor, opening, source="fieldlog", log_id=entry.id)
    if entry.photos:
        # The visit's photos are the case's first evidence: the history shows them too.
        case_photos = list(entry.photos)
        steps = cases.history(session, int(case.id or 0))
        steps[-1].photos = case_photos
        session.add(steps[-1])
    entry.case_id = case.id
    entry.follow_up = True
    session.add(entry)
    return case


def _case_title(session: Session, entry: LogEntry, category: Any) -> str:
    """What the case is about, for a cadre who left the title empty: the case's category, then
    the log's text or, for a visit written down without any, whom it was to."""
    chosen = categories.pick(session, "case", category, Errors()) if category else None
    about = entry.body
    if about == VISIT_TEXT and entry.subject_label:
        about = entry.subject_label
    return f"{chosen.name if chosen else entry.category_name}：{about[:30]}"


@dataclass(frozen=True)
class Coverage:
    """Visit coverage of one committee: ``visited`` of ``households`` within ``months``."""

    unit_id: int
    unit_name: str
    households: int
    visited: int

    @property
    def share(self) -> float:
        return self.visited / self.households if self.households else 0.0


def coverage(
    platform: Platform,
    session: Session,
    actor: Actor,
    *,
    months: int = 3,
    unit: UnitRef | None = None,
) -> list[Coverage]:
    """Coverage of every committee in the actor's scope (under ``unit``), fewest visited first."""
    since = _months_before(today(), months)
    code = unit.code if unit is not None else None
    totals = platform.households_by_unit(session, actor, unit_code=code, permission=VIEW)
    query = (
        select(LogEntry.unit_id, func.count(distinct(col(LogEntry.household_id))))
        .where(within(platform, actor, unit, LogEntry.unit_id))
        .where(LogEntry.kind == "visit", col(LogEntry.household_id).is_not(None))
        .where(col(LogEntry.occurred_on) >= since)
        .group_by(col(LogEntry.unit_id))
    )
    visited = {int(u): int(n) for u, n in session.exec(query).all()}
    names = {}
    for unit_id in totals:
        ref = platform.unit_by_id(session, unit_id)
        names[unit_id] = ref.name if ref is not None else str(unit_id)
    rows = [
        Coverage(unit_id, names[unit_id], households, min(visited.get(unit_id, 0), households))
        for unit_id, households in totals.items()
    ]
    return sorted(rows, key=lambda c: (c.share, c.unit_name))


def not_visited(
    platform: Platform, session: Session, actor: Actor, committee: UnitRef, *, months: int = 3
) -> list[Any]:
    """The committee's households without a visit within ``months`` (picks, by address)."""
    if committee.level != "committee":
        raise ValidationFailed("请选择一个居村委", field="unit_code")
    since = _months_before(today(), months)
    seen = set(
        session.exec(
            select(LogEntry.household_id)
            .distinct()
            .where(
                LogEntry.unit_id == committee.id,
                LogEntry.kind == "visit",
                col(LogEntry.occurred_on) >= since,
                col(LogEntry.household_id).is_not(None),
            )
        ).all()
    )
    households = platform.pick(
        session, actor, "household", unit_code=committee.code, limit=5000, permission=VIEW
    )
    return [h for h in households if h.household_id not in seen]


def _months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def log_dict(entry: LogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "unit": {"id": entry.unit_id, "name": entry.unit_name},
        "kind": entry.kind,
        "kind_label": KINDS[entry.kind],
        "category": entry.category_name,
        "subject": None
        if entry.subject_key is None
        else {"key": entry.subject_key, "label": entry.subject_label},
        "body": entry.body,
        "follow_up": entry.follow_up,
        "photos": [{"id": p, "url": f"/attachments/{p}"} for p in entry.photos],
        "occurred_on": entry.occurred_on.isoformat(),
        "author": entry.author,
        "case_id": entry.case_id,
        "created_at": entry.created_at.isoformat(),
    }
