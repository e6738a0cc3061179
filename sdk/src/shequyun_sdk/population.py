"""Set-based, scope-filtered queries over residents and households (政策找人 and the like).

:meth:`search_residents <shequyun_sdk.Platform.search_residents>` hands a plugin one page of
residents at a time, as dicts. A plugin that must answer a question about *everyone* an actor may
reach — "who over 65 and registered here has no allowance yet?" over a million residents — needs
the question to run in the database instead. :meth:`Platform.resident_population
<shequyun_sdk.Platform.resident_population>` gives it a :class:`Population`: the residents the
actor reaches with a permission, as SQLAlchemy expressions to compose conditions over and
select from. The scope condition is the kernel's and is always part of :meth:`Population.select`,
so a plugin cannot widen it.

Column names here are a published contract, independent of the kernel's table layout:

``resident_id``, ``unit_id`` (the committee), ``birth_date``, ``gender`` (``male``/``female``),
``registration`` (``huji``/``changzhu``/``liudong``), ``household_id``, ``address_id``.

Household facts (one row per household, over its active members) are ``household_members``,
``household_youngest_birth`` and ``household_oldest_birth``; select with ``households=True``
to have them joined. Age arithmetic in Python and in SQL must agree to the day (29 February
included): use :func:`age_on` in Python and :meth:`Population.age_at_least` in SQL, which are
built on the same :func:`years_before`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .identity import UnitRef

__all__ = ["ATTRIBUTE_TYPES", "Population", "age_on", "years_before"]

#: How :meth:`Population.attribute` may read a plugin attribute's JSON value.
ATTRIBUTE_TYPES = ("string", "integer", "number", "boolean")


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29 February that is missing).

    A person born on or before ``years_before(day, n)`` is ``n`` or older on ``day``.
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day`` (周岁), as the Chinese ID and benefit rules count them."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class Population:
    """The active residents an actor reaches with a permission, as SQL to compose.

    Built by the kernel (never construct it yourself). Use its columns in conditions and
    :meth:`select` to query::

        people = platform.resident_population(actor, permission="advisors.outreach")
        old = people.age_at_least(65, on=date.today())
        query = people.select(people.resident_id).where(old, people.has_tag("独居老人"))
        with platform.session() as session:
            ids = session.exec(query).all()

    Every query from :meth:`select` carries the scope condition (the kernel's scope filter on
    the resident's committee, ``status = active``, and ``within`` when given), so it can only
    narrow what the actor may read.
    """

    resident_id: Any
    unit_id: Any
    birth_date: Any
    gender: Any
    registration: Any
    household_id: Any
    address_id: Any
    household_members: Any
    household_youngest_birth: Any
    household_oldest_birth: Any
    #: The condition every query carries: scope, active records, ``within``.
    scope: Any
    _source: Any
    _households: Any
    _has_tag: Callable[[str], Any]
    _attribute: Callable[[str, str], Any]
    _in_unit: Callable[[UnitRef], Any]

    def select(self, *columns: Any, households: bool = False) -> Any:
        """``SELECT columns FROM residents [LEFT JOIN household facts] WHERE scope``.

        Add conditions with ``.where(...)``, ``.order_by(...)``, ``.limit(...)`` as for any
        SQLAlchemy select; run it with ``session.exec(query)``. With ``households`` the
        household columns are joined (residents without a household get NULLs there).
        """
        from sqlalchemy import select

        source = self._source
        if households:
            source = source.outerjoin(
                self._households, self._households.c.household_id == self.household_id
            )
        return select(*columns).select_from(source).where(self.scope)

    def has_tag(self, tag: str) -> Any:
        """True for residents carrying ``tag`` from the managed vocabulary (``残疾``)."""
        return self._has_tag(tag)

    def attribute(self, key: str, as_type: str = "string") -> Any:
        """A plugin attribute's value (``"advisors.disability_grade"``), NULL when absent.

        ``as_type`` is one of :data:`ATTRIBUTE_TYPES`; the value is read from the record's
        JSON the same way on SQLite and PostgreSQL.
        """
        if as_type not in ATTRIBUTE_TYPES:
            raise ValueError(f"as_type must be one of {ATTRIBUTE_TYPES}")
        if key.count(".") != 1:
            raise ValueError("attribute keys are '<plugin>.<name>'")
        return self._attribute(key, as_type)

    def age_at_least(self, years: int, on: date) -> Any:
        """True for residents aged ``years`` or more on ``on`` (NULL birth dates give NULL)."""
        return self.birth_date <= years_before(on, years)

    def younger_than(self, years: int, on: date) -> Any:
        """True for residents not yet ``years`` old on ``on``."""
        return self.birth_date > years_before(on, years)

    def in_unit(self, unit: UnitRef) -> Any:
        """True for residents whose committee is ``unit`` or lies below it."""
        return self._in_unit(unit)
