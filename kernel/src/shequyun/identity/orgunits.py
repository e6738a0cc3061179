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

from collections.abc import Sequence
from datetime import date
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from . import audit, scope
from .auth import unit_ref
from .directory import create_unit, unit_by_code
from .models import OrgUnit, OrgUnitChange, User
from .orgunit_steps import (
    NewUnit,
    StaleVersion,
    brief,
    bump,
    check_dates,
    check_new_units,
    check_open,
    check_parent_level,
    check_version,
    checked_name,
    is_code,
    level_below,
    level_name,
    move_child,
    open_children,
    rebase,
    record_audit,
    record_history,
    reload,
    shanghai_today,
    user_id_of,
)

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
    "history",
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


def history(
    session: Session, code: object, *, by: Actor | None
) -> tuple[OrgUnit, list[tuple[OrgUnitChange, User | None]]]:
    """The unit ``code`` (as :func:`find` with ``ORG_VIEW``) and its changes, oldest first,
    each with the user who made it (None for the command line)."""
    unit = find(session, code, by=by, permission=ORG_VIEW)
    rows = session.exec(
        select(OrgUnitChange, User)
        .outerjoin(User, col(User.id) == col(OrgUnitChange.actor_user_id))
        .where(OrgUnitChange.unit_id == unit.id)
        .order_by(col(OrgUnitChange.at), col(OrgUnitChange.id))
    ).all()
    return unit, [(change, user) for change, user in rows]


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
    below = level_below(above)
    if level is not None and level != below:
        raise ValidationFailed(
            f"{above.name}（{level_name(above.level)}）下只能设立{level_name(below)}级单位",
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
        actor_user_id=user_id_of(by),
    )
    record_audit(session, "org.unit.created", by, unit, {"parent": above.code, "name": unit.name})
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
    new_name = checked_name(name, "name")
    check_version(unit, version)
    if new_name == unit.name:
        return unit
    old_name = unit.name
    bump(session, unit, name=new_name)
    record_history(session, unit, "renamed", by, on, {"from": old_name, "to": new_name})
    record_audit(session, "org.unit.renamed", by, unit, {"from": old_name, "to": new_name})
    return reload(session, unit)


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
    check_open(unit, "code")
    check_parent_level(target, unit.level, "parent")
    check_open(target, "parent")
    if target.id == unit.parent_id:
        raise ValidationFailed(f"{unit.name} 已在 {target.name} 之下", field="parent")
    check_version(unit, version)
    source = session.get(OrgUnit, unit.parent_id)
    assert source is not None
    bump(session, unit, parent_id=target.id)
    moved = rebase(session, unit, target)
    detail = {"from": brief(source), "to": brief(target), "subtree": moved}
    record_history(session, unit, "moved", by, on, detail)
    record_audit(session, "org.unit.moved", by, unit, detail)
    return reload(session, unit), moved


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
    check_open(unit, "code")
    check_dates(unit, closed_on, "closed_on")
    following = None
    if successor is not None:
        following = find(session, successor, by=by, field="successor")
        if following.id == unit.id or following.level != unit.level:
            raise ValidationFailed(
                f"接续单位应是与 {unit.name} 同级的另一个单位", field="successor"
            )
        check_open(following, "successor")
    still_open = open_children(session, unit, closed_on)
    if still_open:
        names = "、".join(c.name for c in still_open[:5]) + (" 等" if len(still_open) > 5 else "")
        raise ValidationFailed(
            f"{unit.name} 仍有 {len(still_open)} 个下级在 {closed_on} 时未撤销：{names}；"
            "请先撤销、合并或移走这些下级",
            field="closed_on",
            details=[{"field": "children", "message": f"{c.code} {c.name}"} for c in still_open],
        )
    check_version(unit, version)
    bump(
        session,
        unit,
        closed_on=closed_on,
        successor_id=following.id if following else None,
    )
    detail: dict[str, Any] = {"closed_on": closed_on.isoformat()}
    if following is not None:
        detail["successor"] = brief(following)
    record_history(session, unit, "closed", by, closed_on, detail)
    record_audit(session, "org.unit.closed", by, unit, detail)
    return reload(session, unit)


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
    check_open(unit, "code")
    check_dates(unit, on, "on")
    check_new_units(session, into, [f"into[{i}]" for i in range(len(into))])
    parent = session.get(OrgUnit, unit.parent_id)
    assert parent is not None
    check_open(parent, "code")
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
    left = [c for c in open_children(session, unit, on) if c.code not in assigned]
    if left:
        raise ValidationFailed(
            f"{unit.name} 还有 {len(left)} 个未撤销的下级没有分配给新单位："
            + "、".join(f"{c.name}（{c.code}）" for c in left[:10]),
            field="into",
            details=[{"field": "children", "message": f"{c.code} {c.name}"} for c in left],
        )
    check_version(unit, version)
    bump(session, unit, closed_on=on)
    created = [
        create_unit(
            session,
            code=new.code,
            name=new.name,
            level=unit.level,
            parent=parent,
            opened_on=on,
            actor_user_id=user_id_of(by),
        )
        for new in into
    ]
    for child_code, i in assigned.items():
        move_child(session, children[child_code], created[i], by, on, why=f"拆分 {unit.name}")
    codes = [u.code for u in created]
    record_history(session, unit, "split", by, on, {"into": codes})
    for new_unit in created:
        record_history(session, new_unit, "split_from", by, on, {"from": brief(unit)})
    record_audit(session, "org.unit.split", by, unit, {"into": codes, "on": on.isoformat()})
    return [reload(session, u) for u in created]


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
        check_open(unit, where)
        check_dates(unit, on, "on")
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
        check_open(target, "into")
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
        check_parent_level(above, level, "parent")
        check_open(above, "parent")
        check_new_units(session, [into], ["into"])
        target = create_unit(
            session,
            code=into.code,
            name=into.name,
            level=level,
            parent=above,
            opened_on=on,
            actor_user_id=user_id_of(by),
        )
    for source in sources:
        bump(session, source, closed_on=on, successor_id=target.id)
        for child in session.exec(select(OrgUnit).where(OrgUnit.parent_id == source.id)).all():
            move_child(session, child, target, by, on, why=f"合并 {source.name}")
        record_history(session, source, "merged", by, on, {"into": brief(target)})
    merged = [brief(s) for s in sources]
    record_history(session, target, "merged_from", by, on, {"from": merged})
    record_audit(
        session,
        "org.unit.merged",
        by,
        target,
        {"from": [s.code for s in sources], "on": on.isoformat()},
    )
    return reload(session, target)
