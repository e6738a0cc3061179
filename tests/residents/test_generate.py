"""Synthetic residents: plausible, deterministic, and readable through the ordinary API."""

from __future__ import annotations

from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from shequyun.residents.generate import generate_homes, generate_rows
from shequyun.residents.generate_bulk import bulk_load
from shequyun.residents.idnumber import birth_date_of, gender_of, validate_id
from shequyun.residents.models import Resident
from shequyun.residents.validation import clean_resident

from ._data import id_number

TODAY = date(2026, 11, 1)
UNITS = [
    SimpleNamespace(code="310104003001", name="宛平南路居委会"),
    SimpleNamespace(code="310115004001", name="潍坊一村居委会"),
    SimpleNamespace(code="310151102201", name="新丰村村委会"),
]


def age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def sample():
    """About 24,000 people in 12 committees."""
    units = [SimpleNamespace(code=f"3101040030{n:02d}", name=f"第{n}居委会") for n in range(1, 13)]
    homes = list(generate_homes(units, 2000, 11, today=TODAY))
    return homes, [p for home in homes for p in home.members]


def test_the_same_seed_gives_the_same_residents_and_another_seed_others():
    first = list(generate_rows(UNITS, 40, 7, today=TODAY))
    assert first == list(generate_rows(UNITS, 40, 7, today=TODAY))
    assert first != list(generate_rows(UNITS, 40, 8, today=TODAY))
    alone = list(generate_rows(UNITS[1:2], 40, 7, today=TODAY))
    assert alone == [row for row in first if row["unit_code"] == "310115004001"]
    assert Counter(row["unit_code"] for row in first) == {u.code: 40 for u in UNITS}


def test_a_mapping_says_how_many_each_committee_gets():
    rows = list(generate_rows(UNITS, {"310104003001": 7, "310151102201": 3}, 1, today=TODAY))
    assert Counter(row["unit_code"] for row in rows) == {"310104003001": 7, "310151102201": 3}


def test_every_row_passes_the_services_validation(shequyun_kernel):
    vocabulary = shequyun_kernel.residents.vocabulary
    rows = list(generate_rows(UNITS, 300, 5, today=TODAY))
    for row in rows:
        cleaned = clean_resident(row, vocabulary, partial=False)
        assert cleaned.errors == [], (row, cleaned.errors)
        assert cleaned.values["gender"] == gender_of(row["id_number"])
        assert cleaned.values["birth_date"] == birth_date_of(row["id_number"])
    assert len({row["id_number"] for row in rows}) == len(rows)


def test_id_numbers_are_valid_and_say_where_people_come_from(sample):
    _, people = sample
    assert len({p.id_number for p in people}) == len(people)
    for person in people:
        assert validate_id(person.id_number) == person.id_number
        assert gender_of(person.id_number) == person.gender
        assert birth_date_of(person.id_number) == person.birth_date
        if person.registration == "huji":
            assert person.id_number.startswith("3101")
        if person.registration == "liudong":
            assert not person.id_number.startswith("31")
    by_region = Counter(p.id_number[:6] for p in people if p.registration == "huji")
    assert by_region.most_common(1)[0][0] == "310104"  # mostly born in their own district


def test_the_population_looks_like_shanghai_in_the_2020_census(sample):
    _, people = sample
    n = len(people)
    ages = [age(p.birth_date) for p in people]

    def share(test):
        return sum(1 for a in ages if test(a)) / n

    assert 0.07 <= share(lambda a: a < 15) <= 0.14
    assert 0.20 <= share(lambda a: a >= 60) <= 0.27
    assert 0.13 <= share(lambda a: a >= 65) <= 0.20
    assert 0.02 <= share(lambda a: a >= 80) <= 0.05
    assert share(lambda a: a >= 95) > 0
    oldest = [p for p, a in zip(people, ages, strict=True) if a >= 85]
    assert sum(p.gender == "female" for p in oldest) / len(oldest) > 0.52
    assert 0.45 <= sum(p.gender == "female" for p in people) / n <= 0.55
    registration = Counter(p.registration for p in people)
    assert abs(registration["huji"] / n - 0.60) < 0.05
    assert abs(registration["changzhu"] / n - 0.15) < 0.04
    assert abs(registration["liudong"] / n - 0.25) < 0.05
    adults = [p for p, a in zip(people, ages, strict=True) if a >= 18]
    assert sum(p.phone is not None for p in adults) / len(adults) > 0.85
    assert len({p.name for p in people}) > n / 10  # names vary


def test_tags_come_at_plausible_rates_and_only_where_they_fit(sample):
    homes, people = sample
    n = len(people)
    tags = Counter(t for p in people for t in p.tags)
    adults = sum(1 for p in people if age(p.birth_date) >= 18)
    assert 0.06 <= tags["党员"] / adults <= 0.10
    assert 0.01 <= tags["低保"] / n <= 0.02
    assert 0.02 <= tags["残疾"] / n <= 0.04
    assert 0.012 <= tags["退役军人"] / n <= 0.028
    assert tags["志愿者"] > 0
    for home in homes:
        for person in home.members:
            years = age(person.birth_date)
            assert ("高龄老人" in person.tags) == (years >= 80)
            assert ("独居老人" in person.tags) == (years >= 60 and len(home.members) == 1)


def test_households_share_one_address_and_no_two_share_it(sample):
    homes, _ = sample
    sizes = Counter(len(home.members) for home in homes)
    assert set(sizes) == {1, 2, 3, 4, 5}
    assert 2.0 <= sum(k * v for k, v in sizes.items()) / len(homes) <= 2.8
    by_unit = Counter((home.unit_code, home.address) for home in homes)
    assert max(by_unit.values()) == 1
    assert len({(home.unit_code, home.number) for home in homes}) == len(homes)
    compound, building, entrance, room = homes[0].address
    assert compound and 1 <= int(building) <= 40 and 101 <= int(room) <= 1804
    assert entrance == "" or 1 <= int(entrance) <= 6
    rows = list(generate_rows(UNITS, 60, 3, today=TODAY))
    by_household = {}
    for row in rows:
        by_household.setdefault((row["unit_code"], row["household_number"]), set()).add(
            tuple(row["address"].values())
        )
    assert all(len(addresses) == 1 for addresses in by_household.values())
    assert any(row["address"]["compound"].startswith("新丰村") for row in rows)  # a village


def test_generated_rows_go_through_the_api(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    cadre = shequyun_actors.cadre("310115004001")
    rows = list(generate_rows([shequyun_units["310115004001"]], 25, 9))
    for row in rows:
        response = shequyun_client.post("/api/v1/residents", json=row, headers=cadre.auth)
        assert response.status_code == 201, response.text
    with Session(shequyun_kernel.engine) as session:
        residents = session.exec(select(Resident)).all()
    assert len(residents) == 25
    assert len({r.household_id for r in residents}) < 25  # households were shared


def test_bulk_load_is_read_by_the_api_within_the_cadres_scope(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    units = [shequyun_units[code] for code in ("310115004001", "310115004002")]
    cipher = shequyun_kernel.residents.cipher
    stats = bulk_load(
        shequyun_kernel.engine, cipher, units, {"310115004001": 120, "310115004002": 30}, 4
    )
    assert (stats.residents, stats.households) == (150, stats.addresses)
    cadre = shequyun_actors.cadre("310115004001")
    page = shequyun_client.get("/api/v1/residents?limit=100", headers=cadre.auth).json()
    rest = shequyun_client.get(
        f"/api/v1/residents?limit=100&cursor={page['next_cursor']}", headers=cadre.auth
    ).json()
    items = page["items"] + rest["items"]
    assert len(items) == 120 and rest["next_cursor"] is None
    for item in items:
        assert item["unit"]["code"] == "310115004001"
        assert item["id_number"][3:14] == "*" * 11
        assert item["address"]["compound"] and item["household"]["number"].startswith("H")
        assert item["version"] == 1 and item["status"] == "active"
    tagged = shequyun_client.get("/api/v1/residents?tag=高龄老人", headers=cadre.auth).json()
    assert all(i["age"] >= 80 for i in tagged["items"])
    revealed = shequyun_client.post(
        f"/api/v1/residents/{items[0]['id']}/reveal",
        json={"fields": ["id_number", "phone"], "reason": "核对信息"},
        headers=cadre.auth,
    ).json()
    assert validate_id(revealed["id_number"])[-4:] == items[0]["id_number"][-4:]
    history = shequyun_client.get(
        f"/api/v1/residents/{items[0]['id']}/history", headers=cadre.auth
    ).json()
    assert history["changes"] == []  # bulk_load writes history only when asked

    other = shequyun_actors.cadre("310104003001")
    assert shequyun_client.get("/api/v1/residents", headers=other.auth).json()["items"] == []
    street = shequyun_actors.street_admin("310115004000")
    seen = shequyun_client.get("/api/v1/residents?limit=500", headers=street.auth).json()
    assert len(seen["items"]) == 150


def test_bulk_load_encrypts_hashes_and_masks_like_the_service(shequyun_kernel, shequyun_units):
    cipher = shequyun_kernel.residents.cipher
    bulk_load(shequyun_kernel.engine, cipher, [shequyun_units["310104003002"]], 80, 2)
    with Session(shequyun_kernel.engine) as session:
        residents = session.exec(select(Resident)).all()
    for r in residents:
        number = cipher.decrypt(r.id_number_enc)
        assert validate_id(number) == number
        assert r.id_number_hash == cipher.lookup_hash(number)
        assert r.id_number_masked == number[:3] + "*" * 11 + number[-4:]
        assert r.birth_date == birth_date_of(number) and r.gender == gender_of(number)
        if r.phone_enc is not None:
            phone = cipher.decrypt(r.phone_enc)
            assert r.phone_hash == cipher.lookup_hash(phone)
            assert r.phone_masked[:3] == phone[:3] and r.phone_masked[-4:] == phone[-4:]


def test_after_bulk_load_the_service_and_a_second_load_carry_on(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    """Ids continue after the loaded rows (PostgreSQL sequences included), ID numbers are
    never issued twice, and history rows are written when asked."""
    engine, cipher = shequyun_kernel.engine, shequyun_kernel.residents.cipher
    unit = shequyun_units["310115005001"]
    bulk_load(engine, cipher, [unit], 40, 6)
    bulk_load(engine, cipher, [unit], 40, 6, history=True)  # the same seed: the same people
    cadre = shequyun_actors.cadre("310115005001")
    created = shequyun_client.post(
        "/api/v1/residents",
        json={
            "name": "新居民",
            "id_number": id_number("110101", "19900307"),
            "registration": "流动",
        },
        headers=cadre.auth,
    )
    assert created.status_code == 201, created.text
    with Session(engine) as session:
        residents = session.exec(select(Resident).order_by(Resident.id)).all()
    assert len(residents) == 81 and residents[-1].id == 81
    numbers = [cipher.decrypt(r.id_number_enc) for r in residents]
    assert len(set(numbers)) == 81
    last_loaded = residents[79].id
    history = shequyun_client.get(
        f"/api/v1/residents/{last_loaded}/history", headers=cadre.auth
    ).json()["changes"]
    assert [(c["field"], c["source"], c["version"]) for c in history] == [
        ("(created)", "import", 1)
    ]
