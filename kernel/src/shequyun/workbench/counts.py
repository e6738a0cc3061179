"""The workbench's figures: the age pyramid and the tag counts of the residents in scope.

Above a committee both come from the resident tallies (:mod:`shequyun.residents.tally`): the
rows of the unit whose subtree the actor's grant reaches, which the kernel's scope names, so a
city reads as few rows as a committee. A committee's, and any level's while the tallies are
stale (a unit moved since they were counted) or were never counted, are counted live with one
GROUP BY over the residents in scope.
"""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date, timedelta

from shequyun_sdk.identity import Actor
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from ..identity import scope
from ..residents import tally
from ..residents.models import Resident, ResidentTag
from ..residents.service import READ

__all__ = ["BAND_COUNT", "age_bands", "age_bands_live", "band_labels", "tag_counts"]

#: Age bands of five years, the last open-ended: 0–4, 5–9, … 80–84, 85+.
BAND_COUNT = 18
TOP_TAGS = 15
GENDERS = ("male", "female")


def band_labels() -> list[str]:
    return [f"{5 * k}–{5 * k + 4}" for k in range(BAND_COUNT - 1)] + [f"{5 * (BAND_COUNT - 1)}+"]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _boundaries(today: date) -> list[date]:
    """The last birth date of each band but the youngest: band ``k`` holds the people born
    after ``boundaries[k]`` and on or before ``boundaries[k - 1]``."""
    return [_years_before(today, 5 * (k + 1)) for k in range(BAND_COUNT - 1)]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _last_whole_months(boundaries: list[date]) -> list[str]:
    """For each boundary, the last month (``YYYY-MM``) whose every day lies on or before it:
    a month is at least as old as band ``k`` exactly when it is not after ``[k - 1]``."""
    months = []
    for last in boundaries:
        month = last if last == _month_end(last) else last.replace(day=1) - timedelta(days=1)
        months.append(f"{month.year:04d}-{month.month:02d}")
    return months


def _tallied_unit(session: Session, actor: Actor) -> int | None:
    """The unit whose tallies answer for ``actor``, or None to count live: a committee's own
    residents are read as fast through its unit index as its tally rows are."""
    if actor.unit is None or actor.unit.level == "committee":
        return None
    unit_id = tally.scope_unit(actor, READ)
    return unit_id if unit_id is not None and tally.fresh(session) else None


def _rows(counts: list[list[int]]) -> list[tuple[str, int, int]]:
    return [(label, men, women) for label, (men, women) in zip(band_labels(), counts, strict=True)]


def age_bands(
    session: Session, actor: Actor, today: date | None = None
) -> list[tuple[str, int, int]]:
    """``(band, men, women)`` of the active residents ``actor`` may read, youngest band first.

    From the tallies: each month of birth goes to the band of its last day; only those born
    in a month holding a boundary, on or before the boundary, belong one band up, and they
    are counted live (a few days of births per band).
    """
    today = today or date.today()
    unit_id = _tallied_unit(session, actor)
    if unit_id is None:
        return age_bands_live(session, actor, today)
    boundaries = _boundaries(today)
    counts = [[0, 0] for _ in range(BAND_COUNT)]
    for gender, band, n in tally.read_bands(session, unit_id, _last_whole_months(boundaries)):
        if gender in GENDERS:
            counts[band][GENDERS.index(gender)] += n
    # The residents born in a boundary's month on or before it are one band older than their
    # month says: count them per boundary (band k's oldest day is boundaries[k]).
    born = col(Resident.birth_date)
    windows = {
        k: and_(born >= last.replace(day=1), born <= last)
        for k, last in enumerate(boundaries)
        if last != _month_end(last)
    }
    which = case(*[(window, k) for k, window in windows.items()], else_=-1)
    # Above a committee the unit is compared as ``unit_id + 0``, which no index answers: the
    # database then reads the birth-date index (a few days of births per band) instead of
    # every resident of the subtree through the unit index.
    committee = actor.unit is not None and actor.unit.level == "committee"
    unit = col(Resident.unit_id) if committee else col(Resident.unit_id) + 0
    if windows:
        inner = (
            select(col(Resident.gender).label("gender"), which.label("k"))
            .where(or_(*windows.values()))
            .where(Resident.status == "active", scope.scope_filter(actor, READ, unit))
            .subquery()
        )
        for gender, k, n in session.execute(
            select(inner.c.gender, inner.c.k, func.count()).group_by(inner.c.gender, inner.c.k)
        ):
            if gender in GENDERS and k >= 0:
                side = GENDERS.index(gender)
                counts[k][side] -= n  # their month's last day falls in band k
                counts[k + 1][side] += n
    return _rows(counts)


def age_bands_live(session: Session, actor: Actor, today: date) -> list[tuple[str, int, int]]:
    """:func:`age_bands` counted from the residents: one GROUP BY over a CASE on the birth
    date (someone is at least ``5k`` years old exactly when born on or before the day ``5k``
    years ago)."""
    band = case(
        *[
            (col(Resident.birth_date) > _years_before(today, 5 * (k + 1)), k)
            for k in range(BAND_COUNT - 1)
        ],
        else_=BAND_COUNT - 1,
    )
    # Grouping over a subquery's columns: PostgreSQL does not see two copies of a CASE with
    # bound parameters (one in SELECT, one in GROUP BY) as the same expression.
    inner = (
        select(band.label("band"), col(Resident.gender).label("gender"))
        .where(scope.scope_filter(actor, READ, Resident.unit_id))
        .where(Resident.status == "active")
        .subquery()
    )
    counts = [[0, 0] for _ in range(BAND_COUNT)]
    for index, gender, number in session.execute(
        select(inner.c.band, inner.c.gender, func.count()).group_by(inner.c.band, inner.c.gender)
    ):
        if gender in GENDERS:
            counts[int(index)][GENDERS.index(gender)] = int(number)
    return _rows(counts)


def tag_counts(session: Session, actor: Actor, limit: int = TOP_TAGS) -> list[tuple[str, int]]:
    """The most used tags among the active residents ``actor`` may read, most used first."""
    unit_id = _tallied_unit(session, actor)
    if unit_id is not None:
        found = Counter(tally.read(session, unit_id, tally.TAG))
        return sorted(found.items(), key=lambda item: (-item[1], item[0]))[:limit]
    number = func.count().label("number")
    rows = session.execute(
        select(ResidentTag.tag, number)
        .join(Resident, col(Resident.id) == ResidentTag.resident_id)
        .where(scope.scope_filter(actor, READ, Resident.unit_id))
        .where(Resident.status == "active")
        .group_by(ResidentTag.tag)
        .order_by(number.desc(), ResidentTag.tag)
        .limit(limit)
    )
    return [(str(tag), int(count)) for tag, count in rows]
