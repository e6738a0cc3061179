"""What the unit picker offers: units found by name or code, or the children of one unit.

The picker (``static/kernel/unit_picker.js``) asks the portal's ``/units/pick`` for these. Each
unit comes with its trail of ancestors (district › street), because committee names repeat
across the city. Two reaches:

- ``scope``: the units the actor may see with ``identity.org.view`` (their grant's subtree),
  for the admin forms where a unit is chosen to manage;
- ``city``: every open unit of the city, for choosing where a resident moves to. Unit names
  and codes are the public statistical codes, so any staff member may look them up;
- ``residents``: the units whose residents the actor may read (``residents.read``), for the
  resident list's committee filter above a street.

Only suggestions: whatever is submitted is checked again by the service of the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select

from . import orgunits, scope
from .models import LEVEL_NAMES, LEVELS, OrgUnit

__all__ = ["PICK_LIMIT", "REACHES", "Pick", "pick"]

ORG_VIEW = "identity.org.view"
REACHES = ("scope", "city", "residents")
#: The permission whose grant bounds each scoped reach.
REACH_PERMISSIONS = {"scope": ORG_VIEW, "residents": "residents.read"}
#: Units in one answer: a search names the first ones and asks for more letters.
PICK_LIMIT = 30


@dataclass(frozen=True)
class Pick:
    """One answer of the picker: the units, where they sit, and whether more matched."""

    items: list[dict[str, Any]]
    crumbs: list[dict[str, str]]
    more: bool

    def as_json(self) -> dict[str, Any]:
        return {"items": self.items, "crumbs": self.crumbs, "more": self.more}


def pick(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    parent: str = "",
    code: str = "",
    level: str = "",
    reach: str = "scope",
) -> Pick:
    """Units matching ``q`` (name, or code prefix), the children of ``parent``, or ``code``.

    With nothing asked, the children of the top unit the actor reaches (their grant's unit,
    or the city for ``reach="city"``). ``level`` keeps only units of that level in a search.
    """
    if reach not in REACHES:
        raise ValidationFailed("reach 应为 scope、city 或 residents", field="reach")
    if level and level not in LEVELS:
        raise ValidationFailed(f"level 应为 {'、'.join(LEVELS)} 之一", field="level")
    q = q.strip()
    if len(q) > 40:
        raise ValidationFailed("查找的文字不超过 40 个字", field="q")
    for name, value in (("parent", parent), ("code", code)):
        if value and not orgunits.is_code(value):
            raise ValidationFailed(f"{name} 应为 12 位数字的单位编码", field=name)
    if actor.unit is None:
        return Pick([], [], False)
    reachable = _reachable(actor, reach)
    today = orgunits.shanghai_today()
    base = select(OrgUnit).where(reachable, orgunits.open_on(today))
    crumbs: list[dict[str, str]] = []
    if code:
        rows = list(session.exec(base.where(col(OrgUnit.code) == code)).all())
    elif q:
        wanted = col(OrgUnit.name).contains(q, autoescape=True)
        if q.isdigit():
            wanted = wanted | col(OrgUnit.code).startswith(q)
        stmt = base.where(wanted)
        if level:
            stmt = stmt.where(col(OrgUnit.level) == level)
        stmt = stmt.order_by(func.length(OrgUnit.path), col(OrgUnit.code)).limit(PICK_LIMIT + 1)
        rows = list(session.exec(stmt).all())
    else:
        top = _top(session, actor, reach)
        if parent:
            top = session.exec(
                select(OrgUnit).where(col(OrgUnit.code) == parent, reachable)
            ).first()
            if top is None:
                raise NotFound("找不到该单位，或不在您的管辖范围内", field="parent")
        if top is None:
            return Pick([], [], False)
        crumbs = [
            {"code": u.code, "name": u.name}
            for u in _ancestors(session, [top], reachable)[top.id or 0]
        ] + [{"code": top.code, "name": top.name}]
        stmt = base.where(col(OrgUnit.parent_id) == top.id).order_by(col(OrgUnit.code))
        rows = list(session.exec(stmt.limit(PICK_LIMIT * 20 + 1)).all())
        if not rows and top.id is not None:
            return Pick([], crumbs, False)
    limit = PICK_LIMIT if q else PICK_LIMIT * 20
    more = len(rows) > limit
    rows = rows[:limit]
    trails = _ancestors(session, rows, None)
    children = _open_children(session, rows)
    items = [
        {
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "level_name": LEVEL_NAMES.get(u.level, u.level),
            "trail": " › ".join(a.name for a in trails[u.id or 0] if a.level != "city"),
            "children": children.get(u.id or 0, 0),
        }
        for u in rows
    ]
    return Pick(items, crumbs, more)


def _reachable(actor: Actor, reach: str) -> Any:
    if reach == "city":
        return col(OrgUnit.id).is_not(None)
    return scope.unit_scope_filter(actor, REACH_PERMISSIONS[reach])


def _top(session: Session, actor: Actor, reach: str) -> OrgUnit | None:
    if reach == "city":
        return session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None))).first()
    prefix = scope.grant_prefix(actor, REACH_PERMISSIONS[reach])
    if prefix is None:
        return None
    return session.exec(select(OrgUnit).where(col(OrgUnit.path) == prefix)).first()


def _ancestors(session: Session, units: list[OrgUnit], reachable: Any) -> dict[int, list[OrgUnit]]:
    """Each unit's ancestors, root first (only the reachable ones when ``reachable`` is given)."""
    chains = {u.id or 0: [int(p) for p in u.path.strip("/").split("/")[:-1]] for u in units}
    ids = {i for chain in chains.values() for i in chain}
    if not ids:
        return {key: [] for key in chains}
    stmt = select(OrgUnit).where(col(OrgUnit.id).in_(ids))
    if reachable is not None:
        stmt = stmt.where(reachable)
    found = {u.id: u for u in session.exec(stmt).all()}
    return {key: [found[i] for i in chain if i in found] for key, chain in chains.items()}


def _open_children(session: Session, units: list[OrgUnit]) -> dict[int, int]:
    ids = [u.id for u in units if u.level != LEVELS[-1]]
    if not ids:
        return {}
    today = orgunits.shanghai_today()
    rows = session.exec(
        select(col(OrgUnit.parent_id), func.count())
        .where(col(OrgUnit.parent_id).in_(ids), orgunits.open_on(today))
        .group_by(col(OrgUnit.parent_id))
    ).all()
    return {int(parent): int(n) for parent, n in rows if parent is not None}
