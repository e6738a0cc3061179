"""Choosing a place without an account: city → district → street → committee, by name.

A visitor who has not verified (anonymous, or signed up but not yet linked to a resident) reads
a place's announcements and its committee's disclosures. Nobody knows their committee's
12-digit code, so the pages walk the tree by name instead: each step lists the units below the
one chosen, and a trail leads back up. Units where the plugin is switched off are not offered
(a link to one still answers with the page saying the place is not served).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shequyun_sdk import Platform
from shequyun_sdk.identity import UnitRef

from .availability import is_open

__all__ = ["PlaceChoice", "choose_place"]

#: What a step asks for, by the level of the units it lists.
PROMPTS = {
    "district": "选择区",
    "street": "选择街道（镇）",
    "committee": "选择居委会（村委会）",
}


@dataclass(frozen=True)
class PlaceChoice:
    """Where a visitor stands in the tree and where they may go next."""

    #: The unit chosen (None: nothing yet, or a code that names no unit).
    chosen: UnitRef | None
    #: The units above ``chosen``, from the city down, to walk back up by.
    trail: list[UnitRef] = field(default_factory=list)
    #: The units directly below ``chosen`` (below the city when nothing is chosen).
    options: list[UnitRef] = field(default_factory=list)
    #: A code was given and names no unit, or a closed one. A unit where the plugin is off is
    #: chosen all the same: the page's content refuses it, saying so (not offered there).
    unknown: bool = False
    #: Where the walk stands: ``chosen``, else the city (None only in a tree without units).
    #: Its announcements are those meant for everyone who may stand there.
    start: UnitRef | None = None

    @property
    def prompt(self) -> str:
        """What choosing among :attr:`options` means (选择区, 选择街道（镇）…), or ``""``."""
        return PROMPTS.get(self.options[0].level, "") if self.options else ""


def choose_place(platform: Platform, plugin_name: str, code: str) -> PlaceChoice:
    """The step of the walk that ``code`` (``?unit=``, possibly empty) stands for."""
    with platform.session() as session:
        chosen = platform.unit(session, code) if code else None
        unknown = bool(code) and (chosen is None or chosen.closed)
        if unknown:
            chosen = None
        start = chosen or platform.root_unit(session)
        if start is None:
            return PlaceChoice(None, unknown=unknown)
        trail = platform.unit_ancestors(session, chosen) if chosen else []
        below = platform.unit_children(session, start)
    options = [unit for unit in below if is_open(platform, plugin_name, unit)]
    return PlaceChoice(chosen, trail, options, unknown, start)
