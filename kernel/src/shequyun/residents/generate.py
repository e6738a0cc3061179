"""Plausible synthetic residents for the demo and the benchmarks, deterministic by seed.

People come in households (独居老人, elderly couples, young families, three generations under one
roof, migrant workers sharing a flat...) drawn so that the whole looks like Shanghai in the 2020
census: about 10% under 15, 23% aged 60 and over, 16% aged 65 and over, the oldest-old present
and more women among them. Names follow the surnames of Shanghai (户籍) or of the whole country
(others) and the given-name fashions of each generation; ID numbers carry a birthplace code
(Shanghai's districts for 户籍, the provinces migrants come from for 常住/流动), the birth date,
the gender digit and a valid GB 11643 check digit, and are unique within one run.

Two ways out:

- :func:`generate_rows` yields dicts in the shape the service and the import accept (Chinese
  labels, ``address`` as a mapping), for loading through the ordinary paths;
- :func:`~.generate_bulk.bulk_load` writes straight into the resident tables with batched
  inserts (``COPY`` on PostgreSQL), encrypting and hashing exactly as the service does: a
  million residents in minutes. It writes no outbox events; history rows (one ``(created)`` row
  per resident, as the service writes) only when asked.

Each committee's population depends only on the seed and the committee's code, so a committee
looks the same whether it is generated alone or among six thousand.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from .generate_words import (
    COHORTS,
    COMPOUND_SUFFIXES,
    COMPOUND_WORDS,
    COUNTIES,
    ELDER_AGES,
    MOBILE_PREFIXES,
    NATIONAL_SURNAMES,
    ORIGINS,
    ROAD_WORDS,
    SHANGHAI_DISTRICTS,
    SHANGHAI_SURNAMES,
)
from .idnumber import check_digit

EARLIEST = date(1900, 1, 2)
GENDER_ZH = {"male": "男", "female": "女"}
REGISTRATION_ZH = {"huji": "户籍", "changzhu": "常住", "liudong": "流动"}


class Committee(Protocol):
    """What the generator needs of a committee (an ``OrgUnit`` or a ``UnitRef`` will do)."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


# -- people ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    gender: str  # male / female
    birth_date: date
    id_number: str
    phone: str | None
    registration: str  # huji / changzhu / liudong
    tags: tuple[str, ...]


@dataclass(slots=True)
class Home:
    """A household at one address; ``address`` is (小区, 楼栋, 单元, 室)."""

    unit_code: str
    number: str
    address: tuple[str, str, str, str]
    members: list[Person] = field(default_factory=list)


class People:
    """Draws households; remembers the ID numbers it issued so that none repeats."""

    def __init__(self, seed: int | str, today: date, taken: Callable[[str], bool]) -> None:
        self.seed = seed
        self.today = today
        self.issued: set[int] = set()
        self.taken = taken

    def committee(self, unit: Committee, count: int) -> list[Home]:
        """Exactly ``count`` people of ``unit`` in households at addresses of its own."""
        rng = random.Random(f"{self.seed}:{unit.code}")
        homes: list[Home] = []
        people = 0
        while people < count:
            members = self._household(rng, unit.code[:6], count - people)
            people += len(members)
            homes.append(Home(unit.code, f"H{len(homes) + 1:05d}", ("", "", "", ""), members))
        _addresses(rng, unit, homes)
        return homes

    def _household(self, rng: random.Random, district: str, room: int) -> list[Person]:
        """One household of at most ``room`` people.

        First its shape, (age, gender, carries the family name) for each member; then where
        they come from, then the people.
        """
        kind = rng.random()
        elder = self._elder_age
        shape: list[tuple[int, str, bool]]
        if kind < 0.12:  # someone aged 60+ living alone, more often a woman
            age = elder(rng, older=True)
            woman = rng.random() < 0.55 + min(age - 60, 30) / 80
            shape = [(age, "female" if woman else "male", True)]
            reg = (0.9, 0.07)
        elif kind < 0.23:  # an elderly couple
            age = elder(rng)
            shape = [(age + _between(rng, 0, 4), "male", True), (age, "female", False)]
            reg = (0.88, 0.08)
        elif kind < 0.38:  # one adult
            shape = [(_between(rng, 20, 59), "male" if rng.random() < 0.55 else "female", True)]
            reg = (0.32, 0.2)
        elif kind < 0.52:  # a couple
            age = _between(rng, 24, 59)
            shape = [(age + _between(rng, 0, 4), "male", True), (age, "female", False)]
            reg = (0.55, 0.18)
        elif kind < 0.78:  # parents and children
            mother = _between(rng, 27, 55)
            shape = [(mother + _between(rng, 0, 4), "male", True), (mother, "female", False)]
            for _ in range(1 if rng.random() < 0.72 else 2):
                shape.append((max(0, mother - _between(rng, 23, 38)), _sex(rng), True))
            reg = (0.58, 0.16)
        elif kind < 0.88:  # three generations
            grand = elder(rng)
            parent = max(grand - _between(rng, 24, 34), 24)
            shape = [(grand, "female", False)]
            if rng.random() < 0.55:
                shape.append((grand + _between(rng, 0, 4), "male", True))
            shape += [(parent + _between(rng, 0, 3), "male", True), (parent, "female", False)]
            shape.append((max(0, parent - _between(rng, 24, 36)), _sex(rng), True))
            reg = (0.74, 0.14)
        elif kind < 0.93:  # an elder with a grown child
            age = elder(rng)
            shape = [(age, "female" if rng.random() < 0.65 else "male", True)]
            shape.append((max(age - _between(rng, 24, 34), 22), _sex(rng), True))
            reg = (0.86, 0.08)
        else:  # migrant workers sharing a flat
            shape = [(_between(rng, 19, 42), "male" if rng.random() < 0.6 else "female", False)
                     for _ in range(_between(rng, 2, 4))]  # fmt: skip
            reg = (0.0, 0.15)
        shape = shape[:room]
        draw = rng.random()
        registration = "huji" if draw < reg[0] else "changzhu" if draw < sum(reg) else "liudong"
        if registration == "huji" or (registration == "changzhu" and rng.random() < 0.3):
            region = district if rng.random() < 0.7 else rng.choice(SHANGHAI_DISTRICTS)
            surnames = SHANGHAI_SURNAMES
        else:
            region = ORIGINS[int(rng.random() * len(ORIGINS))] + rng.choice(COUNTIES)
            surnames = NATIONAL_SURNAMES
        family = surnames[int(rng.random() * len(surnames))]
        landline = f"021-{rng.choice('56')}{_below(rng, 10**7):07d}"
        draw = rng.random()
        household_tags = ("低保",) if draw < 0.015 else ("低收入",) if draw < 0.025 else ()
        alone = len(shape) == 1
        return [
            self._person(
                rng,
                age,
                gender,
                family if kin else surnames[int(rng.random() * len(surnames))],
                registration,
                region,
                landline,
                alone,
                household_tags,
            )
            for age, gender, kin in shape
        ]

    def _elder_age(self, rng: random.Random, *, older: bool = False) -> int:
        lo, hi = ELDER_AGES[int(rng.random() * len(ELDER_AGES))]
        if older and lo < 70 and rng.random() < 0.3:
            lo, hi = ELDER_AGES[int(rng.random() * len(ELDER_AGES))]
            lo, hi = max(lo, 70), max(hi, 75)
        return lo + _below(rng, hi - lo)

    def _person(
        self,
        rng: random.Random,
        age: int,
        gender: str,
        surname: str,
        registration: str,
        region: str,
        landline: str,
        alone: bool,
        household_tags: tuple[str, ...],
    ) -> Person:
        today = self.today
        born = max(today - timedelta(days=age * 365 + _below(rng, 365) + age // 4), EARLIEST)
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        given = _given(rng, born.year, gender)
        id_number = self._id_number(rng, region, born, gender)
        phone: str | None = None
        draw = rng.random()
        if age >= 85:
            phone = landline if draw < 0.3 else _mobile(rng) if draw < 0.5 else None
        elif age >= 75:
            phone = landline if draw < 0.25 else _mobile(rng) if draw < 0.75 else None
        elif age >= 16 or (age >= 12 and draw < 0.4):
            phone = _mobile(rng) if draw < 0.96 else None
        tags = list(household_tags)
        if age >= 60 and alone:
            tags.append("独居老人")
            if rng.random() < 0.08:
                tags.append("孤寡老人")
            if rng.random() < 0.03:
                tags.append("特困人员")
        if age >= 80:
            tags.append("高龄老人")
            if alone and rng.random() < 0.5:
                tags.append("重点关注")
        draw = rng.random()
        if draw < (0.018 if age < 60 else 0.05 if age < 80 else 0.09):
            tags.append("残疾")
        if age >= 18:
            veteran = (0.045 if gender == "male" else 0.003) if age >= 22 else 0.0
            if rng.random() < veteran:
                tags.append("退役军人")
            member = (
                (0.16 if age >= 60 else 0.09)
                if gender == "male"
                else (0.075 if age >= 60 else 0.06)
            )
            if rng.random() < member:
                tags.append("党员")
            if rng.random() < (0.1 if 55 <= age <= 75 else 0.03):
                tags.append("志愿者")
        return Person(
            name=surname + given,
            gender=gender,
            birth_date=born,
            id_number=id_number,
            phone=phone,
            registration=registration,
            tags=tuple(sorted(tags)),
        )

    def _id_number(self, rng: random.Random, region: str, born: date, gender: str) -> str:
        stem = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}"
        parity = 1 if gender == "male" else 0
        base = int(stem) * 1000
        for _ in range(10_000):
            serial = _below(rng, 500) * 2 + parity
            key = base + serial
            if key in self.issued:
                continue
            first = f"{stem}{serial:03d}"
            number = first + check_digit(first)
            if self.taken(number):
                continue
            self.issued.add(key)
            return number
        raise RuntimeError(f"出生地 {region}、生日 {born} 的身份证号已用尽")


def _below(rng: random.Random, n: int) -> int:
    """A whole number in ``[0, n)``: ``randrange`` costs several times more."""
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _sex(rng: random.Random) -> str:
    return "male" if rng.random() < 0.515 else "female"


def _given(rng: random.Random, year: int, gender: str) -> str:
    for last, double, single, share in COHORTS:
        if year <= last:
            if rng.random() < share:
                return rng.choice(single[gender])
            return rng.choice(double[gender])
    raise AssertionError("the last cohort has no end")


def _mobile(rng: random.Random) -> str:
    return f"{MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))]}{_below(rng, 10**8):08d}"


def _addresses(rng: random.Random, unit: Committee, homes: list[Home]) -> None:
    """Give every home its own address among the committee's compounds."""
    stem = unit.name.removesuffix("居委会").removesuffix("村委会").removesuffix("委员会")
    if unit.name.endswith("村委会"):
        groups = max(3, math.ceil(len(homes) / 60))
        taken: set[tuple[str, str, str, str]] = set()
        for home in homes:
            while True:
                address = (
                    f"{stem}{_between(rng, 1, groups)}组{_between(rng, 1, 120)}号",
                    "",
                    "",
                    "",
                )
                if address not in taken:
                    break
            taken.add(address)
            home.address = address
        return
    compounds = _compounds(rng, stem, max(1, math.ceil(len(homes) / 300)))
    per = math.ceil(len(homes) / len(compounds))
    for index, (compound, floors, per_floor) in enumerate(compounds):
        share = homes[index * per : (index + 1) * per]
        if not share:
            continue
        entrances = _between(rng, 1, 6)
        buildings = min(40, max(1, math.ceil(len(share) * 1.6 / (entrances * floors * per_floor))))
        capacity = buildings * entrances * floors * per_floor
        slots = rng.sample(range(capacity), len(share)) if capacity >= len(share) else None
        for number, home in enumerate(share):
            slot = slots[number] if slots is not None else number
            building, rest = divmod(slot, entrances * floors * per_floor)
            entrance, rest = divmod(rest, floors * per_floor)
            floor, room = divmod(rest, per_floor)
            home.address = (
                compound,
                str(building + 1),
                str(entrance + 1) if entrances > 1 else "",
                f"{floor + 1}{room + 1:02d}",
            )


def _compounds(rng: random.Random, stem: str, count: int) -> list[tuple[str, int, int]]:
    """``count`` compounds: (name, floors, flats per floor); the first named after the stem."""
    names: list[str] = []
    if stem.endswith(("村", "苑", "园", "小区", "公寓", "城", "坊", "里")):
        names.append(stem)
    elif stem.endswith("路"):
        names.append(f"{stem}{_between(rng, 10, 899)}弄")
    elif stem:
        names.append(stem + COMPOUND_SUFFIXES[int(rng.random() * len(COMPOUND_SUFFIXES))])
    while len(names) < count:
        if rng.random() < 0.2:
            name = f"{rng.choice(ROAD_WORDS)}路{_between(rng, 10, 899)}弄"
        else:
            suffix = COMPOUND_SUFFIXES[int(rng.random() * len(COMPOUND_SUFFIXES))]
            name = rng.choice(COMPOUND_WORDS) + suffix
        if name not in names:
            names.append(name)
    shaped = []
    for name in names[:count]:
        old = name.endswith(("村", "弄"))
        floors = rng.choice((5, 6)) if old else rng.choice((6, 11, 14, 18, 18))
        shaped.append((name, floors, rng.choice((2, 2, 3, 4))))
    return shaped


def generate_homes(
    committees: Sequence[Committee],
    per_committee: int | Mapping[str, int],
    seed: int | str,
    *,
    today: date | None = None,
    taken: Callable[[str], bool] | None = None,
) -> Iterator[Home]:
    """Households of every committee, committee by committee.

    ``per_committee`` is how many people each committee gets, or a mapping from committee code
    to that number (committees missing from it get none). ``taken(id_number)`` may refuse ID
    numbers that exist already.
    """
    people = People(seed, today or date.today(), taken or (lambda _: False))
    for unit in committees:
        count = per_committee if isinstance(per_committee, int) else per_committee.get(unit.code, 0)
        if count > 0:
            yield from people.committee(unit, count)


def generate_rows(
    committee_units: Sequence[Committee],
    per_committee: int | Mapping[str, int],
    seed: int | str,
    *,
    today: date | None = None,
) -> Iterator[dict[str, Any]]:
    """Residents as the service (``ResidentService.create``) and the import take them."""
    for home in generate_homes(committee_units, per_committee, seed, today=today):
        compound, building, entrance, room = home.address
        for person in home.members:
            yield {
                "unit_code": home.unit_code,
                "name": person.name,
                "gender": GENDER_ZH[person.gender],
                "birth_date": person.birth_date.isoformat(),
                "id_number": person.id_number,
                "phone": person.phone,
                "registration": REGISTRATION_ZH[person.registration],
                "address": {
                    "compound": compound,
                    "building": building,
                    "entrance": entrance,
                    "room": room,
                },
                "household_number": home.number,
                "tags": list(person.tags),
            }
