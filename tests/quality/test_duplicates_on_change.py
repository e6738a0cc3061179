"""A duplicate pair is on the review page within moments of the change that made it, not after
the night's search: the resident events' subscriber looks the changed records up by index."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlmodel import Session

from shequyun.quality import candidates

from .conftest import Town, id_number


def _pairs(town: Town) -> dict[frozenset[int], str]:
    street = town.actors.district_admin("310115000000")
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    return {frozenset(r["id"] for r in p["residents"]): p["reason"] for p in pairs}


def test_a_record_registered_again_in_another_committee_is_paired_at_once(town: Town):
    old = town.add("310115004002", name="卫又登", born="19550505")
    town.serial += 1  # the same gender
    new = town.add(name="卫又登", born="19550505")
    town.drain()  # the resident events are delivered; no daily job has run

    assert _pairs(town)[frozenset({old, new})] == "missed_transfer"
    assert town.kernel.quality.duplicates.find() == 0  # nothing left for the night


def test_a_correction_that_makes_two_records_one_person_pairs_them(town: Town):
    first = town.add(name="卫改正", born="19600101", phone="13911112222")
    town.serial += 1
    second = town.add(name="卫改正", born="19610101")
    town.drain()
    assert frozenset({first, second}) not in _pairs(town)

    # The typo corrected, in the ID number as in the birth date (which must agree with it).
    town.update(second, id_number=id_number("19600101", town.serial), birth_date="1960-01-01")
    town.drain()
    assert _pairs(town)[frozenset({first, second})] == "name_birth"


def test_the_same_name_and_phone_pair_when_the_phone_is_entered(town: Town):
    first = town.add(name="卫同号", born="19700101", phone="13922223333")
    second = town.add(name="卫同号", born="19710101", phone=None)
    town.drain()
    assert frozenset({first, second}) not in _pairs(town)

    town.update(second, phone="13922223333")
    town.drain()
    assert _pairs(town)[frozenset({first, second})] == "name_phone"


@pytest.mark.parametrize("order", ["written_otherwise_first", "plain_first"])
def test_a_name_written_another_way_pairs_in_either_order(town: Town, order: str):
    spellings = ["陳麗華", "陈丽华"] if order == "written_otherwise_first" else ["陈丽华", "陳麗華"]
    first = town.add(name=spellings[0], born="19651111")
    town.drain()
    town.serial += 1
    second = town.add("310115004002", name=spellings[1], born="19651111")
    town.drain()

    assert _pairs(town)[frozenset({first, second})] == "missed_transfer"


def test_a_pair_decided_to_be_two_people_is_not_proposed_again(town: Town):
    first = town.add(name="卫两人", born="19800202")
    town.serial += 1
    second = town.add(name="卫两人", born="19800202")
    town.drain()
    street = town.actors.street_admin("310115004000")
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {first, second}]
    decided = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/different", headers=street.auth
    )
    assert decided.status_code == 200, decided.text

    town.update(second, phone="13933334444")
    town.drain()
    assert frozenset({first, second}) not in _pairs(town)


def test_the_lookups_after_a_change_read_indexes_not_the_residents_table(town: Town):
    if town.kernel.engine.dialect.name != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    changed = [
        town.add(name="陳麗華", born="19651111", phone="13955556666"),
        town.add(name="卫索引", born="19700303"),
    ]
    town.drain()
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            statements.append((statement, parameters))

    event.listen(town.kernel.engine, "before_cursor_execute", seen)
    try:
        with Session(town.kernel.engine) as session:
            candidates.pairs_for(session.connection(), changed)
            session.rollback()
    finally:
        event.remove(town.kernel.engine, "before_cursor_execute", seen)

    assert len(statements) == 2  # the changed records with their keys; the three lookups
    with town.kernel.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = [row[-1] for row in plan]
            scans = [d for d in details if re.match(r"SCAN (TABLE )?kernel_(resident|quality)", d)]
            assert not scans, (statement, details)
