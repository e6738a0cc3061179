"""Demo data of the identity plugin: Shanghai's org tree and one demo account per level.

The city, its 16 districts and 215 streets/towns come from the reference file
``data/shanghai_divisions.csv``; the demo generates the 6,077 residents' and villagers'
committees under them (the real total; the names are invented), deterministically, and loads
everything through the same import core as ``shequyun org import``. Running it again creates
nothing twice.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from .directory import create_user, grant_role, unit_by_code
from .models import Grant, OrgUnit, User
from .org_import import RawRow, apply_units, check_units, read_rows

__all__ = [
    "COMMITTEES",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "committee_rows",
    "demo_actor",
    "load",
    "reference_units",
]

#: Committees the demo generates in all (Shanghai's 居委会 and 村委会).
COMMITTEES = 6077
VILLAGES = 1550  # 村委会, under towns (镇/乡) outside the central districts
DEMO_PASSWORD = "Demo-2026"
SEED = 20201231

CITY = "310000000000"
XUHUI = "310104000000"
TIANPING = "310104003000"
CENTRAL_DISTRICTS = {"310101", "310104", "310105", "310106", "310107", "310109", "310110"}
CHONGMING = "310151"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    unit_code: str | None  # None: the first committee of 天平路街道
    phone: str | None = None  # notices to it also leave as SMS (the demo's sms_console logs them)


DEMO_USERS = (
    DemoUser("admin", "平台管理员", "identity.platform_admin", CITY),
    DemoUser("shimzj", "市民政局", "identity.bureau", CITY),
    DemoUser("xuhui.admin", "徐汇区管理员", "identity.district_admin", XUHUI),
    DemoUser("tianping.admin", "天平路街道管理员", "identity.street_admin", TIANPING),
    DemoUser("tianping.cadre", "居委会干部", "identity.cadre", None, "13900000005"),
)

# Words for committee names. A 居委会 is named after a compound or a road, a 村委会 after its
# village: two characters, then a pattern.
_PLACES = (  # noqa: SIM905 - a word list reads best as words
    "阳光 康乐 长乐 新华 枫林 梅园 樱花 友谊 和平 幸福 翠竹 金桥 东方 明珠 锦绣 春晖 "
    "紫藤 桂林 兰花 玉兰 海棠 丽园 福泉 华庭 绿洲 景苑 银杏 香樟 青松 文化 建设 民主 "
    "团结 光明 曙光 朝阳 新兴 永安 吉祥 安居 复兴 星河 碧云 晨光 松鹤 平安 嘉园 馨苑 "
    "怡景 荷花 莲花 梧桐 东风 南苑 北苑 西林 春申 振兴 和谐 书香 湖滨 江南 申新 德康 "
    "仁和 宜居 嘉和 恒达 康城 金色 云锦 翡翠 御景 清水 泰和 润园 虹景 新港 滨江 临江 "
    "望江 丰盛 盛世 天馨 汇贤"
).split()
_COMPOUND_PATTERNS = (
    "{w}居委会",
    "{w}一村居委会",
    "{w}二村居委会",
    "{w}三村居委会",
    "{w}新村居委会",
    "{w}苑居委会",
    "{w}花园居委会",
    "{w}小区居委会",
)
_VILLAGE_FIRST = "新红永东西南北中金银长联民建胜光群先跃向五三万兴富丰安和星华"
_VILLAGE_SECOND = "联星丰民建利明光河桥港塘浜泾庄宅园林湾圩荡湖华盛兴"


def load(kernel: Any) -> str:
    """Load the demo org tree and accounts; say what was created (or that it already was)."""
    with Session(kernel.engine, expire_on_commit=False) as session:
        if _already_loaded(session):
            return "演示数据已加载，未重复创建。" + _accounts_line(session)
        divisions = _divisions()
        rows = [*divisions, *committee_rows(session, divisions)]
        report = check_units(session, rows, by=None, filename="演示数据")
        if not report.valid:
            problems = "\n".join(str(e) for e in report.errors[:20])
            raise RuntimeError(f"演示组织架构与数据库中已有的单位冲突：\n{problems}")
        apply_units(session, report, by=None, via="demo")
        created_users = _create_users(session, kernel.permissions)
        session.commit()
        counts = _counts(session)
        return (
            f"组织架构：市 {counts['city']}、区 {counts['district']}、街镇 {counts['street']}、"
            f"居村委 {counts['committee']}（新建 {len(report.new)} 个单位）；"
            f"新建演示账号 {created_users} 个。" + _accounts_line(session)
        )


def committee_rows(session: Session | None, divisions: Sequence[RawRow]) -> list[RawRow]:
    """Rows for the demo's committees under the streets of ``divisions``, deterministic.

    Committees already under a street count towards its share and keep their codes and names
    (none without a ``session``: the reference tree as a fresh database gets it).
    """
    streets = [r.values for r in divisions if r.values["level"] == "street"]
    residents, villages = _shares(streets)
    existing = _existing_committees(session) if session is not None else {}
    rows: list[RawRow] = []
    rng = random.Random(SEED)
    for street, n_res, n_vil in zip(streets, residents, villages, strict=True):
        code = street["code"]
        taken_codes, taken_names = existing.get(code, (set(), set()))
        res_left = n_res - sum(1 for c in taken_codes if int(c[9:]) < 200)
        vil_left = n_vil - sum(1 for c in taken_codes if int(c[9:]) >= 200)
        names = set(taken_names)
        for kind, count, span in (
            ("居委会", res_left, range(1, 200)),
            ("村委会", vil_left, range(200, 400)),
        ):
            numbers = (n for n in span if f"{code[:9]}{n:03d}" not in taken_codes)
            for _ in range(max(count, 0)):
                name = _name(rng, kind, names)
                names.add(name)
                number = f"{code[:9]}{next(numbers):03d}"
                rows.append(
                    RawRow(
                        0,
                        {"code": number, "name": name, "level": "committee", "parent_code": code},
                    )
                )
    return rows


def _divisions() -> list[RawRow]:
    data = resources.files("shequyun").joinpath("data/shanghai_divisions.csv").read_bytes()
    divisions, _ = read_rows(data, "shanghai_divisions.csv")
    return divisions


@functools.lru_cache(maxsize=1)
def reference_units() -> dict[str, tuple[str, str, str | None]]:
    """``{code: (name, level, parent code)}`` for Shanghai as ``shequyun demo`` builds it on a
    fresh database: the city, districts and streets of the reference file and the 6,077
    generated committees. The test harness makes actors on any of them."""
    divisions = _divisions()
    return {
        row.values["code"]: (
            row.values["name"],
            row.values["level"],
            row.values.get("parent_code") or None,
        )
        for row in [*divisions, *committee_rows(None, divisions)]
    }


def _shares(streets: Sequence[Any]) -> tuple[list[int], list[int]]:
    """How many 居委会 and 村委会 each street gets: towns more, villages only in rural towns."""
    rng = random.Random(SEED)
    res_weights: list[float] = []
    vil_weights: list[float] = []
    for street in streets:
        district = street["parent_code"][:6]
        town = not street["name"].endswith("街道")
        central = district in CENTRAL_DISTRICTS
        if district == CHONGMING:
            res_weights.append(rng.uniform(2, 8))
        elif town:
            res_weights.append(rng.uniform(15, 30) if central else rng.uniform(10, 40))
        else:
            res_weights.append(rng.uniform(18, 32) if central else rng.uniform(12, 28))
        if town and not central:
            vil_weights.append(rng.uniform(14, 30) if district == CHONGMING else rng.uniform(4, 24))
        else:
            vil_weights.append(0.0)
    return (
        _apportion(COMMITTEES - VILLAGES, res_weights, minimum=1),
        _apportion(VILLAGES, vil_weights, minimum=0),
    )


def _apportion(total: int, weights: Sequence[float], *, minimum: int) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder)."""
    spare = total - minimum * len(weights)
    scale = spare / sum(weights)
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: spare - sum(shares)]:
        shares[i] += 1
    return [s + minimum for s in shares]


def _name(rng: random.Random, kind: str, taken: set[str]) -> str:
    while True:
        if kind == "居委会":
            name = rng.choice(_COMPOUND_PATTERNS).format(w=rng.choice(_PLACES))
        else:
            first, second = rng.choice(_VILLAGE_FIRST), rng.choice(_VILLAGE_SECOND)
            name = f"{first}{second}村村委会" if first != second else ""
        if name and name not in taken:
            return name


def _existing_committees(session: Session) -> dict[str, tuple[set[str], set[str]]]:
    parent = aliased(OrgUnit)
    found: dict[str, tuple[set[str], set[str]]] = {}
    query = (
        select(col(OrgUnit.code), col(OrgUnit.name), col(parent.code))
        .join(parent, col(parent.id) == col(OrgUnit.parent_id))
        .where(col(OrgUnit.level) == "committee")
    )
    for code, name, street in session.exec(query):
        codes, names = found.setdefault(street, (set(), set()))
        codes.add(code)
        names.add(name)
    return found


def _counts(session: Session) -> dict[str, int]:
    city = unit_by_code(session, CITY)
    if city is None:
        return {"city": 0, "district": 0, "street": 0, "committee": 0}
    rows = session.exec(
        select(col(OrgUnit.level), func.count())
        .where(col(OrgUnit.path).startswith(city.path))
        .group_by(col(OrgUnit.level))
    ).all()
    counts = {"city": 0, "district": 0, "street": 0, "committee": 0}
    counts.update({level: n for level, n in rows})
    return counts


def _already_loaded(session: Session) -> bool:
    names = [u.username for u in DEMO_USERS]
    users = session.exec(select(func.count()).where(col(User.username).in_(names))).one()
    return users == len(DEMO_USERS) and _counts(session)["committee"] >= COMMITTEES


def _create_users(session: Session, registry: Any) -> int:
    created = 0
    for demo in DEMO_USERS:
        if session.exec(select(User.id).where(User.username == demo.username)).first():
            continue
        unit = unit_by_code(session, demo.unit_code or _first_committee(session))
        assert unit is not None
        user = create_user(
            session,
            username=demo.username,
            display_name=demo.display_name,
            home_unit=unit,
            password=DEMO_PASSWORD,
            phone=demo.phone,
            must_change_password=False,
        )
        grant_role(session, registry, user=user, role=demo.role, unit=unit)
        created += 1
    return created


def _first_committee(session: Session) -> str:
    street = unit_by_code(session, TIANPING)
    assert street is not None
    code = session.exec(
        select(col(OrgUnit.code))
        .where(col(OrgUnit.parent_id) == street.id)
        .order_by(col(OrgUnit.code))
    ).first()
    assert code is not None
    return code


def _accounts_line(session: Session) -> str:
    parts: list[str] = []
    for demo in DEMO_USERS:
        row = session.exec(
            select(User, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == col(User.home_unit_id))
            .where(User.username == demo.username)
        ).first()
        if row is not None:
            parts.append(f"{demo.username}（{demo.display_name}，{row[1].name}）")
    return f"演示账号（密码 {DEMO_PASSWORD}）：" + "、".join(parts) if parts else ""


def demo_actor(session: Session, kernel: Any, username: str) -> Any:
    """The actor of demo account ``username`` (its first live grant), for demo loaders that
    act as a person through the services; None when the demo accounts are not loaded."""
    row = session.exec(
        select(User, Grant, OrgUnit)
        .join(Grant, col(Grant.user_id) == User.id)
        .join(OrgUnit, col(OrgUnit.id) == Grant.unit_id)
        .where(User.username == username, col(Grant.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    user, grant, unit = row
    return kernel.authenticator.actor_for(user, grant, unit, "session")
