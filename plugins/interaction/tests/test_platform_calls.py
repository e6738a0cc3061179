"""The Platform calls this plugin added to the SDK, used directly as any plugin would."""

from __future__ import annotations

from shequyun_sdk.residents import ResidentRef

from .conftest import WEIFANG1, WEIFANG2


def test_verify_resident_returns_placement_only_and_the_same_none_for_any_mismatch(
    town, shequyun_kernel
):
    wang = town.resident("王秀英", building="12", room="402", household="W-0402")
    platform = shequyun_kernel.platform
    with platform.session() as session:
        ref = platform.verify_resident(
            session, name=" 王秀英 ", id_number=wang.id_number.lower(), phone=wang.phone
        )
        assert isinstance(ref, ResidentRef)
        assert (ref.id, ref.committee.code, ref.building_key, ref.household_number) == (
            wang.id,
            WEIFANG1,
            ("潍坊一村", "12"),
            "W-0402",
        )
        assert ref.adult and ref.active
        assert not hasattr(ref, "id_number") and not hasattr(ref, "phone")
        for wrong in (
            {"name": "王秀", "id_number": wang.id_number, "phone": wang.phone},
            {"name": "王秀英", "id_number": wang.id_number, "phone": "13000000000"},
            {"name": "王秀英", "id_number": "310115197003129999", "phone": wang.phone},
            {"name": "", "id_number": "", "phone": ""},
        ):
            assert platform.verify_resident(session, **wrong) is None


def test_resident_refs_follow_a_transfer(town, shequyun_kernel):
    wang = town.resident("王秀英")
    platform = shequyun_kernel.platform
    town.transfer(wang, WEIFANG2)
    with platform.session() as session:
        refs = platform.resident_refs(session, [wang.id, 999_999])
    assert list(refs) == [wang.id]
    moved = refs[wang.id]
    assert moved.committee.code == WEIFANG2
    assert moved.building_key is None and moved.household_id is None  # the transfer cleared them


def test_buildings_and_electorates(town, shequyun_kernel, shequyun_units):
    town.resident("甲", building="12", household="A", room="101")
    town.resident("乙", building="12", household="A", room="101")
    town.resident("丙", building="12", household="B", room="102", born="20150101")
    town.resident("丁", building="3", household="C", room="201")
    unit_id = shequyun_units[WEIFANG1].id
    platform = shequyun_kernel.platform
    with platform.session() as session:
        buildings = platform.resident_buildings(session, unit_id)
        assert [(b.label, b.households, b.residents, b.adults) for b in buildings] == [
            ("潍坊一村3号楼", 1, 1, 1),
            ("潍坊一村12号楼", 2, 3, 2),
        ]
        count = platform.count_electorate
        assert count(session, unit_id) == 3
        assert count(session, unit_id, adults_only=False) == 4
        assert count(session, unit_id, per="household") == 2  # household B has only a child
        assert count(session, unit_id, per="household", adults_only=False) == 3
        assert count(session, unit_id, buildings=[("潍坊一村", "12")]) == 2
        assert count(session, unit_id, per="household", household_numbers=["A", "C"]) == 2
        assert count(session, shequyun_units[WEIFANG2].id) == 0
