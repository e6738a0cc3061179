"""Reading residents: search, one record, masked views, history, and revealing a field.

Scope is applied here, not by callers: lists are filtered with the kernel's scope filter and
single records are checked with the same rule (``scope.can``), answering "not found" for
records outside the actor's reach so that their existence does not leak. Sensitive fields are
masked in every view; revealing one is audited.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import orjson
from shequyun_sdk import Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import Connection, and_, func, tuple_, union_all
from sqlmodel import Session, col, select

from ..collation import pinyin
from ..events import EventBus
from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from . import id_walk, tally, unit_walk
from .crypto import FieldCipher
from .idnumber import normalize_id, normalize_phone
from .list_page import PAGE_FROM, page_columns, plain_page
from .models import (
    GENDERS,
    REGISTRATIONS,
    Address,
    Household,
    Resident,
    ResidentChange,
    ResidentTag,
    address_label,
)
from .name_search import name_contains
from .vocabulary import AttributeSpec, ResidentVocabulary

__all__ = [
    "API_SORTS",
    "COUNT_CAP",
    "MAX_PAGE",
    "READ",
    "REVEAL",
    "SORTS",
    "Count",
    "Page",
    "ResidentFilters",
    "ResidentReader",
    "decode_cursor",
    "encode_cursor",
]

READ = "residents.read"
REVEAL = "residents.reveal"
MAX_PAGE = 500
#: Matches counted one by one at most; past it a list says "more than" (超过).
COUNT_CAP = 10_000


@dataclass(frozen=True)
class ResidentFilters:
    """What a search may ask for; every field optional."""

    q: str | None = None
    tags: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    compound: str | None = None
    building: str | None = None
    registration: str | None = None
    unit_code: str | None = None
    id_number: str | None = None
    phone: str | None = None
    status: str = "active"
    #: Only these residents (a selection on the list, at most ``batch.MAX_BATCH``).
    ids: tuple[int, ...] = ()


#: Orders of the resident list: key -> ORDER BY (the id breaks ties). Names in pinyin order
#: (按姓氏拼音, collation.py).
SORTS: dict[str, tuple[Any, ...]] = {
    "": (),
    "name": (pinyin(col(Resident.name)),),
    "-name": (pinyin(col(Resident.name)).desc(),),
    "age": (col(Resident.birth_date),),  # oldest first
    "-age": (col(Resident.birth_date).desc(),),
    "address": (
        col(Address.compound),
        col(Address.building),
        col(Address.entrance),
        col(Address.room),
    ),
    "-address": (
        col(Address.compound).desc(),
        col(Address.building).desc(),
        col(Address.entrance).desc(),
        col(Address.room).desc(),
    ),
}


#: Orders of the API's list (``sort``): key -> the column after which the id breaks ties; a
#: ``-`` in front is the same order reversed. Empty or ``created`` is registration order;
#: names are in pinyin order (collation.py).
API_SORTS: dict[str, Any] = {
    "created": col(Resident.id),
    "name": pinyin(col(Resident.name)),
    "updated": col(Resident.updated_at),
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class Count:
    """How many residents match: ``n`` exactly, or more than ``n`` when not ``exact``."""

    n: int
    exact: bool = True


class ResidentReader:
    """The reading half of :class:`~.service.ResidentService` (which adds the writes)."""

    def __init__(
        self, cipher: FieldCipher, vocabulary: ResidentVocabulary, events: EventBus
    ) -> None:
        self.cipher = cipher
        self.vocabulary = vocabulary
        self.events = events

    def search(
        self,
        session: Session | Connection,
        actor: Actor | None,
        filters: ResidentFilters,
        *,
        after: str | None = None,
        limit: int = 50,
        permission: str = READ,
        sort: str = "",
    ) -> Page:
        """One page of the residents ``actor`` may see matching ``filters`` (keyset by id, or
        by ``sort``, one of :data:`API_SORTS`, then id).

        ``session`` may be a plain connection: a page is one statement of plain columns, and
        the API's list reads on a connection rather than paying for a session it does not use.
        """
        return self._page(
            session, actor, filters, after, limit, permission, dates_as_text=True, sort=sort
        )

    def page_document(
        self,
        connection: Connection,
        actor: Actor | None,
        filters: ResidentFilters,
        *,
        after: str | None = None,
        limit: int = 50,
        sort: str = "",
    ) -> bytes:
        """The API's answer for one page of :meth:`search`, ``{"items", "next_cursor"}``,
        encoded as JSON in one pass.

        The items are :meth:`search`'s with the dates left as dates for orjson to write, which
        writes the text ``isoformat()`` does, without a string made per date first (two per
        resident, about a quarter of the time the views take)."""
        page = self._page(
            connection, actor, filters, after, limit, READ, dates_as_text=False, sort=sort
        )
        return orjson.dumps({"items": page.items, "next_cursor": page.next_cursor})

    def _page(
        self,
        session: Session | Connection,
        actor: Actor | None,
        filters: ResidentFilters,
        after: str | None,
        limit: int,
        permission: str,
        *,
        dates_as_text: bool,
        sort: str = "",
    ) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        key = sort.removeprefix("-")
        if sort and key not in API_SORTS:
            raise ValidationFailed(
                "sort 应为 " + "、".join(k for s in API_SORTS for k in (s, f"-{s}")) + " 之一",
                field="sort",
            )
        if sort not in ("", "created"):
            return self._sorted_page(
                session, actor, filters, after, limit, permission, sort, dates_as_text
            )
        last = None if after is None else decode_cursor(after)
        connection = session if isinstance(session, Connection) else session.connection()
        postgres = connection.dialect.name == "postgresql"
        if filters == ResidentFilters(status=filters.status):
            reach, value = scope.scope_reach(actor, permission)
            query: Any = plain_page(postgres, reach, filters.status, last is not None)
            params = {"scope": value, "status": filters.status, "after": last, "limit": limit + 1}
        else:
            query = select(*page_columns(postgres)).select_from(PAGE_FROM)
            query = self._apply_filters(
                query.where(scope.scope_filter(actor, permission, Resident.unit_id)), filters
            )
            if last is not None:
                query = query.where(col(Resident.id) > last)
            query, params = query.order_by(col(Resident.id)).limit(limit + 1), {}
        rows = connection.execute(query, params).all()
        items = self._items(rows[:limit], dates_as_text)
        next_cursor = encode_cursor(items[-1]["id"]) if len(rows) > limit and items else None
        return Page(items, next_cursor)

    def _sorted_page(
        self,
        session: Session | Connection,
        actor: Actor | None,
        filters: ResidentFilters,
        after: str | None,
        limit: int,
        permission: str,
        sort: str,
        dates_as_text: bool,
    ) -> Page:
        """A page in ``sort`` order (:data:`API_SORTS`), the id breaking ties, keyset on both:
        the cursor holds the last row's sort value and id, so a walk neither skips nor repeats
        a record that does not change while it goes (one changed meanwhile may move)."""
        descending, key = sort.startswith("-"), sort.removeprefix("-")
        column, rid = API_SORTS[key], col(Resident.id)
        connection = session if isinstance(session, Connection) else session.connection()
        last_seen: tuple[Any, int] | None = None
        if after is not None:
            text, last = _decode_sorted_cursor(after, sort)
            value: Any = (
                _moment(text) if key == "updated" else _number(text) if key == "created" else text
            )
            last_seen = (value, last)
        ids = None
        if (
            key == "name"
            and isinstance(session, Session)
            and filters == ResidentFilters(status=filters.status)
        ):
            # Above a committee: each unit's first names from its index, not the whole scope.
            ids = unit_walk.first_ids(
                session,
                actor,
                permission,
                filters.status,
                through=limit + 1,
                descending=descending,
                after=last_seen,
            )
        # Rows found by id are kept in scope without the unit index (unit_id + 0).
        unit = col(Resident.unit_id) if ids is None else col(Resident.unit_id) + 0
        query = select(*page_columns(connection.dialect.name == "postgresql"))
        query = self._apply_filters(
            query.select_from(PAGE_FROM).where(scope.scope_filter(actor, permission, unit)),
            filters,
        )
        if ids is not None:
            query = query.where(col(Resident.id).in_(ids))
        if last_seen is not None:
            # One row comparison, not "beyond or tied": PostgreSQL takes it as where to start
            # walking the index of (unit_id, name COLLATE kernel_pinyin, id).
            here, there = tuple_(column, rid), tuple_(*last_seen)
            query = query.where(here < there if descending else here > there)
        order = (column.desc(), rid.desc()) if descending else (column, rid)
        rows = connection.execute(query.order_by(*order).limit(limit + 1)).all()
        items = self._items(rows[:limit], dates_as_text)
        next_cursor = None
        if len(rows) > limit and items:
            value = items[-1][{"name": "name", "updated": "updated_at"}.get(key, "id")]
            text = (
                value
                if isinstance(value, str)
                else str(value)
                if isinstance(value, int)
                else value.isoformat()
            )
            next_cursor = _encode_sorted_cursor(sort, text, items[-1]["id"])
        return Page(items, next_cursor)

    def _items(self, rows: Sequence[Any], dates_as_text: bool) -> list[dict[str, Any]]:
        shown, today, shape = _shown(self.vocabulary.active_attributes()), date.today(), self._shape
        loads = orjson.loads
        return [
            shape(row, sorted(loads(row[-1])) if row[-1] else [], shown, today, dates_as_text)
            for row in rows
        ]

    def numbered_page(
        self,
        session: Session,
        actor: Actor | None,
        filters: ResidentFilters,
        *,
        sort: str = "",
        page: int = 1,
        size: int = 50,
    ) -> tuple[list[dict[str, Any]], Count]:
        """Page ``page`` of the residents ``actor`` may see, ordered by ``sort``, and how many
        there are (:meth:`count`). ``sort`` is one of :data:`SORTS` (registration order when
        empty)."""
        if sort not in SORTS:
            raise ValidationFailed(
                f"sort 应为 {'、'.join(k for k in SORTS if k)} 之一", field="sort"
            )
        size = max(1, min(size, MAX_PAGE))
        count = self.count(session, actor, filters)
        query = self.scoped_query(actor, filters)
        if not sort and count.exact and id_walk.pays(session, actor, count.n, page * size):
            # Registration order over a big part of the city: walk the ids from the first
            # one in scope and keep those in scope (unit_id + 0: no index), which stops after
            # the page, rather than reading the whole subtree by unit and sorting it.
            first = session.exec(id_walk.first_id_in_scope(actor)).one()
            query = self.scoped_query(actor, filters, unit_column=col(Resident.unit_id) + 0)
            query = query.where(col(Resident.id) >= (first or 0))
        by = sort.removeprefix("-")
        if by in unit_walk.ORDERS and filters == ResidentFilters(status=filters.status):
            # Above a committee: each unit's first rows from its index, not the whole scope.
            ids = unit_walk.first_ids(
                session,
                actor,
                READ,
                filters.status,
                by=by,
                through=page * size,
                descending=sort.startswith("-"),
                ids_descending=False,  # the portal breaks ties by the id, ascending
            )
            if ids is not None:  # found by id, kept in scope (unit_id + 0: not by the unit)
                query = self.scoped_query(actor, filters, unit_column=col(Resident.unit_id) + 0)
                query = query.where(col(Resident.id).in_(ids))
        if sort in ("address", "-address"):
            query = query.outerjoin(Address, col(Address.id) == col(Resident.address_id))
        order = [*SORTS[sort], col(Resident.id)]
        rows = list(session.exec(query.order_by(*order).offset((page - 1) * size).limit(size)))
        return self.views(session, rows), count

    def count(
        self,
        session: Session,
        actor: Actor | None,
        filters: ResidentFilters,
        *,
        cap: int = COUNT_CAP,
    ) -> Count:
        """How many residents ``actor`` may see match ``filters``.

        Exact from the resident tallies for the lists a level opens with (everyone in scope,
        one committee, one tag); any other search is counted up to ``cap`` matches, so that a
        broad search of the city stops counting early and says "more than ``cap``".
        """
        tallied = self._tallied(session, actor, filters)
        if tallied is not None:
            return Count(tallied)
        ids = self.scoped_query(actor, filters).with_only_columns(col(Resident.id))
        n = int(session.exec(select(func.count()).select_from(ids.limit(cap + 1).subquery())).one())
        return Count(min(n, cap), n <= cap)

    def _tallied(self, session: Session, actor: Actor | None, f: ResidentFilters) -> int | None:
        """The count from the tallies, when ``f`` asks for one of their rows; else None."""
        if replace(f, unit_code=None, tags=()) != ResidentFilters() or len(f.tags) > 1:
            return None
        if f.unit_code and f.tags:
            return None
        unit_id = tally.scope_unit(actor, READ)
        if unit_id is None or not tally.fresh(session):
            return None
        if f.unit_code:
            unit = session.exec(select(OrgUnit).where(OrgUnit.code == f.unit_code)).first()
            if unit is None:
                return 0  # as the search: a code of no unit names nobody
            if not scope.can(actor, READ, unit_ref(unit)):
                return None  # above the scope (a cadre naming their street): the search counts
            assert unit.id is not None
            unit_id = unit.id  # the tallies hold every unit's subtree, a street's as a committee's
        measure, key = (tally.TAG, f.tags[0]) if f.tags else (tally.TOTAL, "")
        return tally.read(session, unit_id, measure).get(key, 0)

    def scoped_query(
        self,
        actor: Actor | None,
        filters: ResidentFilters,
        permission: str = READ,
        unit_column: Any = None,
    ) -> Any:
        """The filtered query (unordered) restricted to what ``actor`` may reach.

        ``unit_column`` stands for ``Resident.unit_id`` in the scope condition (an expression
        of it, to steer the database's plan; the rows are the same)."""
        unit = Resident.unit_id if unit_column is None else unit_column
        query = select(Resident).where(scope.scope_filter(actor, permission, unit))
        return self._apply_filters(query, filters)

    def _apply_filters(self, query: Any, f: ResidentFilters) -> Any:
        if f.status != "any":
            query = query.where(Resident.status == f.status)
        if f.ids:  # ids beyond 32 bits name nobody (and PostgreSQL refuses to compare them)
            query = query.where(col(Resident.id).in_([i for i in f.ids if i < 2**31]))
        if f.q:
            query = query.where(name_contains(col(Resident.name), f.q.strip()))
        for tag in f.tags:
            query = query.where(
                col(Resident.id).in_(select(ResidentTag.resident_id).where(ResidentTag.tag == tag))
            )
        today = date.today()
        if f.age_min is not None:
            query = query.where(col(Resident.birth_date) <= _years_before(today, f.age_min))
        if f.age_max is not None:
            query = query.where(col(Resident.birth_date) > _years_before(today, f.age_max + 1))
        if f.compound or f.building:
            addresses = select(Address.id)
            if f.compound:
                addresses = addresses.where(Address.compound == f.compound)
            if f.building:
                addresses = addresses.where(Address.building == f.building)
            query = query.where(col(Resident.address_id).in_(addresses))
        if f.registration:
            query = query.where(Resident.registration == f.registration)
        if f.unit_code:
            query = query.where(col(Resident.unit_id).in_(units_under(f.unit_code)))
        if f.id_number:
            wanted = self.cipher.lookup_hash(normalize_id(f.id_number))
            query = query.where(Resident.id_number_hash == wanted)
        if f.phone:
            query = query.where(
                Resident.phone_hash == self.cipher.lookup_hash(normalize_phone(f.phone))
            )
        return query

    def get(
        self, session: Session, actor: Actor | None, resident_id: int, permission: str = READ
    ) -> Resident:
        """The resident, if ``actor`` holds ``permission`` on its committee; else NotFound."""
        resident = session.get(Resident, resident_id)
        if resident is None:
            raise NotFound("找不到该居民")
        unit = session.get(OrgUnit, resident.unit_id)
        assert unit is not None
        if not scope.can(actor, permission, unit_ref(unit)):
            if scope.can(actor, READ, unit_ref(unit)):
                raise Forbidden("您没有权限对该居民执行此操作")
            raise NotFound("找不到该居民")
        return resident

    def view_of(
        self, session: Session, actor: Actor | None, resident_id: int, permission: str = READ
    ) -> dict[str, Any]:
        """The view of one resident ``actor`` reaches with ``permission`` (see :meth:`get`)."""
        return self.view(session, self.get(session, actor, resident_id, permission))

    def views(self, session: Session, residents: Sequence[Resident]) -> list[dict[str, Any]]:
        """API views (sensitive fields masked) of ``residents``, in the same order.

        Two queries whatever the page size: the committees, addresses and households of the
        page in one joined query, the tags in another.
        """
        if not residents:
            return []
        ids = [r.id for r in residents]
        tags: dict[int, list[str]] = {}
        for resident_id, tag in session.exec(
            select(ResidentTag.resident_id, ResidentTag.tag).where(
                col(ResidentTag.resident_id).in_(ids)
            )
        ):
            tags.setdefault(resident_id, []).append(tag)
        placed = {
            resident_id: (unit, address, household)
            for resident_id, unit, address, household in session.exec(
                select(col(Resident.id), OrgUnit, Address, Household)
                .join(OrgUnit, col(OrgUnit.id) == Resident.unit_id)
                .outerjoin(Address, col(Address.id) == Resident.address_id)
                .outerjoin(Household, col(Household.id) == Resident.household_id)
                .where(col(Resident.id).in_(ids))
            )
        }
        return [
            self._view(r, *placed[r.id or 0], sorted(tags.get(r.id or 0, []))) for r in residents
        ]

    def _view(
        self,
        r: Resident,
        unit: OrgUnit,
        address: Address | None,
        household: Household | None,
        tags: list[str],
    ) -> dict[str, Any]:
        placed = (
            (None, None, None, None)
            if address is None
            else (address.compound, address.building, address.entrance, address.room)
        )
        values = (
            *(r.id, r.name, r.gender, r.birth_date, r.id_number_masked, r.phone_masked),
            *(r.registration, r.extra, r.status, r.version, r.updated_at),
            None if address is None else address.id,
            None if household is None else household.id,
            unit.code,
            unit.name,
            *placed,
            None if household is None else household.number,
            None,  # the page query's tags column; the tags come as a list here
        )
        return self._shape(values, tags, _shown(self.vocabulary.active_attributes()), date.today())

    def _shape(
        self,
        values: Sequence[Any],
        tags: list[str],
        shown: list[_Shown],
        today: date,
        dates_as_text: bool = True,
    ) -> dict[str, Any]:
        """The API view of a resident, sensitive fields masked: the one place its shape is
        written. ``values`` are in the order of :func:`.list_page.page_columns` (a page row, or what
        :meth:`_view` gathers from the ORM objects); ``shown`` (the active attributes,
        :func:`_shown`) and ``today`` are looked up once per page. Without ``dates_as_text``
        the birth date and ``updated_at`` stay dates, for an encoder that writes them as
        ``isoformat()`` does (:meth:`page_document`)."""
        (resident_id, name, gender, born, id_number, phone, registration, extra, status) = values[
            :9
        ]
        (version, updated_at, address_id, household_id, unit_code, unit_name) = values[9:15]
        (compound, building, entrance, room, household_number) = values[15:20]
        attributes: dict[str, Any] = {}
        for plugin, attribute, sensitive, key in shown:
            value = extra.get(plugin, {}).get(attribute)
            if sensitive and value is not None:
                value = "******"
            attributes[key] = value
        return {
            "id": resident_id,
            "name": name,
            "gender": gender,
            "gender_label": GENDERS.get(gender, gender),
            "birth_date": born.isoformat() if dates_as_text else born,
            "age": today.year - born.year - ((today.month, today.day) < (born.month, born.day)),
            "id_number": id_number,
            "phone": phone,
            "registration": registration,
            "registration_label": REGISTRATIONS.get(registration, registration),
            "unit": {"code": unit_code, "name": unit_name},
            "address": None
            if address_id is None
            else {
                "compound": compound,
                "building": building,
                "entrance": entrance,
                "room": room,
                "label": address_label(compound, building, entrance, room),
            },
            "household": None
            if household_id is None
            else {"id": household_id, "number": household_number},
            "tags": tags,
            "attributes": attributes,
            "status": status,
            "version": version,
            "updated_at": updated_at.isoformat() if dates_as_text else updated_at,
        }

    def view(self, session: Session, resident: Resident) -> dict[str, Any]:
        return self.views(session, [resident])[0]

    def history(
        self, session: Session, actor: Actor | None, resident_id: int
    ) -> list[dict[str, Any]]:
        self.get(session, actor, resident_id)
        rows = session.exec(
            select(ResidentChange)
            .where(ResidentChange.resident_id == resident_id)
            .order_by(col(ResidentChange.id))
        )
        return [
            {
                "version": c.version,
                "at": c.at.isoformat(),
                "actor": c.actor_username,
                "grant_id": c.grant_id,
                "source": c.source,
                "field": c.field,
                "old": c.old_value,
                "new": c.new_value,
            }
            for c in rows
        ]

    def reveal(
        self, session: Session, actor: Actor | None, resident_id: int, *, fields: Any, reason: Any
    ) -> dict[str, str | None]:
        """Decrypt sensitive fields for an actor allowed to see them; audited."""
        allowed = {"id_number", "phone"}
        if (
            not isinstance(fields, list)
            or not fields
            or not all(isinstance(f, str) for f in fields)
            or not set(fields) <= allowed
        ):
            raise ValidationFailed("fields 应为 id_number、phone 中的一个或多个", field="fields")
        if not isinstance(reason, str) or len(reason.strip()) < 2 or len(reason) > 200:
            raise ValidationFailed("请说明查看原因（2-200 个字）", field="reason")
        resident = self.get(session, actor, resident_id, REVEAL)
        shown: dict[str, str | None] = {}
        if "id_number" in fields:
            shown["id_number"] = self.cipher.decrypt(resident.id_number_enc)
        if "phone" in fields:
            shown["phone"] = self.cipher.decrypt(resident.phone_enc) if resident.phone_enc else None
        audit.record(
            session,
            "resident.revealed",
            actor=actor,
            target_type="resident",
            target_id=resident.id,
            unit_id=resident.unit_id,
            detail={"fields": sorted(fields), "reason": reason.strip()},
        )
        return shown


#: What a view shows of one attribute: plugin, attribute name, sensitive, key in the view.
_Shown = tuple[str, str, bool, str]


def _shown(specs: list[AttributeSpec]) -> list[_Shown]:
    return [(s.plugin, s.attribute.name, s.attribute.sensitive, s.key) for s in specs]


def units_under(code: str) -> Any:
    """The ids of the unit coded ``code`` and of every unit below it: a committee's code is
    that committee, a street's or a district's all their committees. The caller's scope
    bounds the query already, so a street above a cadre's committee gives that committee."""
    named = OrgUnit.__table__.alias("named")  # type: ignore[attr-defined]
    # The unit itself by its code (an index lookup), and the units below it only when it is
    # not a committee: the prefix join compares every unit's path (no index serves a pattern
    # taken from another row), 1.3 ms of PostgreSQL's time for 6,309 units, which a
    # committee's code, the common filter, now skips (the join's outer side is empty).
    itself = select(col(OrgUnit.id)).where(OrgUnit.code == code)
    below = (
        select(col(OrgUnit.id))
        .join(
            named,
            and_(col(OrgUnit.path).startswith(named.c.path), col(OrgUnit.id) != named.c.id),
        )
        .where(named.c.code == code, named.c.level != "committee")
    )
    return union_all(itself, below)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _encode_sorted_cursor(sort: str, value: str, last_id: int) -> str:
    raw = orjson.dumps(["s", sort, value, last_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_sorted_cursor(cursor: str, sort: str) -> tuple[str, int]:
    """The sort value and id a sorted page's cursor ends at; 422 naming ``cursor`` for
    anything else, a cursor of another order included."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (
            isinstance(raw, list)
            and len(raw) == 4
            and raw[:2] == ["s", sort]
            and isinstance(raw[2], str)
            and isinstance(raw[3], int)
            and 0 < raw[3] < 2**31
        ):
            return raw[2], raw[3]
    except (ValueError, orjson.JSONDecodeError):
        pass
    raise ValidationFailed("分页游标无效", field="cursor")


def _number(text: str) -> int:
    if text.isdigit() and int(text) < 2**31:
        return int(text)
    raise ValidationFailed("分页游标无效", field="cursor")


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("分页游标无效", field="cursor") from None


def encode_cursor(last_id: int, kind: str = "r") -> str:
    """The cursor of a page that ends at ``last_id`` (a resident's, or ``kind`` ``t`` a
    transfer's): opaque to clients, who send it back unchanged."""
    return base64.urlsafe_b64encode(f"{kind}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str = "r") -> int:
    """The id a cursor of ``kind`` (:func:`encode_cursor`) ends at; 422 naming ``cursor`` for
    anything else (another list's cursor included)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        # Ids are 32-bit: a bigger one is no cursor of ours (and PostgreSQL refuses to compare it).
        if raw.startswith(kind) and raw[1:].isdigit() and int(raw[1:]) < 2**31:
            return int(raw[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise ValidationFailed("分页游标无效", field="cursor")
