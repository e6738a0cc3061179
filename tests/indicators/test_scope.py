"""Who reads which unit's indicators: a grant's subtree, and nothing beside or above it."""

from __future__ import annotations

import pytest

from .conftest import LUJIAZUI, PUDONG, TIANPING, WEIFANG, XUHUI


def test_a_street_user_reads_their_street_and_its_committees(town):
    street = town.actors.street_admin(WEIFANG)
    own = town.api(street, f"/units/{WEIFANG}")
    assert own.status_code == 200
    body = own.json()
    assert body["unit"]["name"] == "潍坊新村街道"
    population = next(i for i in body["indicators"] if i["indicator"] == "residents.population")
    assert population["unit"]["figure"] == 270
    assert [(c["unit"]["name"], c["figure"]) for c in population["children"]] == [
        ("潍坊一村居委会", 240),
        ("潍坊二村居委会", 30),
    ]
    committee = town.api(street, "/units/310115004002/residents.population")
    assert committee.status_code == 200
    assert committee.json()["indicator"]["unit"]["figure"] == 30


def test_a_street_user_gets_404_for_a_sibling_street_and_for_the_districts_children(town):
    street = town.actors.street_admin(WEIFANG)
    for path in (
        f"/units/{LUJIAZUI}",  # the sibling street
        f"/units/{LUJIAZUI}/residents.elderly_share",
        "/units/310115005001",  # the sibling's committee
        f"/units/{PUDONG}",  # the district's children table
        f"/units/{PUDONG}/residents.elderly_share",
        f"/units/{XUHUI}",
        "/units/999999999999",  # no such unit: the same answer
    ):
        answer = town.api(street, path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"


def test_the_portal_refuses_the_same_units_with_404(town):
    portal = town.actors.street_admin(WEIFANG).portal()
    assert portal.get(f"/indicators/u/{WEIFANG}").status_code == 200
    assert portal.get(f"/indicators/u/{LUJIAZUI}").status_code == 404
    assert portal.get(f"/indicators/u/{PUDONG}").status_code == 404
    assert portal.get(f"/indicators/u/{PUDONG}/residents.elderly_share").status_code == 404
    export = f"/indicators/u/{PUDONG}/export?table=children&format=csv"
    assert portal.get(export).status_code == 404


def test_a_cadre_reads_only_their_committee(town):
    cadre = town.actors.cadre("310104003001")
    assert town.api(cadre, "/units/310104003001").status_code == 200
    assert town.api(cadre, "/units/310104003002").status_code == 404
    assert town.api(cadre, f"/units/{TIANPING}").status_code == 404


def test_a_district_sees_its_streets_side_by_side_and_not_the_other_district(town):
    district = town.actors.district_admin(XUHUI)
    body = town.api(district, f"/units/{XUHUI}").json()
    population = next(i for i in body["indicators"] if i["indicator"] == "residents.population")
    assert population["unit"]["figure"] == 210
    assert [c["unit"]["name"] for c in population["children"]] == ["天平路街道"]
    assert town.api(district, f"/units/{PUDONG}").status_code == 404


def test_anonymous_requests_are_refused(town):
    assert town.client.get(f"/api/v1/indicators/units/{WEIFANG}").status_code == 401
    page = town.client.get(f"/indicators/u/{WEIFANG}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_catalogue_lists_what_the_actor_may_read(town):
    street = town.actors.street_admin(WEIFANG)
    names = [i["name"] for i in town.api(street, "").json()["indicators"]]
    assert names[:2] == ["residents.population", "residents.elderly_share"]
    assert {"collection.completeness", "collection.on_time"} <= set(names)
    share = next(
        i for i in town.api(street, "").json()["indicators"] if i["name"].endswith("share")
    )
    assert share["aggregation"] == "ratio" and share["unit"] == "%"
    assert share["plugin"] == "residents"


def test_a_share_by_key_keeps_every_residents_in_its_base(town):
    """潍坊二村 has no floating residents: its 30 residents still count in the street's base."""
    from sqlalchemy import text
    from sqlmodel import Session

    with Session(town.kernel.engine) as session:
        session.execute(
            text(
                "UPDATE kernel_resident SET registration = 'huji' WHERE unit_id = "
                "(SELECT id FROM kernel_org_unit WHERE code = '310115004002')"
            )
        )
        counts = dict(
            session.execute(
                text(
                    "SELECT registration, count(*) FROM kernel_resident r JOIN kernel_org_unit u "
                    "ON u.id = r.unit_id WHERE u.code LIKE '310115004%' GROUP BY registration"
                )
            ).all()
        )
        session.commit()
    street = town.actors.street_admin(WEIFANG)
    panel = town.api(street, f"/units/{WEIFANG}/residents.registration").json()["indicator"]
    total = sum(counts.values())
    assert total == 270
    for key, number in counts.items():
        assert panel["unit"]["by_key"][key] == pytest.approx(100 * number / total), key
    assert panel["unit"]["figure"] == pytest.approx(100 * counts["huji"] / total)
    second = next(c for c in panel["children"] if c["unit"]["code"] == "310115004002")
    assert second["by_key"] == {"huji": 100.0, "changzhu": 0.0, "liudong": 0.0}
