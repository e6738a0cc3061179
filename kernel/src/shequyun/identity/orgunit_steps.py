"""The steps the org-unit operations share: checks of levels, dates, versions and names; moving
subtrees; and the history row and audit entry every change leaves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeGuard

from shequyun_sdk import Conflict, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import String, func, literal, or_, update
from sqlmodel import Session, col, select

from . import audit, revocations
from .directory import as_dict, unit_by_code
from .models import LEVEL_NAMES, LEVELS, OrgUnit, OrgUnitChange

SHANGHAI = timezone(timedelta(hours=8))
# ASCII digits only, and no trailing newline: ``\d`` and ``$`` would let both through.
CODE_RE = re.compile(r"[0-9]{12}")


def is_code(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a well-formed org-unit code: exactly 12 ASCII digits."""
    return isinstance(value, str) and CODE_RE.fullmatch(value) is not None


def shanghai_today() -> date:
    """Today's date in Shanghai: the day an operation takes effect when none is given."""
    return datetime.now(SHANGHAI).date()


class StaleVersion(Conflict):
    """The unit changed since the caller read it; ``current`` holds its values now."""

    code = "stale_version"

    def __init__(self, unit: OrgUnit) -> None:
        super().__init__(
            f"{unit.name} 已被他人修改（当前版本 {unit.version}），请刷新后重试",
            field="version",
        )
        self.current = as_dict(unit)


@dataclass(frozen=True)
class NewUnit:
    """A unit to create by a split or a merge; ``children`` are codes to move under it."""

    code: str
    name: str
    children: Sequence[str] = field(default_factory=tuple)


# -- shared steps -----------------------------------------------------------------------------


def level_below(unit: OrgUnit) -> str:
    index = LEVELS.index(unit.level) + 1
    if index >= len(LEVELS):
        raise ValidationFailed(
            f"{unit.name} 是{level_name(unit.level)}，下面不能再设立单位", field="parent"
        )
    return LEVELS[index]


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


def check_parent_level(parent: OrgUnit, level: str, where: str) -> None:
    if LEVELS.index(level) != LEVELS.index(parent.level) + 1:
        above = LEVELS[LEVELS.index(level) - 1] if LEVELS.index(level) > 0 else None
        wanted = f"{level_name(above)}级单位" if above else "（无）"
        raise ValidationFailed(
            f"{parent.name} 是{level_name(parent.level)}级单位；"
            f"{level_name(level)}级单位的上级应为{wanted}",
            field=where,
        )


def check_open(unit: OrgUnit, where: str) -> None:
    if unit.closed_on is not None:
        raise ValidationFailed(f"{unit.name} 已于 {unit.closed_on} 撤销", field=where)


def check_dates(unit: OrgUnit, day: date, where: str) -> None:
    if unit.opened_on is not None and day <= unit.opened_on:
        raise ValidationFailed(f"日期应晚于 {unit.name} 的设立日期 {unit.opened_on}", field=where)


def check_version(unit: OrgUnit, version: int | None) -> None:
    if version is not None and version != unit.version:
        raise StaleVersion(unit)


def check_new_units(session: Session, units: Sequence[NewUnit], fields: Sequence[str]) -> None:
    """Codes well formed and unused, names acceptable; ``fields`` names each unit's field."""
    seen: set[str] = set()
    for new, where in zip(units, fields, strict=True):
        if not is_code(new.code):
            raise ValidationFailed("组织编码应为 12 位数字", field=f"{where}.code")
        if new.code in seen or unit_by_code(session, new.code) is not None:
            raise Conflict(f"组织编码 {new.code} 已被使用", field=f"{where}.code")
        seen.add(new.code)
        checked_name(new.name, f"{where}.name")


def checked_name(name: str, where: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed("名称不能为空且不超过 80 个字", field=where)
    return name


def open_children(session: Session, unit: OrgUnit, day: date) -> list[OrgUnit]:
    still_open = or_(col(OrgUnit.closed_on).is_(None), col(OrgUnit.closed_on) > day)
    return list(
        session.exec(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, still_open)
            .order_by(col(OrgUnit.code))
        ).all()
    )


def _touching(unit: OrgUnit) -> dict[str, Any]:
    """The credentials a change to ``unit`` touches: those of its subtree (whose paths, old
    ones too, name its id)."""
    return revocations.touching(revocations.Change("unit", str(unit.id)))


def bump(session: Session, unit: OrgUnit, **values: Any) -> None:
    """Write ``values`` and the next version, if nobody changed the unit meanwhile."""
    result = session.exec(
        update(OrgUnit)
        .where(col(OrgUnit.id) == unit.id, col(OrgUnit.version) == unit.version)
        .values(version=col(OrgUnit.version) + 1, **values)
        .execution_options(synchronize_session=False, **_touching(unit))
    )
    if result.rowcount != 1:
        session.refresh(unit)
        raise StaleVersion(unit)


def rebase(session: Session, unit: OrgUnit, new_parent: OrgUnit) -> int:
    """Rewrite the paths of ``unit``'s whole subtree for its new parent, in one statement."""
    old_prefix = unit.path
    new_prefix = f"{new_parent.path}{unit.id}/"
    result = session.exec(
        update(OrgUnit)
        .where(col(OrgUnit.path).startswith(old_prefix))
        .values(
            path=literal(new_prefix, String) + func.substr(col(OrgUnit.path), len(old_prefix) + 1)
        )
        .execution_options(synchronize_session=False, **_touching(unit))
    )
    return int(result.rowcount)


def move_child(
    session: Session, child: OrgUnit, target: OrgUnit, by: Actor | None, on: date, *, why: str
) -> None:
    source = session.get(OrgUnit, child.parent_id)
    assert source is not None
    bump(session, child, parent_id=target.id)
    moved = rebase(session, child, target)
    detail = {"from": brief(source), "to": brief(target), "subtree": moved, "reason": why}
    record_history(session, child, "moved", by, on, detail)


def reload(session: Session, unit: OrgUnit) -> OrgUnit:
    session.expire_all()
    fresh = session.get(OrgUnit, unit.id)
    assert fresh is not None
    return fresh


def brief(unit: OrgUnit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name}


def user_id_of(by: Actor | None) -> int | None:
    return by.user_id if by is not None else None


def record_history(
    session: Session,
    unit: OrgUnit,
    action: str,
    by: Actor | None,
    on: date | None,
    detail: dict[str, Any],
) -> None:
    assert unit.id is not None
    session.add(
        OrgUnitChange(
            unit_id=unit.id,
            action=action,
            detail=detail,
            effective_on=on,
            actor_user_id=user_id_of(by),
        )
    )


def record_audit(
    session: Session, action: str, by: Actor | None, unit: OrgUnit, detail: dict[str, Any]
) -> None:
    audit.record(
        session,
        action,
        actor=by,
        target_type="org_unit",
        target_id=unit.code,
        unit_id=unit.id,
        detail=detail if by is not None else {**detail, "via": "cli"},
    )
