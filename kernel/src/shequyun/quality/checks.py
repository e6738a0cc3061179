"""The checks a quality rule can name, each one set-based query over the resident tables.

A rule is data (:mod:`.rules`): a ``check`` from :data:`CHECKS` and its ``params``. Each check
builds one ``SELECT`` of the residents the rule holds for, with the columns a finding needs
(``resident_id, household_id, unit_id, group_key``), in SQL that SQLite and PostgreSQL both
run. The outer query always reads :data:`R` (the resident table itself, not an alias), so the
engine can narrow any check the same way: to a rule's area, to the residents an event touched,
and past the waivers.

``touched`` (a subquery of resident ids, or None for a full scan) narrows the inner groupings
too, so keeping findings current after one update reads a few index entries, not the city.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    distinct,
    exists,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from ..residents.models import REGISTRATIONS, Resident, ResidentTag
from .models import Confirmation

__all__ = ["CHECKS", "KINDS", "Check", "Context", "R", "since_values", "years_ago"]

R: Table = Resident.__table__  # type: ignore[attr-defined]
_TAG: Table = ResidentTag.__table__  # type: ignore[attr-defined]
_CONFIRMED: Table = Confirmation.__table__  # type: ignore[attr-defined]

#: The four kinds of rule, as the pages name them.
KINDS = {
    "completeness": "完整性",
    "plausibility": "合理性",
    "consistency": "一致性",
    "freshness": "时效性",
}

#: Fields a completeness rule can ask for (the database itself refuses a record without a name,
#: gender, birth date or ID number, so those need no rule).
MISSING_FIELDS = {"phone": "联系电话", "address": "居住地址", "household": "家庭户"}


@dataclass(frozen=True)
class Context:
    """What a check needs besides its parameters: the day (Beijing time) and the moment."""

    today: date
    now: datetime
    #: The residents to narrow to: ids, an expanding bound parameter, or None for everyone.
    touched: Any = None


Builder = Callable[[Mapping[str, Any], Context], Select[Any]]


@dataclass(frozen=True)
class Check:
    """A kind of test a rule can run: its kind, its parameters' schema and its query."""

    name: str
    kind: str
    title: str
    schema: dict[str, Any]
    build: Builder
    household: bool = False  # its findings stand for a household
    timely: bool = False  # its answer changes with the date alone (run daily)


def years_ago(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _months_ago(moment: datetime, months: int) -> datetime:
    return moment - timedelta(days=round(months * 30.44))


def _active(params: Mapping[str, Any], table: Any = R) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [table.c.status == "active"]
    registrations = params.get("registrations")
    if registrations:
        conditions.append(table.c.registration.in_(list(registrations)))
    return conditions


def _columns(group_key: Any = None) -> list[Any]:
    key = cast(null(), Integer) if group_key is None else group_key
    return [R.c.id, R.c.household_id, R.c.unit_id, key.label("group_key")]


def _missing(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    column = {"phone": R.c.phone_hash, "address": R.c.address_id, "household": R.c.household_id}[
        params["field"]
    ]
    return select(*_columns()).where(*_active(params), column.is_(None))


def _age_over(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    # Older than ``years``: the (years + 1)th birthday has passed.
    born_by = years_ago(ctx.today, int(params["years"]) + 1)
    return select(*_columns()).where(*_active(params), R.c.birth_date <= born_by)


def _household_head_under(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    # The records keep no 户主: a household whose oldest member is under ``years`` has a head
    # under that age, whoever it is. The oldest member stands for the household.
    born_after = years_ago(ctx.today, int(params["years"]))
    member = R.alias("member")
    households = select(
        member.c.household_id.label("hid"), func.min(member.c.birth_date).label("born")
    ).where(member.c.status == "active", member.c.household_id.is_not(None))
    if ctx.touched is not None:
        households = households.where(
            member.c.household_id.in_(select(R.c.household_id).where(R.c.id.in_(ctx.touched)))
        )
    young = (
        households.group_by(member.c.household_id)
        .having(func.min(member.c.birth_date) > born_after)
        .subquery("young")
    )
    oldest = R.alias("oldest")
    heads = (
        select(func.min(oldest.c.id).label("rid"))
        .select_from(
            oldest.join(
                young,
                and_(oldest.c.household_id == young.c.hid, oldest.c.birth_date == young.c.born),
            )
        )
        .where(oldest.c.status == "active")
        .group_by(young.c.hid)
    )
    return select(*_columns(R.c.household_id)).where(R.c.id.in_(heads))


def _tagged(tag: str) -> ColumnElement[bool]:
    return exists(select(1).where(_TAG.c.resident_id == R.c.id, _TAG.c.tag == tag))


def _tag_with_household_members(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    other = R.alias("other")
    others = exists(
        select(1).where(
            other.c.household_id == R.c.household_id,
            other.c.id != R.c.id,
            other.c.status == "active",
        )
    )
    return select(*_columns(R.c.household_id)).where(
        *_active(params), R.c.household_id.is_not(None), _tagged(params["tag"]), others
    )


def _tag_without_household(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    return select(*_columns()).where(
        *_active(params), R.c.household_id.is_(None), _tagged(params["tag"])
    )


def _same_person_active(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    # The ID number is unique among active records (the database sees to it), so the same
    # person twice means the same name, gender and birth date under two ID numbers.
    twin = R.alias("twin")
    groups = select(
        twin.c.name, twin.c.gender, twin.c.birth_date, func.min(twin.c.id).label("key")
    ).where(*_active(params, twin))
    if ctx.touched is not None:
        near = select(R.c.name, R.c.birth_date).where(R.c.id.in_(ctx.touched))
        groups = groups.where(
            twin.c.name.in_(near.with_only_columns(R.c.name)),
            twin.c.birth_date.in_(near.with_only_columns(R.c.birth_date)),
        )
    same = (
        groups.group_by(twin.c.name, twin.c.gender, twin.c.birth_date)
        .having(func.count() > 1)
        .subquery("same")
    )
    return (
        select(*_columns(same.c.key))
        .select_from(
            R.join(
                same,
                and_(
                    R.c.name == same.c.name,
                    R.c.gender == same.c.gender,
                    R.c.birth_date == same.c.birth_date,
                ),
            )
        )
        .where(*_active(params))
    )


def _shared_phone(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    # Residents of one household share a landline; a phone on many households is suspicious.
    holder = R.alias("holder")
    groups = select(holder.c.phone_hash, func.min(holder.c.id).label("key")).where(
        holder.c.status == "active", holder.c.phone_hash.is_not(None)
    )
    if ctx.touched is not None:
        groups = groups.where(
            holder.c.phone_hash.in_(select(R.c.phone_hash).where(R.c.id.in_(ctx.touched)))
        )
    households = func.coalesce(holder.c.household_id, -holder.c.id)
    shared = (
        groups.group_by(holder.c.phone_hash)
        .having(func.count(distinct(households)) >= int(params["min_households"]))
        .subquery("shared")
    )
    return (
        select(*_columns(shared.c.key))
        .select_from(R.join(shared, R.c.phone_hash == shared.c.phone_hash))
        .where(*_active(params))
    )


def since_values(rules: Iterable[Any], now: datetime) -> dict[str, datetime]:
    """The values of the ``since_<months>`` parameters the freshness checks of ``rules`` bind
    (a statement built once for a day is run with each moment's values)."""
    months = {int(r.params["months"]) for r in rules if r.check == "not_confirmed"}
    return {f"since_{m}": _months_ago(now.astimezone(UTC), m) for m in months}


def _not_confirmed(params: Mapping[str, Any], ctx: Context) -> Select[Any]:
    months = int(params["months"])
    # A parameter, not a value: the refresh after an event keeps its statement for the day.
    since = bindparam(
        f"since_{months}",
        _months_ago(ctx.now.astimezone(UTC), months),
        type_=DateTime(timezone=True),
    )
    confirmed = exists(
        select(1).where(_CONFIRMED.c.resident_id == R.c.id, _CONFIRMED.c.confirmed_at >= since)
    )
    return select(*_columns()).where(*_active(params), R.c.updated_at < since, ~confirmed)


_REGISTRATIONS = {
    "type": "array",
    "items": {"enum": sorted(REGISTRATIONS)},
    "uniqueItems": True,
    "minItems": 1,
}


def _schema(required: dict[str, Any], registrations: bool = True) -> dict[str, Any]:
    properties = dict(required)
    if registrations:
        properties["registrations"] = _REGISTRATIONS
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(required),
        "additionalProperties": False,
    }


_TAG_PARAM = {"tag": {"type": "string", "minLength": 1, "maxLength": 60}}

CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check(
            "missing",
            "completeness",
            "缺少某项信息",
            _schema({"field": {"enum": sorted(MISSING_FIELDS)}}),
            _missing,
        ),
        Check(
            "age_over",
            "plausibility",
            "年龄超过某岁",
            _schema({"years": {"type": "integer", "minimum": 1, "maximum": 150}}),
            _age_over,
            timely=True,
        ),
        Check(
            "household_head_under",
            "plausibility",
            "户主未满某岁（户内无此年龄以上成员）",
            _schema({"years": {"type": "integer", "minimum": 1, "maximum": 30}}, False),
            _household_head_under,
            household=True,
            timely=True,
        ),
        Check(
            "tag_with_household_members",
            "plausibility",
            "带某标签但户内还有其他成员",
            _schema(_TAG_PARAM),
            _tag_with_household_members,
            household=True,
        ),
        Check(
            "tag_without_household",
            "plausibility",
            "带某标签但未归入家庭户",
            _schema(_TAG_PARAM),
            _tag_without_household,
        ),
        Check(
            "same_person_active",
            "consistency",
            "同一人有两条在册记录",
            _schema({}),
            _same_person_active,
        ),
        Check(
            "shared_phone",
            "consistency",
            "同一电话登记在多户名下",
            _schema({"min_households": {"type": "integer", "minimum": 2, "maximum": 1000}}, False),
            _shared_phone,
        ),
        Check(
            "not_confirmed",
            "freshness",
            "超过若干个月未核实",
            _schema({"months": {"type": "integer", "minimum": 1, "maximum": 120}}),
            _not_confirmed,
            timely=True,
        ),
    )
}


def or_none(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    """The OR of the conditions that are not None (None when none is)."""
    present = [c for c in conditions if c is not None]
    return or_(*present) if present else None
