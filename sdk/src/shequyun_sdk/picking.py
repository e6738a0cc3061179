"""Picking a resident, a household or a building the actor may reach: what a record links to.

A visit log, a case or a service record is about *someone* or *somewhere*: 王秀英, the household
at 潍坊一村12号楼1单元402室, or the whole of 12号楼. The kernel owns those objects; a plugin keeps
only a stable **key** to one of them and asks the kernel, under the actor's grant, both to
search (:meth:`~shequyun_sdk.Platform.pick`, for a search-as-you-type field) and to check keys
that come back in a form or an API call (:meth:`~shequyun_sdk.Platform.resolve_picks`), so a
cadre can never link a record to a household outside their committee by sending its key.

Keys are ``resident:<id>``, ``household:<id>`` and ``building:<committee id>:<compound>:<building>``
(a building has no id of its own: it is a compound and a building number within a committee).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .identity import UnitRef

__all__ = ["PICK_KINDS", "Pick", "building_key", "parse_pick_key"]

#: What can be picked, with its Chinese name.
PICK_KINDS = {"resident": "居民", "household": "家庭户", "building": "楼栋"}


def building_key(committee_id: int, compound: str, building: str) -> str:
    """The key of building ``building`` of ``compound`` in committee ``committee_id``."""
    return f"building:{committee_id}:{compound}:{building}"


def parse_pick_key(key: str) -> tuple[str, tuple[Any, ...]] | None:
    """``(kind, parts)`` of a key, or None when it is not a well-formed key.

    ``resident:12`` → ``("resident", (12,))``; ``building:230:潍坊一村:12`` →
    ``("building", (230, "潍坊一村", "12"))``.
    """
    if not isinstance(key, str):
        return None
    kind, _, rest = key.partition(":")
    if kind in ("resident", "household"):
        return (kind, (int(rest),)) if rest.isdigit() and len(rest) < 19 else None
    if kind == "building":
        unit, _, place = rest.partition(":")
        compound, _, building = place.rpartition(":")
        if unit.isdigit() and len(unit) < 19 and compound and building:
            return ("building", (int(unit), compound, building))
    return None


@dataclass(frozen=True)
class Pick:
    """One resident, household or building, as a picker shows it.

    ``label`` is what a person reads (``王秀英 · 潍坊一村12号楼1单元402室``); ``detail`` adds a
    line (``3 户 7 人``); ``committee`` is the committee it belongs to. Only what a neighbour could
    tell is here: never an ID number, a phone or a birth date.
    """

    kind: str
    key: str
    label: str
    committee: UnitRef
    detail: str = ""
    resident_id: int | None = None
    household_id: int | None = None
    compound: str | None = None
    building: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The pick as the API shows it."""
        return {
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "detail": self.detail,
            "committee": {
                "id": self.committee.id,
                "code": self.committee.code,
                "name": self.committee.name,
            },
            "resident_id": self.resident_id,
            "household_id": self.household_id,
            "compound": self.compound,
            "building": self.building,
        }
