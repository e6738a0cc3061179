"""The unit picker's answers (/units/pick): search by name or code, drill down, reach."""

from __future__ import annotations


def test_a_street_admin_finds_committees_of_their_street_by_name_with_the_trail(shequyun_actors):
    street = shequyun_actors.street_admin("310115004000").portal()
    found = street.get("/units/pick", params={"q": "二村"}).json()
    assert [u["code"] for u in found["items"]] == ["310115004002"]
    unit = found["items"][0]
    assert unit["name"] == "潍坊二村居委会"
    assert unit["trail"] == "浦东新区 › 潍坊新村街道"
    assert unit["level_name"] == "居村委"
    # 梅园一村 is in the next street: outside the street admin's reach.
    assert street.get("/units/pick", params={"q": "梅园"}).json()["items"] == []


def test_drilling_down_starts_at_the_grants_unit_and_names_the_crumbs(shequyun_actors):
    district = shequyun_actors.district_admin("310115000000").portal()
    top = district.get("/units/pick").json()
    assert [c["name"] for c in top["crumbs"]] == ["浦东新区"]
    assert [(u["name"], u["children"]) for u in top["items"]] == [
        ("潍坊新村街道", 2),
        ("陆家嘴街道", 1),
    ]
    below = district.get("/units/pick", params={"parent": "310115004000"}).json()
    assert [c["name"] for c in below["crumbs"]] == ["浦东新区", "潍坊新村街道"]
    assert [u["code"] for u in below["items"]] == ["310115004001", "310115004002"]
    refused = district.get("/units/pick", params={"parent": "310104000000"})
    assert refused.status_code == 404
    assert refused.json()["error"]["field"] == "parent"


def test_a_cadre_choosing_where_a_resident_moves_reaches_every_committee_of_the_city(
    shequyun_actors,
):
    cadre = shequyun_actors.cadre("310115004001").portal()
    found = cadre.get(
        "/units/pick", params={"q": "居委", "reach": "city", "level": "committee"}
    ).json()
    assert "310104003001" in [u["code"] for u in found["items"]]
    assert {u["level"] for u in found["items"]} == {"committee"}
    named = cadre.get("/units/pick", params={"code": "310104003002", "reach": "city"}).json()
    assert named["items"][0]["trail"] == "徐汇区 › 天平路街道"


def test_bad_questions_are_a_4xx_naming_the_field(shequyun_actors):
    street = shequyun_actors.street_admin().portal()
    for params, field in (
        ({"parent": "3101"}, "parent"),
        ({"reach": "world"}, "reach"),
        ({"level": "building"}, "level"),
        ({"q": "x" * 41}, "q"),
        ({"colour": "red"}, "colour"),
    ):
        answer = street.get("/units/pick", params=params)
        assert answer.status_code in (400, 422), params
        assert answer.json()["error"]["field"] == field


def test_forms_that_choose_a_unit_carry_the_picker(shequyun_actors):
    admin = shequyun_actors.district_admin().portal()
    page = admin.get("/admin/users/new").text
    assert "data-unit-picker" in page and "/static/kernel/unit_picker.js" in page
    assert 'id="unit-picker-text"' in page
