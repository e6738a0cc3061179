"""Reading a list page above a committee in registration order by walking the ids.

Reading a street's 66,000 residents through the unit index and sorting them by id costs what
the subtree holds; walking the ids from the first one in scope, comparing the unit as
``unit_id + 0`` so that no index answers it, stops after the page. Which is cheaper depends
on how much of the city the scope holds, which the tallies tell.
"""

from __future__ import annotations

from typing import Any

from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..identity import scope
from ..identity.models import OrgUnit
from . import tally
from .models import Resident

__all__ = ["first_id_in_scope", "pays"]

READ = "residents.read"


def pays(session: Session, actor: Actor | None, matches: int, through: int) -> bool:
    """Whether walking the ids finds the first ``through`` of ``matches`` residents sooner
    than reading them all: about ``through * everyone / matches`` rows against ``matches``,
    with ``everyone`` the city's residents (from the tallies; residents spread over the ids).
    """
    if actor is None or actor.unit is None or not matches:
        return False
    if actor.unit.level in ("city", "committee"):  # the city's plan walks the ids already
        return False
    prefix = scope.grant_prefix(actor, READ)
    if prefix is None or not tally.fresh(session):
        return False
    city = int(prefix.strip("/").split("/")[0])
    everyone = tally.read(session, city, tally.TOTAL).get("", 0)
    return matches * matches > through * everyone


def first_id_in_scope(actor: Actor | None) -> Any:
    """The lowest resident id of any unit in scope: one index probe per unit (whatever the
    status or the filters, so a bound below every match)."""
    first_of_unit = (
        select(func.min(col(Resident.id)))
        .where(col(Resident.unit_id) == col(OrgUnit.id))
        .scalar_subquery()
    )
    return select(func.min(first_of_unit)).where(scope.unit_scope_filter(actor, READ))
