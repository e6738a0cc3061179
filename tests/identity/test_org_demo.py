"""The demo's Shanghai: 16 districts, 215 streets/towns, 6,077 committees, one account per level."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from importlib import resources

from sqlmodel import Session, func, select

from shequyun.demo import load_demo
from shequyun.identity import demo_data
from shequyun.identity.models import Grant, OrgUnit, User
from shequyun.identity.org_import import read_rows
from shequyun.identity.passwords import verify_password


def level_counts(kernel) -> Counter:
    with Session(kernel.engine) as session:
        rows = session.exec(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all()
    return Counter(dict(rows))


def test_the_demo_builds_shanghai_with_exactly_6077_committees(shequyun_kernel):
    summary = demo_data.load(shequyun_kernel)
    assert level_counts(shequyun_kernel) == {
        "city": 1,
        "district": 16,
        "street": 215,
        "committee": 6077,
    }
    assert "居村委 6077" in summary and "密码 Demo-2026" in summary


def test_committees_have_plausible_codes_and_names(shequyun_kernel):
    demo_data.load(shequyun_kernel)
    with Session(shequyun_kernel.engine) as session:
        streets = {
            u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.level == "street")).all()
        }
        committees = session.exec(select(OrgUnit).where(OrgUnit.level == "committee")).all()
    names = defaultdict(set)
    per_street = Counter()
    villages = 0
    for committee in committees:
        street = streets[committee.parent_id]
        assert re.fullmatch(r"\d{12}", committee.code)
        assert committee.code[:9] == street.code[:9]
        number = int(committee.code[9:])
        assert committee.path == f"{street.path}{committee.id}/"
        if committee.name.endswith("村委会") and not committee.name.endswith("居委会"):
            villages += 1
            assert 200 <= number <= 399
            assert street.name.endswith(("镇", "乡")), f"{committee.name} under {street.name}"
            assert re.fullmatch(r"..村村委会", committee.name)
        else:
            assert committee.name.endswith("居委会")
            assert 1 <= number <= 199
        assert committee.name not in names[street.id], f"two {committee.name} in {street.name}"
        names[street.id].add(committee.name)
        per_street[street.id] += 1
    assert villages > 1000
    assert len(per_street) == 215 and min(per_street.values()) >= 1
    towns = [n for sid, n in per_street.items() if not streets[sid].name.endswith("街道")]
    jiedao = [n for sid, n in per_street.items() if streets[sid].name.endswith("街道")]
    assert sum(towns) / len(towns) > sum(jiedao) / len(jiedao)


def test_the_committees_are_the_same_every_time(shequyun_kernel):
    data = resources.files("shequyun").joinpath("data/shanghai_divisions.csv").read_bytes()
    divisions, _ = read_rows(data, "shanghai_divisions.csv")
    with Session(shequyun_kernel.engine) as session:
        first = demo_data.committee_rows(session, divisions)
        second = demo_data.committee_rows(session, divisions)
    assert len(first) == 6077
    assert [r.values for r in first] == [r.values for r in second]


def test_running_the_demo_again_creates_nothing(shequyun_kernel):
    demo_data.load(shequyun_kernel)
    with Session(shequyun_kernel.engine) as session:
        users = session.exec(select(func.count()).select_from(User)).one()
    summary = load_demo(shequyun_kernel)
    [line] = [s for s in summary if s.startswith("identity：")]
    assert "演示数据已加载，未重复创建" in line
    assert level_counts(shequyun_kernel)["committee"] == 6077
    assert sum(level_counts(shequyun_kernel).values()) == 6309
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == users


def test_the_demo_accounts_hold_their_grants_and_the_documented_password(shequyun_kernel):
    demo_data.load(shequyun_kernel)
    with Session(shequyun_kernel.engine) as session:
        rows = session.exec(
            select(User, Grant, OrgUnit)
            .join(Grant, Grant.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Grant.unit_id)
        ).all()
    held = {user.username: (grant.role, unit.name, unit.level) for user, grant, unit in rows}
    assert held["admin"] == ("identity.platform_admin", "上海市", "city")
    assert held["shimzj"] == ("identity.bureau", "上海市", "city")
    assert held["xuhui.admin"] == ("identity.district_admin", "徐汇区", "district")
    assert held["tianping.admin"] == ("identity.street_admin", "天平路街道", "street")
    role, committee, level = held["tianping.cadre"]
    assert (role, level) == ("identity.cadre", "committee") and committee.endswith("居委会")
    for user, _, _ in rows:
        assert not user.must_change_password
        assert verify_password(user.password_hash, demo_data.DEMO_PASSWORD)


def test_a_demo_street_admin_browses_their_street(shequyun_kernel, shequyun_client):
    demo_data.load(shequyun_kernel)
    login = shequyun_client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', login).group(1)
    response = shequyun_client.post(
        "/login",
        data={"username": "tianping.admin", "password": "Demo-2026", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    listed = shequyun_client.get("/api/v1/org-units", params={"limit": "500"}).json()
    assert listed["next_cursor"] is None
    assert listed["items"] and all(u["code"].startswith("310104003") for u in listed["items"])
    assert shequyun_client.get("/api/v1/org-units/310104004000").status_code == 404
