"""The resident tallies stay equal to the residents, counted by hand, after every kind of write.

The workbench's pyramid and tags and the resident list's count read the tallies at every level
(committee, street, district, city); each test here changes residents the ways the platform
does (register, edit, tag, transfer, remove, import, roll back, move a unit) and compares
what those readers say with the residents themselves.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlmodel import Session, select

from shequyun.identity import orgunits
from shequyun.identity.models import OrgUnit
from shequyun.residents import tally
from shequyun.residents.batch import retag
from shequyun.residents.importing import apply_import
from shequyun.residents.models import Resident, ResidentTag, ResidentTally
from shequyun.residents.reading import Count, ResidentFilters
from shequyun.workbench.counts import age_bands, band_labels, tag_counts

from ..portal.test_residents_pages import actor_of, register
from ._data import id_number
from .test_import import csv_bytes, good_rows

TODAY = date(2026, 11, 27)
W1, W2, XUHUI = "310115004001", "310115004002", "310104003001"


def expected(kernel, unit_code: str):
    """Bands, tags and total of the active residents under ``unit_code``, from the rows."""
    with Session(kernel.engine) as session:
        top = session.exec(select(OrgUnit).where(OrgUnit.code == unit_code)).one()
        units = {u.id for u in session.exec(select(OrgUnit)) if u.path.startswith(top.path)}
        people = [
            r
            for r in session.exec(select(Resident).where(Resident.status == "active"))
            if r.unit_id in units
        ]
        tags = Counter(
            tag
            for rid, tag in session.exec(select(ResidentTag.resident_id, ResidentTag.tag))
            if rid in {r.id for r in people}
        )
    bands = {label: [0, 0] for label in band_labels()}
    for r in people:
        age = (
            TODAY.year
            - r.birth_date.year
            - ((TODAY.month, TODAY.day) < (r.birth_date.month, r.birth_date.day))
        )
        bands[band_labels()[min(age // 5, 17)]][0 if r.gender == "male" else 1] += 1
    return (
        [(label, m, f) for label, (m, f) in bands.items()],
        sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])),
        len(people),
    )


def assert_counts_right(kernel, actors):
    with Session(kernel.engine) as session:
        assert tally.fresh(session)  # the figures below come from the tallies
        for test_actor in actors:
            actor = actor_of(kernel, test_actor)
            bands, tags, total = expected(kernel, test_actor.unit.code)
            assert age_bands(session, actor, TODAY) == bands, test_actor.unit.code
            assert tag_counts(session, actor) == tags, test_actor.unit.code
            counted = kernel.residents.count(session, actor, ResidentFilters())
            assert (counted.n, counted.exact) == (total, True), test_actor.unit.code
            for tag, n in tags:
                by_tag = kernel.residents.count(session, actor, ResidentFilters(tags=(tag,)))
                assert by_tag.n == n


@pytest.fixture
def levels(shequyun_actors):
    """A reader at each level: two committees, their street, the district, the city."""
    return [
        shequyun_actors.cadre(W1),
        shequyun_actors.cadre(W2),
        shequyun_actors.street_admin("310115004000"),
        shequyun_actors.district_admin("310115000000"),
        shequyun_actors.district_admin("310104000000"),
        shequyun_actors.platform_admin(),
    ]


def born(day: str, serial: int) -> str:
    return id_number(born=day, serial=f"{serial:03d}")


def test_registering_editing_moving_and_removing_keep_every_level_right(
    shequyun_kernel, shequyun_actors, levels
):
    cadre, neighbour = levels[0], levels[1]
    xuhui = shequyun_actors.cadre(XUHUI)
    ids = [
        register(shequyun_kernel, cadre, name="甲", id_number=born("19411127", 101)),  # 85 today
        register(shequyun_kernel, cadre, name="乙", id_number=born("19411128", 102), tags=[]),
        register(shequyun_kernel, neighbour, name="丙", id_number=born("20211127", 103)),
        register(
            shequyun_kernel,
            xuhui,
            name="丁",
            id_number=born("19900101", 104),
            tags=["低保", "党员"],
        ),
    ]
    assert_counts_right(shequyun_kernel, levels)
    service = shequyun_kernel.residents
    with Session(shequyun_kernel.engine) as session:
        writer = actor_of(shequyun_kernel, cadre)
        # a new ID number changes birth date and gender; new tags replace the old
        service.update(
            session,
            writer,
            ids[0],
            {"id_number": born("19801231", 106), "tags": ["党员", "志愿者"]},
            version=1,
            source="portal",
        )
        service.transfer(
            session,
            writer,
            ids[1],
            to_unit_code=XUHUI,
            effective_on=TODAY.isoformat(),
            reason="搬家",
            version=1,
            source="portal",
        )
        session.commit()
    with Session(shequyun_kernel.engine) as session:
        service.remove(
            session,
            actor_of(shequyun_kernel, neighbour),
            ids[2],
            version=1,
            reason="迁往外省",
            source="portal",
        )
        session.commit()
    assert_counts_right(shequyun_kernel, levels)


def test_a_batch_of_tags_is_counted(shequyun_kernel, levels):
    ids = [
        register(shequyun_kernel, levels[0], name=f"甲{n}", id_number=born("19500101", n))
        for n in (101, 103)
    ]
    with Session(shequyun_kernel.engine) as session:
        retag(
            shequyun_kernel.residents,
            session,
            actor_of(shequyun_kernel, levels[0]),
            ids,
            add=["志愿者"],
            remove=["独居老人"],
            source="portal",
        )
        session.commit()
    assert_counts_right(shequyun_kernel, levels)


def test_a_rolled_back_write_leaves_the_counts_alone(shequyun_kernel, levels):
    register(shequyun_kernel, levels[0], name="甲", id_number=born("19500101", 101))
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.residents.create(
            session,
            actor_of(shequyun_kernel, levels[0]),
            {"name": "乙", "id_number": born("19600101", 103), "registration": "户籍"},
            source="portal",
        )
        session.flush()
        session.rollback()
    assert_counts_right(shequyun_kernel, levels)


def test_an_import_written_without_the_orm_is_counted(shequyun_kernel, levels):
    cadre = actor_of(shequyun_kernel, levels[0])
    report = apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(7)), "a.csv")
    assert report.applied and report.created == 7
    assert_counts_right(shequyun_kernel, levels)


def tally_rows(session) -> dict[tuple[int, str, str], int]:
    return {
        (unit_id, measure, key): n
        for unit_id, measure, key, n in session.execute(
            select(ResidentTally.unit_id, ResidentTally.measure, ResidentTally.key, ResidentTally.n)
        )
        if n
    }


def test_committees_keep_no_ages_and_what_writes_keep_equals_a_rebuild(shequyun_kernel, levels):
    """A committee's pyramid is counted live (assert_counts_right checks it at W1 and W2), so
    its months of birth, about a row per resident, are not kept; the units above keep theirs."""
    register(shequyun_kernel, levels[1], name="甲", id_number=born("19500101", 101))
    cadre = actor_of(shequyun_kernel, levels[0])
    assert apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(7)), "a.csv").applied
    assert_counts_right(shequyun_kernel, levels)
    with Session(shequyun_kernel.engine) as session:
        committees = set(session.exec(select(OrgUnit.id).where(OrgUnit.level == "committee")).all())
        kept = tally_rows(session)
        ages = {unit_id for unit_id, measure, _ in kept if measure == tally.AGE}
        assert ages and not ages & committees
        assert {unit_id for unit_id, measure, _ in kept if measure == tally.TOTAL} & committees
        tally.rebuild(session)
        session.commit()
    with Session(shequyun_kernel.engine) as session:
        assert tally_rows(session) == kept


def test_after_a_unit_moves_the_pages_count_live_until_the_tallies_are_rebuilt(
    shequyun_kernel, levels
):
    register(shequyun_kernel, levels[0], name="甲", id_number=born("19500101", 101))
    with Session(shequyun_kernel.engine) as session:
        # 潍坊新村街道 (and its committees) moves from 浦东新区 to 徐汇区
        orgunits.move(session, "310115004000", parent="310104000000", by=None)
        session.commit()
    with Session(shequyun_kernel.engine) as session:
        assert not tally.fresh(session)
        pudong = actor_of(shequyun_kernel, levels[3])
        assert kernel_total(shequyun_kernel, session, pudong) == 0  # live, on the new tree
        tally.rebuild(session)
        session.commit()
    assert_counts_right(shequyun_kernel, levels)


def kernel_total(kernel, session, actor) -> int:
    return kernel.residents.count(session, actor, ResidentFilters()).n


def test_a_search_past_the_cap_says_more_than(shequyun_kernel, levels):
    for serial in range(101, 105):
        register(shequyun_kernel, levels[0], name=f"张{serial}", id_number=born("19700101", serial))
    with Session(shequyun_kernel.engine) as session:
        actor = actor_of(shequyun_kernel, levels[0])
        search = ResidentFilters(q="张")
        assert shequyun_kernel.residents.count(session, actor, search, cap=3) == Count(3, False)
        assert shequyun_kernel.residents.count(session, actor, search, cap=4) == Count(4, True)


@pytest.mark.parametrize("page", [1, 2])
def test_walking_the_ids_gives_the_same_page_as_reading_the_subtree(
    shequyun_kernel, levels, monkeypatch, page
):
    from shequyun.residents import id_walk

    for serial in range(101, 121):  # two committees' residents, interleaved by id
        register(
            shequyun_kernel,
            levels[serial % 2],
            name=f"居民{serial}",
            id_number=born("19700101", serial),
            tags=[],
        )
    street = actor_of(shequyun_kernel, levels[2])
    pages = {}
    for walk in (False, True):
        monkeypatch.setattr(id_walk, "pays", lambda *args, walk=walk: walk)
        with Session(shequyun_kernel.engine) as session:
            items, counted = shequyun_kernel.residents.numbered_page(
                session, street, ResidentFilters(), page=page, size=7
            )
        pages[walk] = [item["id"] for item in items]
        assert counted == Count(20)
    assert pages[True] == pages[False] and len(pages[True]) == 7


# Awkward names: quotes, backslashes, commas, braces, the word NULL, spaces, Chinese, capitals
# (which a database collation sorts apart from code points).
AWKWARD = ['老人"独居', "a\\b", "x,y", "{z}", "NULL", " sp ", "", "B", "a", "独居", "Tag", "tag"]


def test_the_tally_arrays_reach_postgresql_as_written_and_sort_as_python_sorts(shequyun_kernel):
    """PostgreSQL receives the tallies as array literals built by hand; every writer must lock
    the rows in Python's order (unit, measure, key), so the database must sort them the same."""
    if shequyun_kernel.engine.dialect.name != "postgresql":
        pytest.skip("the array literals are written for PostgreSQL only")
    rows = [
        (unit, measure, key) for unit in (3, 1, 2) for measure in ("tag", "age") for key in AWKWARD
    ]
    units, measures, keys = zip(*rows, strict=True)
    with shequyun_kernel.engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT u, m, k FROM unnest(CAST(%(u)s AS integer[]), CAST(%(m)s AS varchar[]), "
            'CAST(%(k)s AS varchar[])) AS t(u, m, k) ORDER BY u, m COLLATE "C", k COLLATE "C"',
            {"u": tally._integers(units), "m": tally._texts(measures), "k": tally._texts(keys)},
        ).all()
    assert [tuple(r) for r in found] == sorted(rows)
    assert tally._texts([]) == "{}" and tally._integers([]) == "{}"
