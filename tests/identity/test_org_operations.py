"""The org-unit operations service: paths, cycles, closing, splits, merges, versions, dates."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from shequyun_sdk import Conflict, NotFound, ValidationFailed
from sqlalchemy import event
from sqlmodel import Session, func, select

from shequyun.identity import orgunit_steps, orgunits
from shequyun.identity.models import AuditEntry, OrgUnit, OrgUnitChange
from shequyun.identity.orgunits import NewUnit, StaleVersion

CITY, PUDONG, XUHUI = "310000000000", "310115000000", "310104000000"
WEIFANG, LUJIAZUI, TIANPING = "310115004000", "310115005000", "310104003000"
WEIFANG_1, WEIFANG_2, MEIYUAN_1 = "310115004001", "310115004002", "310115005001"


@pytest.fixture
def session(shequyun_kernel, shequyun_units):
    with Session(shequyun_kernel.engine, expire_on_commit=False) as session:
        yield session


def by_code(session, code) -> OrgUnit:
    session.expire_all()
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).one()


def paths_are_consistent(session) -> bool:
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    for u in units.values():
        expected = f"{units[u.parent_id].path if u.parent_id else '/'}{u.id}/"
        if u.path != expected:
            return False
    return True


def history(session, code) -> list[str]:
    unit = by_code(session, code)
    rows = session.exec(
        select(OrgUnitChange).where(OrgUnitChange.unit_id == unit.id).order_by(OrgUnitChange.id)
    ).all()
    return [r.action for r in rows]


def test_a_move_rewrites_the_whole_subtree_in_one_statement(session, shequyun_kernel):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE KERNEL_ORG_UNIT SET PATH"):
            statements.append(statement)

    event.listen(shequyun_kernel.engine, "before_cursor_execute", seen)
    try:
        _, moved = orgunits.move(session, LUJIAZUI, parent=XUHUI, by=None)
        session.commit()
    finally:
        event.remove(shequyun_kernel.engine, "before_cursor_execute", seen)
    assert moved == 2
    assert len(statements) == 1
    street, xuhui = by_code(session, LUJIAZUI), by_code(session, XUHUI)
    assert street.path == f"{xuhui.path}{street.id}/"
    assert by_code(session, MEIYUAN_1).path == f"{street.path}{by_code(session, MEIYUAN_1).id}/"
    assert street.parent_id == xuhui.id and street.version == 2
    assert paths_are_consistent(session)
    assert history(session, LUJIAZUI) == ["created", "moved"]


def test_a_unit_cannot_move_under_itself_or_its_descendants(session):
    with pytest.raises(ValidationFailed, match="循环") as caught:
        orgunits.move(session, PUDONG, parent=WEIFANG, by=None)
    assert caught.value.field == "parent"
    with pytest.raises(ValidationFailed, match="最高一级"):
        orgunits.move(session, CITY, parent=PUDONG, by=None)
    with pytest.raises(ValidationFailed, match="已在"):
        orgunits.move(session, WEIFANG_1, parent=WEIFANG, by=None)


def test_the_path_target_is_not_found_but_a_body_unit_is_a_field_error(session):
    with pytest.raises(NotFound):
        orgunits.rename(session, "310115999000", name="x", version=1, by=None)
    with pytest.raises(ValidationFailed) as caught:
        orgunits.move(session, WEIFANG_1, parent="310115999000", by=None)
    assert caught.value.field == "parent"


def test_a_stale_version_is_refused_even_when_the_race_is_lost_after_reading(
    session, shequyun_kernel
):
    """Two admins read version 1; the second write finds the row changed and gets 409."""
    first = by_code(session, WEIFANG_1)
    assert first.version == 1
    with Session(shequyun_kernel.engine) as other:
        orgunits.rename(other, WEIFANG_1, name="潍坊一村甲居委会", version=1, by=None)
        other.commit()
    # ``session`` still holds version 1 in memory; the conditional UPDATE catches it.
    with pytest.raises(StaleVersion) as caught:
        orgunit_steps.bump(session, first, name="潍坊一村乙居委会")
    assert caught.value.status_code == 409
    assert caught.value.current["name"] == "潍坊一村甲居委会"
    assert caught.value.current["version"] == 2
    session.rollback()
    with pytest.raises(StaleVersion):
        orgunits.rename(session, WEIFANG_1, name="乙", version=1, by=None)


def test_of_two_concurrent_renames_of_one_version_exactly_one_wins(session, shequyun_kernel):
    first_wrote, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def rename(name: str, hold: bool) -> None:
        with Session(shequyun_kernel.engine) as own:
            try:
                orgunits.rename(own, WEIFANG_1, name=name, version=1, by=None)
                if hold:
                    first_wrote.set()
                    release.wait(10)
                own.commit()
                outcomes[name] = "ok"
            except StaleVersion as exc:
                outcomes[name] = exc.current["name"]

    first = threading.Thread(target=rename, args=("甲居委会", True))
    first.start()
    assert first_wrote.wait(10)
    second = threading.Thread(target=rename, args=("乙居委会", False))
    second.start()
    time.sleep(0.3)  # let the second writer reach the row the first one holds
    release.set()
    first.join(30)
    second.join(30)
    assert outcomes == {"甲居委会": "ok", "乙居委会": "甲居委会"}
    assert by_code(session, WEIFANG_1).version == 2


def test_close_refuses_open_children_then_succeeds_once_they_close(session):
    with pytest.raises(ValidationFailed, match="仍有 2 个下级") as caught:
        orgunits.close(session, WEIFANG, closed_on=date(2025, 1, 1), by=None)
    assert caught.value.field == "closed_on"
    orgunits.close(session, WEIFANG_1, closed_on=date(2025, 1, 1), by=None)
    # A child closing later than the street is still open on the street's closing day.
    orgunits.close(session, WEIFANG_2, closed_on=date(2025, 3, 1), by=None)
    with pytest.raises(ValidationFailed, match="仍有 1 个下级"):
        orgunits.close(session, WEIFANG, closed_on=date(2025, 1, 1), by=None)
    closed = orgunits.close(
        session, WEIFANG, closed_on=date(2025, 3, 1), by=None, successor=LUJIAZUI
    )
    session.commit()
    assert closed.closed_on == date(2025, 3, 1)
    assert closed.successor_id == by_code(session, LUJIAZUI).id
    assert history(session, WEIFANG) == ["created", "closed"]


def test_a_closing_date_must_follow_the_opening_date(session):
    unit = orgunits.create(
        session,
        code="310115004003",
        name="潍坊三村居委会",
        parent=WEIFANG,
        opened_on=date(2025, 5, 1),
        by=None,
    )
    with pytest.raises(ValidationFailed, match="设立日期") as caught:
        orgunits.close(session, unit.code, closed_on=date(2025, 5, 1), by=None)
    assert caught.value.field == "closed_on"


def test_expected_units_on_a_date_follow_openings_and_closings(session):
    pudong = by_code(session, PUDONG)
    on = date(2025, 6, 1)
    assert orgunits.count_expected(session, pudong, "committee", on) == 3
    orgunits.close(session, WEIFANG_2, closed_on=date(2025, 6, 1), by=None)
    orgunits.create(
        session,
        code="310115004003",
        name="潍坊三村居委会",
        parent=WEIFANG,
        opened_on=date(2025, 7, 1),
        by=None,
    )
    session.commit()
    assert [u.code for u in orgunits.expected_units(session, pudong, "committee", on)] == [
        WEIFANG_1,
        MEIYUAN_1,
    ]
    assert orgunits.count_expected(session, pudong, "committee", date(2025, 5, 31)) == 3
    assert orgunits.count_expected(session, pudong, "committee", date(2025, 7, 1)) == 3
    assert orgunits.count_expected(session, by_code(session, CITY), "street", on) == 3


def test_split_creates_successors_moves_children_and_keeps_ids(session):
    old = by_code(session, WEIFANG)
    old_id = old.id
    created = orgunits.split(
        session,
        WEIFANG,
        into=[
            NewUnit("310115004100", "潍坊东街道", (WEIFANG_1,)),
            NewUnit("310115004200", "潍坊西街道", (WEIFANG_2,)),
        ],
        on=date(2025, 7, 1),
        by=None,
    )
    session.commit()
    assert [u.opened_on for u in created] == [date(2025, 7, 1)] * 2
    assert [u.parent_id for u in created] == [by_code(session, PUDONG).id] * 2
    old = by_code(session, WEIFANG)
    assert old.id == old_id and old.closed_on == date(2025, 7, 1)
    assert by_code(session, WEIFANG_1).parent_id == created[0].id
    assert by_code(session, WEIFANG_2).parent_id == created[1].id
    assert paths_are_consistent(session)
    assert history(session, WEIFANG) == ["created", "split"]
    assert history(session, "310115004100") == ["created", "split_from"]
    assert history(session, WEIFANG_1) == ["created", "moved"]


def test_split_refuses_to_leave_an_open_child_behind(session):
    with pytest.raises(ValidationFailed, match="没有分配") as caught:
        orgunits.split(
            session,
            WEIFANG,
            into=[NewUnit("310115004100", "东", (WEIFANG_1,)), NewUnit("310115004200", "西")],
            on=date(2025, 7, 1),
            by=None,
        )
    assert caught.value.field == "into"
    assert caught.value.details == [{"field": "children", "message": f"{WEIFANG_2} 潍坊二村居委会"}]
    with pytest.raises(Conflict) as duplicate:
        orgunits.split(
            session,
            WEIFANG_1,
            into=[NewUnit(WEIFANG_2, "甲"), NewUnit("310115004009", "乙")],
            on=date(2025, 7, 1),
            by=None,
        )
    assert duplicate.value.field == "into[0].code"


def test_merge_into_a_new_unit_closes_the_sources_with_a_successor(session):
    target = orgunits.merge(
        session,
        [WEIFANG, LUJIAZUI],
        into=NewUnit("310115004500", "潍坊陆家嘴街道"),
        on=date(2025, 9, 1),
        by=None,
    )
    session.commit()
    for code in (WEIFANG, LUJIAZUI):
        source = by_code(session, code)
        assert source.closed_on == date(2025, 9, 1) and source.successor_id == target.id
        assert history(session, code) == ["created", "merged"]
    children = session.exec(select(OrgUnit).where(OrgUnit.parent_id == target.id)).all()
    assert sorted(c.code for c in children) == [WEIFANG_1, WEIFANG_2, MEIYUAN_1]
    assert paths_are_consistent(session)
    assert history(session, "310115004500") == ["created", "merged_from"]


def test_merge_refuses_mixed_levels_and_a_target_among_the_sources(session):
    with pytest.raises(ValidationFailed, match="同一层级") as caught:
        orgunits.merge(session, [WEIFANG, WEIFANG_1], into=LUJIAZUI, on=date(2025, 9, 1), by=None)
    assert caught.value.field == "units[1]"
    with pytest.raises(ValidationFailed) as among:
        orgunits.merge(session, [WEIFANG, LUJIAZUI], into=WEIFANG, on=date(2025, 9, 1), by=None)
    assert among.value.field == "into"


def test_operations_leave_audit_entries_marked_as_the_command_line(session):
    orgunits.rename(session, WEIFANG_1, name="潍坊一村新居委会", version=1, by=None)
    orgunits.close(session, WEIFANG_2, closed_on=date(2025, 1, 1), by=None)
    session.commit()
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.action.startswith("org.unit.")).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.target_id, e.detail.get("via")) for e in entries] == [
        ("org.unit.renamed", WEIFANG_1, "cli"),
        ("org.unit.closed", WEIFANG_2, "cli"),
    ]


def test_a_failed_operation_writes_nothing(session, shequyun_kernel):
    with Session(shequyun_kernel.engine) as fresh:
        before = fresh.exec(select(func.count()).select_from(OrgUnitChange)).one()
    with pytest.raises(ValidationFailed):
        orgunits.merge(
            session,
            [WEIFANG_1, MEIYUAN_1],
            into=NewUnit("310115004500", "跨街道"),
            on=date(2025, 9, 1),
            by=None,
        )
    session.rollback()
    with Session(shequyun_kernel.engine) as fresh:
        assert fresh.exec(select(func.count()).select_from(OrgUnitChange)).one() == before
        assert fresh.exec(select(OrgUnit).where(OrgUnit.code == "310115004500")).first() is None
