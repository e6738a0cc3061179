"""Two records of one person merged (data quality): the plugin's references follow the kept one.

A merge moves the merged record's 政策找人 cases, benefit receipts and service records to the
kept record, each case to the kept record's committee (and so to its advisors), with a line in
the case's history. A person has at most one case per policy: when both records had one, the
kept record's case stays and takes over the other's progress if the other got further (an
advisor who already called the person is not sent again), and the other case is closed as
``dropped``. Everything changed is returned to the kernel, which keeps it with the merge and
hands it back to :func:`undone`, which puts each row back as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shequyun_sdk import Platform
from sqlmodel import Session, col, select

from .core import CLOSED
from .models import Case, CaseEvent, Receipt, ServiceRecord, utcnow

__all__ = ["merged", "undone"]

#: What a surviving case takes over from the other record's case when that one got further.
PROGRESS = ("status", "reached", "assignee_user_id", "assignee", "closed_at")


def merged(platform: Platform, session: Session, kept_id: int, merged_id: int) -> dict[str, Any]:
    """Point the merged record's cases, receipts and services at the kept record."""
    ref = platform.resident_refs(session, [kept_id]).get(kept_id)
    kept_unit = ref.committee.id if ref is not None else None
    theirs = session.exec(select(Case).where(Case.resident_id == merged_id)).all()
    ours = {c.policy_id: c for c in session.exec(select(Case).where(Case.resident_id == kept_id))}
    moved: dict[str, Any] = {"cases": {}, "combined": [], "receipts": [], "services": []}
    for case in theirs:
        assert case.id is not None
        survivor = ours.get(case.policy_id)
        if survivor is None:
            moved["cases"][str(case.id)] = case.unit_id
            case.resident_id = kept_id
            if kept_unit is not None and case.status not in CLOSED:
                case.unit_id = kept_unit
            _note(session, case, f"居民记录 {merged_id} 并入 {kept_id}，个案随之转入")
            continue
        moved["combined"].append(_combine(session, survivor, case))
    for model, key in ((Receipt, "receipts"), (ServiceRecord, "services")):
        for row in session.exec(select(model).where(model.resident_id == merged_id)):
            row.resident_id = kept_id
            session.add(row)
            moved[key].append(row.id)
    return moved


def undone(session: Session, kept_id: int, merged_id: int, moved: Mapping[str, Any]) -> None:
    """Put back what :func:`merged` changed: rows to the merged record, cases as they were."""
    for case_id, unit_id in moved.get("cases", {}).items():
        case = session.get(Case, int(case_id))
        if case is not None and case.resident_id == kept_id:
            case.resident_id, case.unit_id = merged_id, unit_id
            _note(session, case, f"撤销合并：个案回到居民记录 {merged_id}")
    for item in moved.get("combined", []):
        survivor, other = session.get(Case, item["kept"]), session.get(Case, item["other"])
        if survivor is not None and item.get("took"):
            before = survivor.status
            for field, value in item["took"].items():
                setattr(survivor, field, _value(field, value))
            _note(session, survivor, f"撤销合并：不再沿用个案 {item['other']} 的进展", before)
        if other is not None:
            before = other.status
            other.status, other.closed_at = item["status"], _value("closed_at", item["closed_at"])
            _note(session, other, "撤销合并：个案恢复", before)
    for model, key in ((Receipt, "receipts"), (ServiceRecord, "services")):
        ids = [int(i) for i in moved.get(key, [])]
        if not ids:
            continue
        for row in session.exec(
            select(model).where(col(model.id).in_(ids), model.resident_id == kept_id)
        ):
            row.resident_id = merged_id
            session.add(row)


def _combine(session: Session, survivor: Case, other: Case) -> dict[str, Any]:
    """One person, two cases of one policy: keep ``survivor``, with the further progress."""
    item: dict[str, Any] = {
        "kept": survivor.id,
        "other": other.id,
        "status": other.status,
        "closed_at": _plain(other.closed_at),
        "took": None,
    }
    if other.reached > survivor.reached and other.status != "dropped":
        before = survivor.status
        item["took"] = {field: _plain(getattr(survivor, field)) for field in PROGRESS}
        for field in PROGRESS:
            setattr(survivor, field, getattr(other, field))
        _note(session, survivor, f"合并居民记录：沿用个案 {other.id} 的进展", before)
    before = other.status
    if other.status != "dropped":
        other.status, other.closed_at = "dropped", utcnow()
    _note(session, other, f"居民记录已合并，以个案 {survivor.id} 为准", before)
    return item


def _note(session: Session, case: Case, note: str, before: str = "") -> None:
    """A line in the case's history; ``before`` is the status it had when this changed it."""
    case.updated_at = utcnow()
    case.version += 1
    session.add(case)
    changed = before and before != case.status
    session.add(
        CaseEvent(
            case_id=case.id or 0,
            actor="系统",
            action="merge",
            from_status=before if changed else "",
            to_status=case.status if changed else "",
            note=note,
        )
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _value(field: str, value: Any) -> Any:
    if field == "closed_at" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
