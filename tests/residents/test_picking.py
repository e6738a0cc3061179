"""Picking residents, households and buildings in scope (Platform.pick / resolve_picks)."""

from __future__ import annotations

import pytest
from shequyun_sdk import ValidationFailed
from shequyun_sdk.picking import parse_pick_key

from ._data import id_number, resident


@pytest.fixture
def two_committees(shequyun_client, shequyun_actors):
    """王秀英 and 李建国 (one household) in 潍坊一村; 张伟 in 潍坊二村."""
    one, two = shequyun_actors.cadre("310115004001"), shequyun_actors.cadre("310115004002")
    people = [
        (one, "王秀英", "124", {"building": "12", "room": "402"}, "W-0402"),
        (one, "李建国", "135", {"building": "12", "room": "402"}, "W-0402"),
        (one, "赵敏", "146", {"building": "7", "room": "101"}, "W-0101"),
        (two, "张伟", "157", {"building": "3", "room": "201", "compound": "潍坊二村"}, "E-0201"),
    ]
    ids = {}
    for cadre, name, serial, place, household in people:
        address = {"compound": "潍坊一村", "entrance": "1", **place}
        created = shequyun_client.post(
            "/api/v1/residents",
            json=resident(
                name=name,
                id_number=id_number(serial=serial),
                phone=None,
                address=address,
                household_number=household,
            ),
            headers=cadre.auth,
        )
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    return one.actor, two.actor, ids


def test_a_cadre_picks_only_in_their_committee(shequyun_client, two_committees):
    one, two, ids = two_committees
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        people = platform.pick(session, one, "resident")
        households = platform.pick(session, one, "household", q="12号楼")
        buildings = platform.pick(session, one, "building")
        by_member = platform.pick(session, one, "household", q="李建")
        theirs = platform.pick(session, two, "resident", q="王")
    assert [p.label for p in people] == [
        "李建国 · 潍坊一村12号楼1单元402室",
        "王秀英 · 潍坊一村12号楼1单元402室",
        "赵敏 · 潍坊一村7号楼1单元101室",
    ]
    assert (
        people[1].key == f"resident:{ids['王秀英']}"
        and people[1].committee.name == "潍坊一村居委会"
    )
    assert [(h.label, h.detail) for h in households] == [
        ("潍坊一村12号楼1单元402室（户号 W-0402）", "2 人 · 潍坊一村居委会")
    ]
    assert by_member[0].key == households[0].key
    assert [(b.label, b.detail) for b in buildings] == [
        ("潍坊一村12号楼", "1 户 2 人 · 潍坊一村居委会"),
        ("潍坊一村7号楼", "1 户 1 人 · 潍坊一村居委会"),
    ]
    assert theirs == []  # 王秀英 lives in the sibling committee


def test_keys_out_of_scope_or_malformed_do_not_resolve(
    shequyun_client, two_committees, shequyun_actors
):
    one, _, ids = two_committees
    platform = shequyun_client.app.state.platform
    street = shequyun_actors.street_admin("310115004000").actor
    with platform.session() as session:
        mine = platform.pick(session, one, "building", q="12号楼")[0]
        keys = [
            f"resident:{ids['王秀英']}",
            f"resident:{ids['张伟']}",
            mine.key,
            "household:x",
            "x",
        ]
        resolved = platform.resolve_picks(session, one, keys)
        whole_street = platform.resolve_picks(session, street, keys)
        counts = platform.households_by_unit(session, street)
        narrowed = platform.pick(session, street, "resident", unit_code="310115004002")
    assert set(resolved) == {f"resident:{ids['王秀英']}", mine.key}
    assert set(whole_street) == {f"resident:{ids['王秀英']}", f"resident:{ids['张伟']}", mine.key}
    assert sorted(counts.values()) == [1, 2]
    assert [p.label.split(" ")[0] for p in narrowed] == ["张伟"]
    assert parse_pick_key(mine.key) == ("building", (mine.committee.id, "潍坊一村", "12"))


def test_bad_arguments_are_refused(shequyun_client, two_committees):
    one, _, _ = two_committees
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        with pytest.raises(ValidationFailed, match="类型"):
            platform.pick(session, one, "cat")
        with pytest.raises(ValidationFailed) as limit:
            platform.pick(session, one, "resident", limit=0)
        with pytest.raises(ValidationFailed) as unit:
            platform.pick(session, one, "resident", unit_code="999999999999")
    assert limit.value.field == "limit" and unit.value.field == "unit_code"


def test_subtree_filter_narrows_within_scope(shequyun_client, two_committees, shequyun_actors):
    from sqlmodel import select

    from shequyun.residents.models import Resident

    _, _, ids = two_committees
    platform = shequyun_client.app.state.platform
    street = shequyun_actors.street_admin("310115004000").actor
    with platform.session() as session:
        weifang2 = platform.unit(session, "310115004002")
        city = platform.unit(session, "310000000000")
        inside = session.exec(
            select(Resident.id).where(
                platform.scope_filter(street, "residents.read", Resident.unit_id),
                platform.subtree_filter(weifang2, Resident.unit_id),
            )
        ).all()
        everyone = session.exec(
            select(Resident.id).where(platform.subtree_filter(city, Resident.unit_id))
        ).all()
    assert inside == [ids["张伟"]]
    assert len(everyone) == 4
