"""Changing the org-unit tree: create, rename, move, close, split and merge.

The API and the command line both call these functions. Each validates everything before it
writes, writes in the caller's session (the caller commits), keeps unit ids stable (records
made under a unit keep pointing at it), and leaves a history row (:class:`OrgUnitChange`) and
an audit entry for every unit it changes.

``by`` is the acting :class:`Actor`, whose ``identity.org.manage`` grant limits which units the
function may find: a unit outside the actor's subtree is reported exactly like a unit that
does not exist. ``by=None`` means the operator's command line, which reaches every unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeGuard

from shequyun_sdk import Conflict, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import String, func, literal, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from . import audit, scope
from .auth import unit_ref
from .directory import as_dict, create_unit, unit_by_code
from .models import LEVEL_NAMES, LEVELS, OrgUnit, OrgUnitChange

__all__ = [
    "ORG_MANAGE",
    "ORG_VIEW",
    "NewUnit",
    "StaleVersion",
    "close",
    "count_expected",
    "create",
    "expected_units",
    "find",
    "is_code",
    "merge",
    "move",
    "open_on",
    "rename",
    "shanghai_today",
    "split",
]

ORG_VIEW = "identity.org.view"
ORG_MANAGE = "identity.org.manage"
_SHANGHAI = timezone(timedelta(hours=8))
# ASCII digits only, and no trailing newline: ``\d`` and ``$`` would let both through.
_CODE = re.compile(r"[0-9]{12}")


def is_code(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a well-formed org-unit code: exactly 12 ASCII digits."""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def shanghai_today() -> date:
    """Today's date in Shanghai: the day an operation takes effect when none is given."""
    return datetime.now(_SHANGHAI).date()


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


# -- finding units ----------------------------------------------------------------------------


def find(
    session: Session,
    code: object,
    *,
    by: Actor | None,
    permission: str = ORG_MANAGE,
    field: str | None = None,
) -> OrgUnit:
    """The unit ``code`` if ``by`` reaches it with ``permission``.

    Otherwise :class:`NotFound` for the unit a request names in its path (``field=None``), or
    :class:`ValidationFailed` naming ``field`` for a unit named in a request body. Either way
    the message is the same whether the unit is missing or out of reach, so nothing leaks;
    a miss on an existing unit is audited as a denial.
    """
    unit = unit_by_code(session, code) if is_code(code) else None
    if unit is not None and (by is None or scope.can(by, permission, unit_ref(unit))):
        return unit
    if unit is not None:
        _audit_denial(session, by, permission, unit)
    shown = code if isinstance(code, str) else repr(code)
    if field is None:
        raise NotFound(f"找不到组织 {shown}")
    raise ValidationFailed(f"找不到组织 {shown}", field=field)


def _audit_denial(session: Session, by: Actor | None, permission: str, unit: OrgUnit) -> None:
    bind = session.get_bind()
    if isinstance(bind, Engine):
        audit.record_now(
            bind,
            "access.denied",
            actor=by,
            outcome="denied",
            target_type="org_unit",
            target_id=unit.code,
            detail={"permission": permission, "reason": "out_of_scope"},
        )


def open_on(day: date) -> ColumnElement[bool]:
    """Units open on ``day``: opened on or before it, not closed by then."""
    return (or_(col(OrgUnit.opened_on).is_(None), col(OrgUnit.opened_on) <= day)) & (
        or_(col(OrgUnit.closed_on).is_(None), col(OrgUnit.closed_on) > day)
    )


def expected_units(
    session: Session, within: OrgUnit | UnitRef, level: str, on: date
) -> list[OrgUnit]:
    """The units of ``level`` open on ``on`` in the subtree of ``within``, by code.

    These are the units a collection expects an answer from on that day; units closed before
    it or opened after it are not counted, so completeness stays right across reorganisations.
    """
    return list(
        session.exec(
            select(OrgUnit)
            .where(col(OrgUnit.path).startswith(within.path), OrgUnit.level == level, open_on(on))
            .order_by(col(OrgUnit.code))
        ).all()
    )


def count_expected(session: Session, within: OrgUnit | UnitRef, level: str, on: date) -> int:
    """How many units :func:`expected_units` would list."""
    return session.exec(
        select(func.count())
        .select_from(OrgUnit)
        .where(col(OrgUnit.path).startswith(within.path), OrgUnit.level == level, open_on(on))
    ).one()


# -- operations -------------------------------------------------------------------------------


def create(
    session: Session,
    *,
    code: str,
    name: str,
    parent: str,
    by: Actor | None,
    level: str | None = None,
    opened_on: date | None = None,
) -> OrgUnit:
    """A new unit below ``parent``; its level is the one below the parent's unless given."""
    above = find(session, parent, by=by, field="parent")
    below = _level_below(above)
    if level is not None and level != below:
        raise ValidationFailed(
            f"{above.name}（{_level_name(above.level)}）下只能设立{_level_name(below)}级单位",
            field="level",
        )
    if opened_on is not None and above.opened_on is not None and opened_on < above.opened_on:
        raise ValidationFailed(f"设立日期不能早于上级 {above.name} 的设立日期", field="opened_on")
    unit = create_unit(
        session,
        code=code,
        name=name,
        level=below,
        parent=above,
        opened_on=opened_on,
        actor_user_id=_user_id(by),
    )
    _audit(session, "org.unit.created", by, unit, {"parent": above.code, "name": unit.name})
    return unit


def rename(
    session: Session,
    code: str,
    *,
    name: str,
    version: int,
    by: Actor | None,
    on: date | None = None,
) -> OrgUnit:
    """Give the unit a new name; ``version`` must be the one the caller read."""
    unit = find(session, code, by=by)
    new_name = _name(name, "name")
    _check_version(unit, version)
    if new_name == unit.name:
        return unit
    old_name = unit.name
    _bump(session, unit, name=new_name)
    _history(session, unit, "renamed", by, on, {"from": old_name, "to": new_name})
    _audit(session, "org.unit.renamed", by, unit, {"from": old_name, "to": new_name})
    return _reload(session, unit)


def move(
    session: Session,
    code: str,
    *,
    parent: str,
    by: Actor | None,
    version: int | None = None,
    on: date | None = None,
) -> tuple[OrgUnit, int]:
    """Put the unit (and its subtree) below ``parent``; return it and how many units moved."""
    unit = find(session, code, by=by)
    target = find(session, parent, by=by, field="parent")
    if unit.parent_id is None:
        raise ValidationFailed(f"{unit.name} 是最高一级单位，不能移动", field="parent")
    if target.path.startswith(unit.path):
        raise ValidationFailed(
            f"不能把 {unit.name} 移到它自己或它的下级 {target.name} 之下（会形成循环）",
            field="parent",
        )
    _check_open(unit, "code")
    _check_parent_level(target, unit.level, "parent")
    _check_open(target, "parent")
    if target.id == unit.parent_id:
        raise ValidationFailed(f"{unit.name} 已在 {target.name} 之下", field="parent")
    _check_version(unit, version)
    source = session.get(OrgUnit, unit.parent_id)
    assert source is not None
    _bump(session, unit, parent_id=target.id)
    moved = _rebase(session, unit, target)
    detail = {"from": _brief(source), "to": _brief(target), "subtree": moved}
    _history(session, unit, "moved", by, on, detail)
    _audit(session, "org.unit.moved", by, unit, detail)
    return _reload(session, unit), moved


def close(
    session: Session,
    code: str,
    *,
    closed_on: date,
    by: Actor | None,
    version: int | None = None,
    successor: str | None = None,
) -> OrgUnit:
    """Close the unit from ``closed_on``; refused while a child is still open on that day."""
    unit = find(session, code, by=by)
    _check_open(unit, "code")
    _check_dates(unit, closed_on, "closed_on")
    following = None
    if successor is not None:
        following = find(session, successor, by=by, field="successor")
        if following.id == unit.id or following.level != unit.level:
            raise ValidationFailed(
                f"接续单位应是与 {unit.name} 同级的另一个单位", field="successor"
            )
        _check_open(following, "successor")
    still_open = _open_children(session, unit, closed_on)
    if still_open:
        names = "、".join(c.name for c in still_open[:5]) + (" 等" if len(still_open) > 5 else "")
        raise ValidationFailed(
            f"{unit.name} 仍有 {len(still_open)} 个下级在 {closed_on} 时未撤销：{names}；"
            "请先撤销、合并或移走这些下级",
            field="closed_on",
            details=[{"field": "children", "message": f"{c.code} {c.name}"} for c in still_open],
        )
    _check_version(unit, version)
    _bump(
        session,
        unit,
        closed_on=closed_on,
        successor_id=following.id if following else None,
    )
    detail: dict[str, Any] = {"closed_on": closed_on.isoformat()}
    if following is not None:
        detail["successor"] = _brief(following)
    _history(session, unit, "closed", by, closed_on, detail)
    _audit(session, "org.unit.closed", by, unit, detail)
    return _reload(session, unit)


def split(
    session: Session,
    code: str,
    *,
    into: Sequence[NewUnit],
    on: date,
    by: Actor | None,
    version: int | None = None,
) -> list[OrgUnit]:
    """Close the unit on ``on`` and create ``into`` under the same parent.

    Every child open on that day must be given to one of the new units (``NewUnit.children``);
    closed children may be given too, or stay with the closed unit.
    """
    unit = find(session, code, by=by)
    if len(into) < 2:
        raise ValidationFailed("拆分至少要得到两个新单位", field="into")
    if unit.parent_id is None:
        raise ValidationFailed(f"{unit.name} 是最高一级单位，不能拆分", field="code")
    _check_open(unit, "code")
    _check_dates(unit, on, "on")
    _check_new_units(session, into, [f"into[{i}]" for i in range(len(into))])
    parent = session.get(OrgUnit, unit.parent_id)
    assert parent is not None
    _check_open(parent, "code")
    children = {
        c.code: c for c in session.exec(select(OrgUnit).where(OrgUnit.parent_id == unit.id)).all()
    }
    assigned: dict[str, int] = {}
    for i, new in enumerate(into):
        for j, child in enumerate(new.children):
            where = f"into[{i}].children[{j}]"
            if child not in children:
                raise ValidationFailed(f"{child} 不是 {unit.name} 的下级", field=where)
            if child in assigned:
                raise ValidationFailed(f"下级 {child} 被分配了两次", field=where)
            assigned[child] = i
    left = [c for c in _open_children(session, unit, on) if c.code not in assigned]
    if left:
        raise ValidationFailed(
            f"{unit.name} 还有 {len(left)} 个未撤销的下级没有分配给新单位："
            + "、".join(f"{c.name}（{c.code}）" for c in left[:10]),
            field="into",
            details=[{"field": "children", "message": f"{c.code} {c.name}"} for c in left],
        )
    _check_version(unit, version)
    _bump(session, unit, closed_on=on)
    created = [
        create_unit(
            session,
            code=new.code,
            name=new.name,
            level=unit.level,
            parent=parent,
            opened_on=on,
            actor_user_id=_user_id(by),
        )
        for new in into
    ]
    for child_code, i in assigned.items():
        _move_child(session, children[child_code], created[i], by, on, why=f"拆分 {unit.name}")
    codes = [u.code for u in created]
    _history(session, unit, "split", by, on, {"into": codes})
    for new_unit in created:
        _history(session, new_unit, "split_from", by, on, {"from": _brief(unit)})
    _audit(session, "org.unit.split", by, unit, {"into": codes, "on": on.isoformat()})
    return [_reload(session, u) for u in created]


def merge(
    session: Session,
    codes: Sequence[str],
    *,
    into: str | NewUnit,
    on: date,
    by: Actor | None,
    parent: str | None = None,
) -> OrgUnit:
    """Close the units ``codes`` on ``on``; their successor is ``into``.

    ``into`` is an existing unit's code, or a :class:`NewUnit` created under ``parent`` (by
    default the parent the merged units share). The merged units' children, closed ones
    included, move under the successor so its users see the whole area and its history.
    """
    if len(codes) < 2:
        raise ValidationFailed("合并至少需要两个单位", field="units")
    sources: list[OrgUnit] = []
    for i, code in enumerate(codes):
        where = f"units[{i}]"
        if code in codes[:i]:
            raise ValidationFailed(f"{code} 重复出现", field=where)
        unit = find(session, code, by=by, field=where)
        if unit.parent_id is None:
            raise ValidationFailed(f"{unit.name} 是最高一级单位，不能合并", field=where)
        if sources and unit.level != sources[0].level:
            raise ValidationFailed(
                f"{unit.name} 与 {sources[0].name} 不是同一层级，不能合并", field=where
            )
        _check_open(unit, where)
        _check_dates(unit, on, "on")
        sources.append(unit)
    level = sources[0].level
    if isinstance(into, str):
        target = find(session, into, by=by, field="into")
        if target.level != level:
            raise ValidationFailed(f"接续单位 {target.name} 应与被合并单位同级", field="into")
        if target.id in {s.id for s in sources}:
            raise ValidationFailed(
                "接续单位不能是被合并的单位之一（保留它，只合并其他单位）", field="into"
            )
        _check_open(target, "into")
        if parent is not None:
            raise ValidationFailed("合并到已有单位时不能指定上级", field="parent")
    else:
        if parent is not None:
            above = find(session, parent, by=by, field="parent")
        else:
            parents = {s.parent_id for s in sources}
            if len(parents) != 1:
                raise ValidationFailed(
                    "被合并的单位不在同一上级之下，请用 parent 指定新单位的上级", field="parent"
                )
            found = session.get(OrgUnit, parents.pop())
            assert found is not None
            above = found
        _check_parent_level(above, level, "parent")
        _check_open(above, "parent")
        _check_new_units(session, [into], ["into"])
        target = create_unit(
            session,
            code=into.code,
            name=into.name,
            level=level,
            parent=above,
            opened_on=on,
            actor_user_id=_user_id(by),
        )
    for source in sources:
        _bump(session, source, closed_on=on, successor_id=target.id)
        for child in session.exec(select(OrgUnit).where(OrgUnit.parent_id == source.id)).all():
            _move_child(session, child, target, by, on, why=f"合并 {source.name}")
        _history(session, source, "merged", by, on, {"into": _brief(target)})
    merged = [_brief(s) for s in sources]
    _history(session, target, "merged_from", by, on, {"from": merged})
    _audit(
        session,
        "org.unit.merged",
        by,
        target,
        {"from": [s.code for s in sources], "on": on.isoformat()},
    )
    return _reload(session, target)


# -- shared steps -----------------------------------------------------------------------------


def _level_below(unit: OrgUnit) -> str:
    index = LEVELS.index(unit.level) + 1
    if index >= len(LEVELS):
        raise ValidationFailed(
            f"{unit.name} 是{_level_name(unit.level)}，下面不能再设立单位", field="parent"
        )
    return LEVELS[index]


def _level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


def _check_parent_level(parent: OrgUnit, level: str, where: str) -> None:
    if LEVELS.index(level) != LEVELS.index(parent.level) + 1:
        above = LEVELS[LEVELS.index(level) - 1] if LEVELS.index(level) > 0 else None
        wanted = f"{_level_name(above)}级单位" if above else "（无）"
        raise ValidationFailed(
            f"{parent.name} 是{_level_name(parent.level)}级单位；"
            f"{_level_name(level)}级单位的上级应为{wanted}",
            field=where,
        )


def _check_open(unit: OrgUnit, where: str) -> None:
    if unit.closed_on is not None:
        raise ValidationFailed(f"{unit.name} 已于 {unit.closed_on} 撤销", field=where)


def _check_dates(unit: OrgUnit, day: date, where: str) -> None:
    if unit.opened_on is not None and day <= unit.opened_on:
        raise ValidationFailed(f"日期应晚于 {unit.name} 的设立日期 {unit.opened_on}", field=where)


def _check_version(unit: OrgUnit, version: int | None) -> None:
    if version is not None and version != unit.version:
        raise StaleVersion(unit)


def _check_new_units(session: Session, units: Sequence[NewUnit], fields: Sequence[str]) -> None:
    """Codes well formed and unused, names acceptable; ``fields`` names each unit's field."""
    seen: set[str] = set()
    for new, where in zip(units, fields, strict=True):
        if not is_code(new.code):
            raise ValidationFailed("组织编码应为 12 位数字", field=f"{where}.code")
        if new.code in seen or unit_by_code(session, new.code) is not None:
            raise Conflict(f"组织编码 {new.code} 已被使用", field=f"{where}.code")
        seen.add(new.code)
        _name(new.name, f"{where}.name")


def _name(name: str, where: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed("名称不能为空且不超过 80 个字", field=where)
    return name


def _open_children(session: Session, unit: OrgUnit, day: date) -> list[OrgUnit]:
    still_open = or_(col(OrgUnit.closed_on).is_(None), col(OrgUnit.closed_on) > day)
    return list(
        session.exec(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, still_open)
            .order_by(col(OrgUnit.code))
        ).all()
    )


def _bump(session: Session, unit: OrgUnit, **values: Any) -> None:
    """Write ``values`` and the next version, if nobody changed the unit meanwhile."""
    result = session.exec(
        update(OrgUnit)
        .where(col(OrgUnit.id) == unit.id, col(OrgUnit.version) == unit.version)
        .values(version=col(OrgUnit.version) + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(unit)
        raise StaleVersion(unit)


def _rebase(session: Session, unit: OrgUnit, new_parent: OrgUnit) -> int:
    """Rewrite the paths of ``unit``'s whole subtree for its new parent, in one statement."""
    old_prefix = unit.path
    new_prefix = f"{new_parent.path}{unit.id}/"
    result = session.exec(
        update(OrgUnit)
        .where(col(OrgUnit.path).startswith(old_prefix))
        .values(
            path=literal(new_prefix, String) + func.substr(col(OrgUnit.path), len(old_prefix) + 1)
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def _move_child(
    session: Session, child: OrgUnit, target: OrgUnit, by: Actor | None, on: date, *, why: str
) -> None:
    source = session.get(OrgUnit, child.parent_id)
    assert source is not None
    _bump(session, child, parent_id=target.id)
    moved = _rebase(session, child, target)
    detail = {"from": _brief(source), "to": _brief(target), "subtree": moved, "reason": why}
    _history(session, child, "moved", by, on, detail)


def _reload(session: Session, unit: OrgUnit) -> OrgUnit:
    session.expire_all()
    fresh = session.get(OrgUnit, unit.id)
    assert fresh is not None
    return fresh


def _brief(unit: OrgUnit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name}


def _user_id(by: Actor | None) -> int | None:
    return by.user_id if by is not None else None


def _history(
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
            actor_user_id=_user_id(by),
        )
    )


def _audit(
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
