"""Platform.resident_population: set-based, scope-filtered queries plugins compose."""

from __future__ import annotations

from datetime import date

import pytest
from shequyun_sdk.population import Population, age_on, years_before
from sqlalchemy import func
from sqlmodel import Session

from ._data import id_number, resident


@pytest.fixture
def town(shequyun_client, shequyun_actors):
    """Three residents of 潍坊一村 (two in one household) and one of 梅园一村."""
    cadre1 = shequyun_actors.cadre("310115004001")
    cadre2 = shequyun_actors.cadre("310115005001")

    def add(actor, serial, born, **overrides):
        data = resident(id_number=id_number(born=born, serial=serial), phone=None, **overrides)
        response = shequyun_client.post("/api/v1/residents", json=data, headers=actor.auth)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    return {
        "old": add(cadre1, "124", "19400105", household_number="A", tags=["独居老人"]),
        "wife": add(cadre1, "224", "19450105", household_number="A", tags=[]),
        "young": add(cadre1, "324", "19900105", household_number="B", tags=["残疾"]),
        "elsewhere": add(cadre2, "424", "19300105", household_number="C", tags=["独居老人"]),
    }


def ids(kernel, people: Population, *conditions, households=False):
    with Session(kernel.engine) as session:
        query = people.select(people.resident_id, households=households).where(*conditions)
        return set(session.execute(query).scalars().all())


def test_a_street_reaches_its_committees_and_a_cadre_only_theirs(
    shequyun_kernel, shequyun_actors, town
):
    platform = shequyun_kernel.platform
    street = platform.resident_population(shequyun_actors.street_admin("310115004000").actor)
    assert ids(shequyun_kernel, street) == {town["old"], town["wife"], town["young"]}
    district = platform.resident_population(shequyun_actors.district_admin().actor)
    assert ids(shequyun_kernel, district) == set(town.values())
    other = platform.resident_population(shequyun_actors.cadre("310115005001").actor)
    assert ids(shequyun_kernel, other) == {town["elsewhere"]}
    # `within` narrows, never widens: a unit outside the grant gives nothing.
    with Session(shequyun_kernel.engine) as session:
        outside = platform.unit(session, "310115005000")
    narrowed = platform.resident_population(
        shequyun_actors.street_admin("310115004000").actor, within=outside
    )
    assert ids(shequyun_kernel, narrowed) == set()
    assert ids(shequyun_kernel, platform.resident_population(None)) == set()


def test_tags_ages_and_households_compose_in_sql(shequyun_kernel, shequyun_actors, town):
    people = shequyun_kernel.platform.resident_population(shequyun_actors.district_admin().actor)
    day = date(2026, 1, 5)
    assert ids(shequyun_kernel, people, people.has_tag("独居老人")) == {
        town["old"],
        town["elsewhere"],
    }
    assert ids(shequyun_kernel, people, people.age_at_least(86, day)) == {
        town["old"],
        town["elsewhere"],
    }
    assert ids(shequyun_kernel, people, people.younger_than(86, day - date.resolution)) == {
        town["wife"],
        town["young"],
    } | {town["old"]}
    # households: the couple's youngest member is 80, the others live alone
    all_old = people.household_youngest_birth <= years_before(day, 80)
    assert ids(shequyun_kernel, people, all_old, households=True) == {
        town["old"],
        town["wife"],
        town["elsewhere"],
    }
    with Session(shequyun_kernel.engine) as session:
        sizes = dict(
            session.execute(
                people.select(people.resident_id, people.household_members, households=True)
            ).all()
        )
    assert sizes[town["old"]] == 2 and sizes[town["young"]] == 1


def test_plugin_attributes_read_the_same_way_on_every_database(
    shequyun_kernel, shequyun_actors, town
):
    from shequyun.residents.models import Resident

    with Session(shequyun_kernel.engine) as session:
        row = session.get(Resident, town["young"])
        row.extra = {"noplugin": {"grade": 2, "kind": "肢体"}}
        session.add(row)
        session.commit()
    people = shequyun_kernel.platform.resident_population(shequyun_actors.district_admin().actor)
    with Session(shequyun_kernel.engine) as session:
        count = session.execute(
            people.select(func.count()).where(
                people.attribute("noplugin.grade", "integer").is_(None)
            )
        ).scalar_one()
        graded = (
            session.execute(
                people.select(people.resident_id).where(
                    people.attribute("noplugin.grade", "integer") >= 2,
                    people.attribute("noplugin.kind") == "肢体",
                )
            )
            .scalars()
            .all()
        )
    assert count == 3 and graded == [town["young"]]
    with pytest.raises(ValueError):
        people.attribute("grade")
    with pytest.raises(ValueError):
        people.attribute("a.b", "date")


def test_python_age_agrees_with_the_sql_threshold_on_29_february():
    born = date(1960, 2, 29)
    for day in (date(2025, 2, 28), date(2025, 3, 1), date(2028, 2, 28), date(2028, 2, 29)):
        assert (age_on(born, day) >= 65) == (born <= years_before(day, 65))


def test_resident_views_give_a_page_masked_and_only_in_scope(
    shequyun_kernel, shequyun_actors, town
):
    platform = shequyun_kernel.platform
    street = shequyun_actors.street_admin("310115004000").actor
    with Session(shequyun_kernel.engine) as session:
        views = platform.resident_views(session, street, [*town.values(), 999_999])
    assert set(views) == {town["old"], town["wife"], town["young"]}
    assert views[town["old"]]["id_number"].startswith("310***")
    assert views[town["old"]]["tags"] == ["独居老人"]
