"""What plugins may learn about residents who act for themselves (居民本人).

Cadres reach residents through :meth:`Platform.search_residents` under their grant. A plugin that
serves residents directly (the 居社互动 platform: resident accounts, votes, requests) needs less
and differently: to link an account to one resident record after checking what the resident
knows, and afterwards to read *where the resident lives now* — committee, building, household —
each time it decides what they may do, so that a transfer in the resident database moves their
rights with them. :class:`ResidentRef` is that view: placement, never the sensitive fields.

See :meth:`Platform.verify_resident`, :meth:`Platform.resident_refs`,
:meth:`Platform.resident_buildings` and :meth:`Platform.count_electorate`, documented in
``docs/plugins/platform.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .identity import UnitRef

__all__ = ["Building", "ResidentRef"]


@dataclass(frozen=True)
class ResidentRef:
    """One resident's placement, read fresh from the resident database.

    ``committee`` is the committee currently holding the record. ``compound`` and ``building``
    come from the resident's address (None when no address is recorded; a transfer clears it);
    ``household_id`` and ``household_number`` identify their household (户) within the committee.
    ``adult`` is whether they are 18 or older today; ``active`` is false once the record is
    removed (注销). No ID number, phone or birth date is ever part of it.
    """

    id: int
    name: str
    committee: UnitRef
    compound: str | None = None
    building: str | None = None
    address_label: str | None = None
    household_id: int | None = None
    household_number: str | None = None
    adult: bool = True
    active: bool = True

    @property
    def building_key(self) -> tuple[str, str] | None:
        """``(compound, building)``, or None without a building: how buildings are named."""
        if self.compound is None or not self.building:
            return None
        return (self.compound, self.building)


@dataclass(frozen=True)
class Building:
    """A building (楼栋) of a committee with its active population.

    ``households`` counts distinct households with at least one active resident living in the
    building; ``residents`` counts active residents, ``adults`` those 18 or older.
    """

    compound: str
    building: str
    households: int
    residents: int
    adults: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.compound, self.building)

    @property
    def label(self) -> str:
        return f"{self.compound}{self.building}号楼"
