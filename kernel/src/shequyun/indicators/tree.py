"""The part of the org tree a computation covers, and adding rows up through it.

A :class:`Tree` is the subtree of one unit as it stands on a day: every unit below it, closed
ones included (their rows still count where they stand). Rows come back from an indicator's
query keyed by the unit they belong to (usually a committee); :func:`roll_up` adds each row to
that unit and to every ancestor up to the tree's root, keeping the value and the base apart so
that each level can divide its own sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select as select_columns
from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from ..identity.models import OrgUnit

__all__ = ["Node", "Sums", "Tree", "roll_up"]


@dataclass(frozen=True)
class Node:
    """One unit of the tree, as it stood on the tree's day."""

    id: int
    parent_id: int | None
    code: str
    name: str
    level: str
    path: str
    closed: bool = False

    @property
    def ancestry(self) -> list[int]:
        """The ids from the root of the whole hierarchy down to this unit."""
        return [int(part) for part in self.path.strip("/").split("/") if part]


#: ``{unit id: {key: [value, base]}}``; key ``""`` is the total.
Sums = dict[int, dict[str, list[float]]]


class Tree:
    """The subtree of ``root``: its nodes by id and their children, in code order."""

    def __init__(self, root: Node, nodes: Iterable[Node]) -> None:
        self.root = root
        self.nodes: dict[int, Node] = {root.id: root}
        self._children: dict[int, list[Node]] = {}
        for node in sorted(nodes, key=lambda n: n.code):
            if node.id == root.id:
                continue
            self.nodes[node.id] = node
            if node.parent_id is not None:
                self._children.setdefault(node.parent_id, []).append(node)

    @classmethod
    def load(cls, session: Session, root: OrgUnit, day: date) -> Tree:
        """``root``'s subtree as it stands now; units not open on ``day`` are ``closed``."""
        rows = session.execute(
            select_columns(
                col(OrgUnit.id),
                col(OrgUnit.parent_id),
                col(OrgUnit.code),
                col(OrgUnit.name),
                col(OrgUnit.level),
                col(OrgUnit.path),
                col(OrgUnit.opened_on),
                col(OrgUnit.closed_on),
            ).where(col(OrgUnit.path).startswith(root.path))
        )
        nodes = [
            Node(
                id=row.id,
                parent_id=row.parent_id,
                code=row.code,
                name=row.name,
                level=row.level,
                path=row.path,
                closed=not _open(row.opened_on, row.closed_on, day),
            )
            for row in rows
        ]
        assert root.id is not None
        found = next((n for n in nodes if n.id == root.id), None)
        assert found is not None, "the root is in its own subtree"
        return cls(found, nodes)

    def children(self, unit_id: int) -> list[Node]:
        """The units directly below ``unit_id``, by code."""
        return list(self._children.get(unit_id, ()))

    def walk(self) -> Iterator[Node]:
        """Every node, the root first, each parent before its children."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(self.children(node.id)))

    def within(self, unit_column: object) -> ColumnElement[bool]:
        """The SQL condition on ``unit_column``: the units of this subtree.

        Written as :func:`shequyun.identity.scope.scope_filter` writes a grant's subtree, so the
        database plans it the same way: no condition for the whole city, an equality for a
        committee, a subquery on the unit paths for anything between.
        """
        column: Any = unit_column
        if self.root.parent_id is None:
            return true()
        if not self._children:
            return column == self.root.id  # type: ignore[no-any-return]
        units = select(col(OrgUnit.id)).where(col(OrgUnit.path).startswith(self.root.path))
        return column.in_(units)  # type: ignore[no-any-return]


def _open(opened_on: date | None, closed_on: date | None, day: date) -> bool:
    return (opened_on is None or opened_on <= day) and (closed_on is None or closed_on > day)


def roll_up(
    tree: Tree, rows: Iterable[tuple[int, str, float, float | None]], *, total: bool
) -> Sums:
    """Add each ``(unit_id, key, value, base)`` row to its unit and every ancestor in ``tree``.

    Rows of units outside the tree are dropped: a query can never reach beyond the subtree it
    was asked for. With ``total`` each row also counts towards key ``""`` (the total of an
    additive breakdown; rows without a breakdown have key ``""`` already).

    The rows are first added to their own unit, then each unit's sums to its parent's, the
    deepest units first: one pass over the units, however many rows came back.
    """
    sums: Sums = {}
    nodes = tree.nodes
    for unit_id, key, value, base in rows:
        if unit_id not in nodes:
            continue
        slot = sums.get(unit_id)
        if slot is None:
            slot = sums[unit_id] = {}
        for k in (key, "") if total and key else (key,):
            cell = slot.get(k)
            if cell is None:
                slot[k] = [value, base or 0.0]
            else:
                cell[0] += value
                cell[1] += base or 0.0
    for node in reversed(list(tree.walk())):
        own = sums.get(node.id)
        if own is None or node.id == tree.root.id or node.parent_id not in nodes:
            continue
        parent = sums.get(node.parent_id)  # type: ignore[arg-type]
        if parent is None:
            parent = sums[node.parent_id] = {}  # type: ignore[index]
        for k, (value, base) in own.items():
            cell = parent.get(k)
            if cell is None:
                parent[k] = [value, base]
            else:
                cell[0] += value
                cell[1] += base
    return sums
