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
- :func:`bulk_load` writes straight into the resident tables with batched inserts (``COPY`` on
  PostgreSQL), encrypting and hashing exactly as the service does: a million residents in
  minutes. It writes no outbox events; history rows (one ``(created)`` row per resident, as the
  service writes) only when asked.

Each committee's population depends only on the seed and the committee's code, so a committee
looks the same whether it is generated alone or among six thousand.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine

from .crypto import FieldCipher
from .idnumber import check_digit, mask_id, mask_phone
from .models import Address, Household, Resident, ResidentChange, ResidentTag

__all__ = ["BulkStats", "Home", "Person", "bulk_load", "generate_homes", "generate_rows"]

T = TypeVar("T")
_EARLIEST = date(1900, 1, 2)
_GENDER_ZH = {"male": "男", "female": "女"}
_REGISTRATION_ZH = {"huji": "户籍", "changzhu": "常住", "liudong": "流动"}


class Committee(Protocol):
    """What the generator needs of a committee (an ``OrgUnit`` or a ``UnitRef`` will do)."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


# -- weighted word lists --------------------------------------------------------------------


def _bag(pairs: Iterable[tuple[T, float]], size: int = 2000) -> tuple[T, ...]:
    """A tuple where each value appears in proportion to its weight: one index draws it."""
    items = list(pairs)
    total = sum(w for _, w in items)
    bag: list[T] = []
    for value, weight in items:
        bag += [value] * max(1, round(weight / total * size))
    return tuple(bag)


def _ranked(words: str, top: Sequence[float], tail: tuple[float, float]) -> tuple[str, ...]:
    """Surnames by rank: the first ones with the given shares (%), the rest tapering off."""
    chars = [c for c in words if not c.isspace()]
    rest = len(chars) - len(top)
    shares = [*top, *(tail[0] - (tail[0] - tail[1]) * i / max(rest - 1, 1) for i in range(rest))]
    return _bag(zip(chars, shares, strict=True))


_NATIONAL = _ranked(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严武戴莫孔向汤",
    (7.1, 7.0, 6.7, 5.3, 4.5, 3.1, 2.2, 2.0, 2.0, 1.9, 1.3, 1.2, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9),
    (0.85, 0.15),
)
_SHANGHAI = _ranked(
    "张王陈李朱徐周沈陆顾吴刘杨黄金胡钱孙蒋姚曹施潘丁严许倪马范唐袁邵谢龚汤戴郁杜瞿奚俞宋叶"
    "程冯赵夏蔡方孔毛",
    (5.5, 5.4, 5.0, 3.8, 3.6, 3.4, 3.1, 3.0, 2.7, 2.6, 2.4, 2.2, 2.1, 2.0, 1.7, 1.5, 1.4),
    (1.4, 0.3),
)

# Given names by the decade's fashion: (last birth year, male two-character, female
# two-character, male single, female single, share of single-character names).
_GIVEN = (
    (
        1949,
        "建国 国华 国强 志明 德明 文华 福根 根宝 金宝 荣根 家骏 永康 志刚 宝林 明德 富根 阿毛 "
        "德林 炳生 荣生 金龙 福生 仁杰 守义 世昌 文彬 庆华 关兴",
        "秀英 桂英 玉兰 秀珍 凤英 美英 金妹 阿英 雪珍 月娥 彩凤 招娣 翠英 素珍 杏娣 桂珍 秀兰 "
        "玉珍 宝娣 凤珍 林娣 惠珍 佩珍 月英 根娣 美娣 瑞英 玉英",
        "根福林明德荣昌华生祥",
        "英珍兰娣芳妹凤梅",
        0.15,
    ),
    (
        1964,
        "建国 建华 国庆 国平 卫东 建军 志强 跃进 建平 永明 海荣 国良 建新 卫国 解放 援朝 和平 "
        "庆丰 志华 伟民 德华 兴华 金林 振华 光明 建明",
        "秀英 桂芳 玉珍 凤英 丽华 美华 建英 红英 素芳 秀芳 凤珍 玉兰 金凤 美玲 亚萍 雅芳 月华 "
        "美娟 翠华 玲娣",
        "军强明华平伟国勇忠林",
        "英芳萍兰华敏娟玲",
        0.3,
    ),
    (
        1979,
        "卫东 红军 建军 志强 伟民 海峰 建华 卫国 文斌 永刚 国平 晓明 建伟 立新 卫平 志勇 国华 "
        "海涛 建忠 剑锋",
        "红梅 丽华 卫红 红英 海燕 美华 丽萍 慧芳 雪梅 春燕 晓红 丽娟 红霞 秀丽 建芳 美玲 丽君 "
        "晓燕 静芳 爱华",
        "勇军伟强明华斌刚平杰峰",
        "敏萍红静丽芳燕霞娟英",
        0.4,
    ),
    (
        1994,
        "晓东 志伟 海峰 晓峰 建峰 文杰 伟杰 俊杰 志刚 海涛 晓明 振宇 佳俊 家豪 嘉伟 立伟 明杰 天翔",
        "晓燕 丽娜 婷婷 晓丽 佳佳 雯雯 丽丽 燕萍 晓雯 佳敏 海燕 琳琳 静怡 倩倩 莉莉 晶晶 思佳 丹丹",
        "伟磊勇杰涛斌强鹏俊超浩骏峰",
        "静敏燕婷晶雯洁琳佳颖倩丽蕾莉",
        0.4,
    ),
    (
        2009,
        "俊杰 浩然 宇航 天宇 嘉豪 博文 志豪 子健 文博 浩宇 宇轩 家俊 一鸣 晨阳 思远 嘉诚 子豪",
        "欣怡 诗涵 雨婷 佳琪 梦琪 思琪 雨欣 佳怡 心怡 子怡 诗雨 思佳 晓雯 佳慧 雨涵 嘉怡 梦洁 欣妍",
        "浩宇杰晨昊鑫磊凯睿轩",
        "婧玥琪怡欣悦妍萱雯",
        0.25,
    ),
    (
        9999,
        "浩然 梓轩 宇轩 子轩 一诺 沐阳 俊熙 浩宇 奕辰 子墨 皓轩 梓睿 宇辰 铭泽 思源 子涵",
        "子涵 欣怡 梓涵 诗涵 一诺 雨桐 可馨 语桐 梓萱 芷若 依诺 思彤 若汐 欣妍 沐晨",
        "睿宸泽轩辰煜",
        "萱彤琪悦瑶涵",
        0.15,
    ),
)
_COHORTS = tuple(
    (last, {"male": m2.split(), "female": f2.split()}, {"male": list(m1), "female": list(f1)}, p)
    for last, m2, f2, m1, f1, p in _GIVEN
)

# Birthplace codes (the first six digits): Shanghai's districts, old ones included, and the
# prefectures most of Shanghai's migrants come from, with a county suffix drawn separately.
_SHANGHAI_DISTRICTS = (  # noqa: SIM905 - a word list reads best as words
    "310101 310104 310105 310106 310107 310109 310110 310112 310113 310114 310115 310116 "
    "310117 310118 310120 310151 310103 310108"
).split()
_ORIGINS = _bag(
    (code, weight)
    for codes, weight in (
        ("3412 3413 3416 3401 3411 3408 3415 3418", 3.0),  # 安徽
        ("3206 3209 3203 3213 3208 3212", 2.4),  # 江苏
        ("4115 4116 4113 4114 4117", 1.8),  # 河南
        ("5113 5116 5119 5110 5001", 1.2),  # 四川, 重庆
        ("3611 3604 3610 3303 3306 3310", 1.1),  # 江西, 浙江
        ("4209 4211 3713 3708 3715 3505 3506 4305 4309", 0.8),  # 湖北, 山东, 福建, 湖南
    )
    for code in codes.split()
)
_COUNTIES = ("02", "03", "21", "22", "23", "24", "25", "26", "27", "81", "82")
_MOBILE = (  # noqa: SIM905
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "173 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
).split()

# Ages of people aged 60 and over (Shanghai 2020: a sixth of them 80 or older).
_ELDER_AGES = _bag(
    ((lo, hi), w)
    for lo, hi, w in (
        (60, 65, 31), (65, 70, 28), (70, 75, 17), (75, 80, 10),
        (80, 85, 7), (85, 90, 4.5), (90, 95, 2), (95, 102, 0.5),
    )
)  # fmt: skip

_COMPOUND_WORDS = (  # noqa: SIM905
    "康乐 梅园 潍坊 长乐 新华 枫林 樱花 友谊 和平 幸福 翠竹 金桥 东方 锦绣 春晖 紫藤 桂林 兰花 "
    "玉兰 海棠 丽园 华庭 绿洲 景苑 银杏 香樟 青松 曙光 朝阳 永安 吉祥 安居 复兴 碧云 晨光 松鹤 "
    "嘉园 怡景 梧桐 东风 南苑 春申 书香 湖滨 仁和 宜居 泰和 滨江 天钥 田林 康健 长桥 凌云"
).split()
_COMPOUND_SUFFIXES = _bag(
    (("一村", 3), ("二村", 2), ("三村", 1), ("新村", 3), ("小区", 3), ("花园", 2), ("苑", 2),
     ("公寓", 1), ("大楼", 0.5))
)  # fmt: skip
_ROAD_WORDS = (  # noqa: SIM905
    "宛平南 建国西 天平 衡山 永嘉 康平 高安 乌鲁木齐南 吴兴 岳阳 肇嘉浜 零陵 田林东"
).split()


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


class _People:
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
            region = district if rng.random() < 0.7 else rng.choice(_SHANGHAI_DISTRICTS)
            surnames = _SHANGHAI
        else:
            region = _ORIGINS[int(rng.random() * len(_ORIGINS))] + rng.choice(_COUNTIES)
            surnames = _NATIONAL
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
        lo, hi = _ELDER_AGES[int(rng.random() * len(_ELDER_AGES))]
        if older and lo < 70 and rng.random() < 0.3:
            lo, hi = _ELDER_AGES[int(rng.random() * len(_ELDER_AGES))]
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
        born = max(today - timedelta(days=age * 365 + _below(rng, 365) + age // 4), _EARLIEST)
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
    for last, double, single, share in _COHORTS:
        if year <= last:
            if rng.random() < share:
                return rng.choice(single[gender])
            return rng.choice(double[gender])
    raise AssertionError("the last cohort has no end")


def _mobile(rng: random.Random) -> str:
    return f"{_MOBILE[int(rng.random() * len(_MOBILE))]}{_below(rng, 10**8):08d}"


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
        names.append(stem + _COMPOUND_SUFFIXES[int(rng.random() * len(_COMPOUND_SUFFIXES))])
    while len(names) < count:
        if rng.random() < 0.2:
            name = f"{rng.choice(_ROAD_WORDS)}路{_between(rng, 10, 899)}弄"
        else:
            suffix = _COMPOUND_SUFFIXES[int(rng.random() * len(_COMPOUND_SUFFIXES))]
            name = rng.choice(_COMPOUND_WORDS) + suffix
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
    people = _People(seed, today or date.today(), taken or (lambda _: False))
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
                "gender": _GENDER_ZH[person.gender],
                "birth_date": person.birth_date.isoformat(),
                "id_number": person.id_number,
                "phone": person.phone,
                "registration": _REGISTRATION_ZH[person.registration],
                "address": {
                    "compound": compound,
                    "building": building,
                    "entrance": entrance,
                    "room": room,
                },
                "household_number": home.number,
                "tags": list(person.tags),
            }


# -- the fast path --------------------------------------------------------------------------


@dataclass
class BulkStats:
    """What :func:`bulk_load` wrote, and how long it took."""

    residents: int = 0
    households: int = 0
    addresses: int = 0
    tags: int = 0
    seconds: float = 0.0


class _Unit(Committee, Protocol):
    @property
    def id(self) -> int | None: ...


_RESIDENT_COLUMNS = (
    "id", "unit_id", "name", "gender", "birth_date", "id_number_enc", "id_number_hash",
    "id_number_masked", "phone_enc", "phone_hash", "phone_masked", "registration", "address_id",
    "household_id", "extra", "status", "version", "created_at", "updated_at",
)  # fmt: skip
_CHANGE_COLUMNS = (
    "resident_id", "version", "at", "unit_id", "source", "field", "old_value", "new_value",
)  # fmt: skip


def bulk_load(
    engine: Engine,
    cipher: FieldCipher,
    committees: Sequence[_Unit],
    count: int | Mapping[str, int],
    seed: int | str,
    *,
    history: bool = False,
    interleave: bool = True,
    today: date | None = None,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> BulkStats:
    """Write generated residents straight into the tables, in one transaction.

    ``count`` is the total, spread unevenly (deterministically) over ``committees``, or a
    mapping from committee code to its number of residents. ID numbers and phones are
    encrypted, hashed and masked exactly as :class:`~.service.ResidentService` does; ID numbers
    already in the table are never issued again. No outbox events are written (subscribers
    would otherwise receive a million ``resident.created``); with ``history`` each resident gets
    the ``(created)`` history row the service writes, with source ``import``.

    With ``interleave`` the new residents' ids are shuffled (seeded) over their range, as years
    of registrations would leave them: a committee's residents do not lie together by id, so
    no query benchmarked on the data profits from an order real data would not have.

    PostgreSQL gets ``COPY`` (the tables are locked against other writers meanwhile, and the id
    sequences moved past the new rows); SQLite gets ``executemany`` in the same transaction.
    ``progress(n)`` is called with the number of residents written after each batch.
    """
    began = time.perf_counter()
    sizes = count if not isinstance(count, int) else _spread(committees, count, seed)
    stats = BulkStats()
    with engine.connect() as connection:
        writer = _writer(connection)
        try:
            existing = writer.existing_hashes()
            homes = generate_homes(
                committees,
                sizes,
                seed,
                today=today,
                taken=(lambda number: cipher.lookup_hash(number) in existing) if existing else None,
            )
            rows = _Rows(cipher, writer.now, writer.json_empty, history)
            unit_ids = {unit.code: unit.id for unit in committees}
            order: list[int] | None = None
            if interleave:
                order = list(range(sum(sizes.get(unit.code, 0) for unit in committees)))
                random.Random(f"{seed}:order").shuffle(order)
            last_ids = _write(writer, rows, homes, unit_ids, order, batch, stats, progress)
            writer.finish(last_ids)
            connection.commit()
        finally:
            writer.close()
    stats.seconds = time.perf_counter() - began
    return stats


def _write(
    writer: _Writer,
    rows: _Rows,
    homes: Iterable[Home],
    unit_ids: Mapping[str, int | None],
    order: Sequence[int] | None,
    batch: int,
    stats: BulkStats,
    progress: Callable[[int], None] | None,
) -> tuple[int, int, int]:
    """Number the rows of ``homes`` after the tables' last ids and write them in batches;
    the k-th resident gets id ``last + 1 + order[k]`` when an order is given.

    A committee that has addresses and households already keeps them: a generated address
    that exists is used as it is, and household numbers continue after the existing ones.
    """
    known, numbered = writer.existing_places({i for i in unit_ids.values() if i is not None})
    address_id, household_id, last_resident = writer.next_ids()
    written = 0
    for home in homes:
        unit_id = unit_ids[home.unit_code]
        assert unit_id is not None
        place = known.get((unit_id, *home.address)) if known else None
        if place is None:
            address_id += 1
            place = address_id
            rows.addresses.append((address_id, unit_id, *home.address))
        number = home.number
        if numbered.get(unit_id):
            number = f"H{int(number[1:]) + numbered[unit_id]:05d}"
        household_id += 1
        rows.households.append((household_id, unit_id, place, number, writer.now))
        for person in home.members:
            offset = order[written] if order is not None else written
            rows.resident(last_resident + 1 + offset, unit_id, place, household_id, person)
            written += 1
        if len(rows.residents) >= batch:
            _flush(writer, rows, stats, progress)
    _flush(writer, rows, stats, progress)
    return address_id, household_id, last_resident + written


def _spread(committees: Sequence[Committee], total: int, seed: int | str) -> dict[str, int]:
    """``total`` people over the committees, some twice as populous as others, exactly."""
    rng = random.Random(f"{seed}:spread")
    weights = [rng.uniform(0.5, 1.5) for _ in committees]
    scale = total / sum(weights) if weights else 0.0
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return {unit.code: share for unit, share in zip(committees, shares, strict=True)}


class _Rows:
    """Rows waiting to be written, built the way the service builds them."""

    def __init__(self, cipher: FieldCipher, now: Any, json_empty: Any, history: bool) -> None:
        self.cipher = cipher
        self.now = now
        self.json_empty = json_empty
        self.history = history
        self.addresses: list[tuple[Any, ...]] = []
        self.households: list[tuple[Any, ...]] = []
        self.residents: list[tuple[Any, ...]] = []
        self.tags: list[tuple[int, str]] = []
        self.changes: list[tuple[Any, ...]] = []

    def resident(
        self, resident_id: int, unit_id: int, address_id: int, household_id: int, p: Person
    ) -> None:
        cipher = self.cipher
        phone = p.phone
        self.residents.append(
            (
                resident_id,
                unit_id,
                p.name,
                p.gender,
                p.birth_date,
                cipher.encrypt(p.id_number),
                cipher.lookup_hash(p.id_number),
                mask_id(p.id_number),
                cipher.encrypt(phone) if phone else None,
                cipher.lookup_hash(phone) if phone else None,
                mask_phone(phone) if phone else None,
                p.registration,
                address_id,
                household_id,
                self.json_empty,
                "active",
                1,
                self.now,
                self.now,
            )
        )
        for tag in p.tags:
            self.tags.append((resident_id, tag))
        if self.history:
            self.changes.append(
                (resident_id, 1, self.now, unit_id, "import", "(created)", None, p.name)
            )

    def clear(self) -> None:
        for rows in (self.addresses, self.households, self.residents, self.tags, self.changes):
            rows.clear()


def _flush(
    writer: _Writer, rows: _Rows, stats: BulkStats, progress: Callable[[int], None] | None
) -> None:
    writer.write(_table(Address), ("id", "unit_id", "compound", "building", "entrance", "room"),
                 rows.addresses)  # fmt: skip
    writer.write(_table(Household), ("id", "unit_id", "address_id", "number", "created_at"),
                 rows.households)  # fmt: skip
    rows.residents.sort()  # by id: the order of the primary key
    writer.write(_table(Resident), _RESIDENT_COLUMNS, rows.residents)
    writer.write(_table(ResidentTag), ("resident_id", "tag"), rows.tags)
    if rows.changes:
        writer.write(_table(ResidentChange), _CHANGE_COLUMNS, rows.changes)
    stats.addresses += len(rows.addresses)
    stats.households += len(rows.households)
    stats.residents += len(rows.residents)
    stats.tags += len(rows.tags)
    rows.clear()
    if progress is not None:
        progress(stats.residents)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_TABLES = ("kernel_address", "kernel_household", "kernel_resident")


class _Writer:
    """Batched writes on one connection, in the database's fastest ordinary way."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw: Any = connection.connection.driver_connection  # the DB-API connection
        self.now: Any = datetime.now(UTC)
        self.json_empty: Any = "{}"

    def existing_hashes(self) -> set[str]:
        rows = self.connection.execute(
            text("SELECT id_number_hash FROM kernel_resident WHERE status = 'active'")
        )
        return {row[0] for row in rows}

    def existing_places(
        self, unit_ids: set[int]
    ) -> tuple[dict[tuple[Any, ...], int], dict[int, int]]:
        """The addresses of these committees, and the highest ``H00000`` household number
        of each (by committee id)."""
        addresses = {
            (unit_id, compound, building, entrance, room): address_id
            for address_id, unit_id, compound, building, entrance, room in self.connection.execute(
                text("SELECT id, unit_id, compound, building, entrance, room FROM kernel_address")
            )
            if unit_id in unit_ids
        }
        numbered: dict[int, int] = {}
        for unit_id, number in self.connection.execute(
            text("SELECT unit_id, number FROM kernel_household")
        ):
            if unit_id in unit_ids:
                serial = int(number[1:]) if number[:1] == "H" and number[1:].isdigit() else 0
                numbered[unit_id] = max(numbered.get(unit_id, 0), serial)
        return addresses, numbered

    def next_ids(self) -> tuple[int, int, int]:
        """The largest id of each table, after which the new rows are numbered."""
        found = [
            self.connection.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0
            for table in _TABLES
        ]
        return (found[0], found[1], found[2])

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self, last_ids: tuple[int, int, int]) -> None:
        """After the last write, before the commit."""

    def close(self) -> None:
        """After the commit or the rollback."""


class _SQLiteWriter(_Writer):
    #: Page cache while loading (KiB): the indexes on random hashes otherwise thrash it.
    CACHE_KIB = 256 * 1024

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        columns = _table(Resident).c
        created = columns.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        extra = columns.extra.type.dialect_impl(dialect).bind_processor(dialect)
        self.now = created(self.now) if created else self.now
        self.json_empty = extra({}) if extra else "{}"
        self.cache_size = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute(f"PRAGMA cache_size=-{self.CACHE_KIB}")

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if table.name == "kernel_resident":  # dates as SQLAlchemy stores them on SQLite
            rows = [(*r[:4], r[4].isoformat(), *r[5:]) for r in rows]
        marks = ", ".join("?" for _ in columns)
        self.raw.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def close(self) -> None:
        self.raw.execute(f"PRAGMA cache_size={int(self.cache_size)}")


class _PostgresWriter(_Writer):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        # Other writers wait until we commit; readers do not.
        connection.execute(
            text(f"LOCK TABLE {', '.join(_TABLES)}, kernel_resident_tag IN EXCLUSIVE MODE")
        )

    def next_ids(self) -> tuple[int, int, int]:
        """Past the largest id and past the sequence, whichever is further."""
        largest = super().next_ids()
        found = []
        for table, biggest in zip(_TABLES, largest, strict=True):
            sequence = self._sequence(table)
            last, called = self.connection.execute(
                text(f"SELECT last_value, is_called FROM {sequence}")
            ).one()
            found.append(max(biggest, last if called else last - 1))
        return (found[0], found[1], found[2])

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self, last_ids: tuple[int, int, int]) -> None:
        for table, last in zip(_TABLES, last_ids, strict=True):
            if last > 0:
                self.connection.execute(
                    text(f"SELECT setval('{self._sequence(table)}', :v)"), {"v": last}
                )
        # Fresh statistics, or the planner treats a million rows as a handful.
        self.connection.execute(text(f"ANALYZE {', '.join(_TABLES)}, kernel_resident_tag"))

    def _sequence(self, table: str) -> str:
        name: str = self.connection.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar_one()
        return name


def _writer(connection: Connection) -> _Writer:
    if connection.dialect.name == "postgresql":
        return _PostgresWriter(connection)
    return _SQLiteWriter(connection)
