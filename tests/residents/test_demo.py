"""``shequyun demo`` residents: a full 天平路街道, a few everywhere else, never twice."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, col, select

from shequyun.events import OutboxEvent
from shequyun.identity import demo_data
from shequyun.identity.models import Grant, OrgUnit, User
from shequyun.residents import demo
from shequyun.residents.models import Resident, ResidentChange
from shequyun.residents.service import ResidentFilters


def per_committee(kernel):
    with Session(kernel.engine) as session:
        rows = session.exec(
            select(OrgUnit.code, func.count())
            .join(Resident, col(Resident.unit_id) == col(OrgUnit.id))
            .group_by(col(OrgUnit.code))
        ).all()
    return Counter(dict(rows))


def count(kernel, model):
    with Session(kernel.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_without_the_demo_org_tree_it_says_so_and_writes_nothing(shequyun_kernel):
    assert (
        demo.load(shequyun_kernel) == "未找到演示组织架构（天平路街道 310104003000），未生成居民。"
    )
    assert count(shequyun_kernel, Resident) == 0


def test_tianping_gets_full_committees_and_the_others_a_few(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    cadre = shequyun_actors.make("identity.cadre", "310104003002", username="tianping.cadre")
    summary = demo.load(shequyun_kernel)
    sizes = per_committee(shequyun_kernel)
    assert sizes["310104003002"] == 4000 + 1  # the fullest, and the demo resident (below)
    assert 600 <= sizes["310104003001"] <= 4000
    for code in ("310115004001", "310115004002", "310115005001"):
        assert 20 <= sizes[code] <= 50
    total = sum(sizes.values()) - 1
    created = re.search(r"新增 ([\d,]+) 人、([\d,]+) 户", summary)
    assert created and int(created[1].replace(",", "")) == total
    assert "天平路街道 2 个居委各 600–4,000 人，其他 3 个居村委各 20–50 人" in summary

    listed = shequyun_client.get("/api/v1/residents?limit=50", headers=cadre.auth).json()
    assert len(listed["items"]) == 50 and listed["next_cursor"]
    assert {i["unit"]["code"] for i in listed["items"]} == {"310104003002"}
    history = shequyun_client.get(
        f"/api/v1/residents/{listed['items'][0]['id']}/history", headers=cadre.auth
    ).json()["changes"]
    assert [(c["field"], c["source"]) for c in history] == [("(created)", "import")]
    assert count(shequyun_kernel, ResidentChange) == total + 1  # one (created) row each
    with Session(shequyun_kernel.engine) as session:  # and no events but the demo resident's
        events = session.exec(select(OutboxEvent.type)).all()
    assert events == ["resident.created"]


def test_the_demo_resident_is_registered_by_the_demo_cadre_in_the_first_building(
    shequyun_client, shequyun_kernel, shequyun_units, shequyun_actors
):
    cadre = shequyun_actors.make("identity.cadre", "310104003002", username="tianping.cadre")
    summary = demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))

    found = shequyun_client.get(
        "/api/v1/residents", params={"id_number": demo.DEMO_RESIDENT.id_number},
        headers=cadre.auth,
    ).json()["items"]  # fmt: skip
    assert [(r["name"], r["unit"]["code"]) for r in found] == [("陈晓梅", "310104003002")]
    her = found[0]
    assert her["gender"] == "female" and her["birth_date"] == "1988-06-15"
    assert (
        f"演示居民 陈晓梅（{shequyun_units['310104003002'].name}，{her['address']['label']}）"
        in (summary)
    )
    # She joined an existing household of the committee's first building, as a family member.
    with Session(shequyun_kernel.engine) as session:
        members = session.exec(
            select(Resident.name).where(Resident.household_id == her["household"]["id"])
        ).all()
    assert len(members) > 1 and "陈晓梅" in members
    history = shequyun_client.get(f"/api/v1/residents/{her['id']}/history", headers=cadre.auth)
    assert [c["field"] for c in history.json()["changes"]] == ["(created)"]

    again = demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    assert "陈晓梅" not in again
    assert len(
        shequyun_client.get(
            "/api/v1/residents", params={"q": "陈晓梅"}, headers=cadre.auth
        ).json()["items"]
    ) == 1  # fmt: skip


def test_without_the_demo_cadre_there_is_no_demo_resident(shequyun_kernel, shequyun_units):
    summary = demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    assert "陈晓梅" not in summary


def test_running_it_again_adds_nothing(shequyun_kernel, shequyun_units):
    demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    before = per_committee(shequyun_kernel)
    again = demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    assert again == f"演示居民已加载，未重复创建（共 {sum(before.values()):,} 人）。"
    assert per_committee(shequyun_kernel) == before


def test_an_empty_committee_is_filled_later_and_the_others_are_left_alone(
    shequyun_kernel, shequyun_units
):
    from shequyun.identity.directory import create_unit

    demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    before = per_committee(shequyun_kernel)
    with Session(shequyun_kernel.engine, expire_on_commit=False) as session:
        street = session.get(OrgUnit, shequyun_units["310115005000"].id)
        create_unit(session, code="310115005002", name="梅园二村居委会", level="committee",
                    parent=street)  # fmt: skip
        session.commit()
    summary = demo.load(shequyun_kernel, full=(30, 40), small=(2, 3))
    assert "其他 1 个居村委各 2–3 人" in summary
    after = per_committee(shequyun_kernel)
    assert 2 <= after.pop("310115005002") <= 3
    assert after == before


def test_on_the_demo_org_tree_every_committee_has_residents(shequyun_kernel):
    demo_data.load(shequyun_kernel)
    summary = demo.load(shequyun_kernel, full=(40, 60), small=(1, 2))
    assert "天平路街道 28 个居委各 40–60 人，其他 6,049 个居村委各 1–2 人" in summary
    sizes = per_committee(shequyun_kernel)
    assert len(sizes) == 6077
    with Session(shequyun_kernel.engine) as session:
        user = session.exec(select(User).where(User.username == "tianping.cadre")).one()
        grant = session.exec(select(Grant).where(Grant.user_id == user.id)).one()
        unit = session.get(OrgUnit, grant.unit_id)
        actor = shequyun_kernel.authenticator.actor_for(user, grant, unit, "session")
        page = shequyun_kernel.residents.search(session, actor, ResidentFilters(), limit=100)
    assert sizes[unit.code] == 60 + 1  # with the demo resident
    assert len(page.items) == 61
    assert {item["unit"]["code"] for item in page.items} == {unit.code}
