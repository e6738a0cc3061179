"""Walking the org-unit tree through the Platform: children, committees, ancestors, by code."""

from __future__ import annotations

from datetime import date

from shequyun_sdk import UnitRef

from shequyun.identity.models import OrgUnit


def codes(units):
    return [unit.code for unit in units]


def test_the_walk_down_starts_at_the_root_unit(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        city = platform.root_unit(session)
        assert (city.code, city.level, city.parent_id) == ("310000000000", "city", None)
        assert codes(platform.unit_children(session, city)) == ["310104000000", "310115000000"]


def test_before_the_tree_is_loaded_there_is_no_root(shequyun_kernel):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        assert platform.root_unit(session) is None


def test_children_of_a_district_are_its_streets(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        pudong = platform.unit(session, "310115000000")
        streets = platform.unit_children(session, pudong)
        assert codes(streets) == ["310115004000", "310115005000"]
        assert all(isinstance(s, UnitRef) and s.parent_id == pudong.id for s in streets)
        assert platform.unit_children(session, streets[0])[0].name == "潍坊一村居委会"


def test_committees_of_a_street_a_district_and_the_city(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        weifang = platform.unit(session, "310115004000")
        assert codes(platform.unit_committees(session, weifang)) == [
            "310115004001",
            "310115004002",
        ]
        pudong = platform.unit(session, "310115000000")
        assert len(platform.unit_committees(session, pudong)) == 3
        city = platform.unit(session, "310000000000")
        assert len(platform.unit_committees(session, city)) == 5
        committee = platform.unit(session, "310104003001")
        assert platform.unit_committees(session, committee) == [committee]


def test_ancestors_run_from_the_city_down_to_the_parent(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        committee = platform.unit(session, "310115004001")
        assert codes(platform.unit_ancestors(session, committee)) == [
            "310000000000",
            "310115000000",
            "310115004000",
        ]
        city = platform.unit(session, "310000000000")
        assert platform.unit_ancestors(session, city) == []
        assert city.parent_id is None


def test_units_by_id_and_by_many_codes(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        xuhui = platform.unit(session, "310104000000")
        assert platform.unit_by_id(session, xuhui.id) == xuhui
        assert platform.unit_by_id(session, 999_999) is None
        found = platform.units(session, ["310104000000", "310115004001", "310199999999"])
        assert sorted(found) == ["310104000000", "310115004001"]
        assert found["310104000000"] == xuhui


def test_closed_units_are_left_out_unless_asked_for(shequyun_kernel, shequyun_units):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        row = session.get(OrgUnit, shequyun_units["310115004002"].id)
        row.closed_on = date(2020, 1, 1)
        session.add(row)
    with platform.session() as session:
        weifang = platform.unit(session, "310115004000")
        assert codes(platform.unit_children(session, weifang)) == ["310115004001"]
        assert codes(platform.unit_committees(session, weifang)) == ["310115004001"]
        everything = platform.unit_children(session, weifang, include_closed=True)
        assert codes(everything) == ["310115004001", "310115004002"]
        assert everything[1].closed
