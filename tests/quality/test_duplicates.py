"""Duplicates beyond the exact ID number: found, merged by the street with every reference
moved, undone; two streets' pair only for their common district."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from shequyun.collection.models import Campaign, Form, FormVersion, Task
from shequyun.identity.models import AuditEntry
from shequyun.residents.models import Resident, ResidentChange, ResidentTag

from .conftest import Town


def _roster_answer(town: Town, unit_code: str, *resident_ids: int) -> int:
    """A roster campaign's task whose answers name ``resident_ids``."""
    unit = town.units[unit_code]
    now = datetime.now(UTC)
    with Session(town.kernel.engine) as session:
        form = Form(title="高龄津贴核对", owner_unit_id=unit.parent_id)
        session.add(form)
        session.flush()
        version = FormVersion(form_id=form.id, number=1, schema_={}, status="published")
        session.add(version)
        session.flush()
        campaign = Campaign(
            form_version_id=version.id, title="高龄津贴核对", publisher_unit_id=unit.parent_id,
            starts_at=now - timedelta(days=1), deadline=now + timedelta(days=3), mode="roster",
        )  # fmt: skip
        session.add(campaign)
        session.flush()
        task = Task(
            campaign_id=campaign.id, unit_id=unit.id, street_id=unit.parent_id,
            district_id=town.units["310115000000"].id,
            data={"rows": [{"resident_id": r, "在家": True} for r in resident_ids]},
        )  # fmt: skip
        session.add(task)
        session.commit()
        return task.id


def _pair_of(town: Town, actor, first: int, second: int) -> dict:
    pairs = town.client.get("/api/v1/quality/duplicates", headers=actor.auth).json()["pairs"]
    for pair in pairs:
        if {r["id"] for r in pair["residents"]} == {first, second}:
            return pair
    raise AssertionError(f"no pair of {first} and {second} in {pairs}")


def test_a_missed_transfer_is_found_merged_by_the_street_and_undone(town: Town):
    old = town.add("310115004002", name="周漏迁", born="19560101", phone=None, tags=["党员"])
    town.serial += 1  # the same gender
    new = town.add(name="周漏迁", born="19560101", tags=["残疾"], household_number=None)
    task = _roster_answer(town, "310115004002", old)
    assert town.kernel.quality.duplicates.find() >= 1
    street = town.actors.street_admin("310115004000")
    pair = _pair_of(town, street, old, new)
    assert pair["reason"] == "missed_transfer"

    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": new}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    merge = merged.json()["merge"]
    with Session(town.kernel.engine) as session:
        kept, gone = session.get(Resident, new), session.get(Resident, old)
        assert gone.status == "removed" and kept.status == "active"
        tags = set(session.exec(select(ResidentTag.tag).where(ResidentTag.resident_id == new)))
        assert tags == {"党员", "残疾"}
        assert kept.household_id is not None  # filled from the other record
        assert session.get(Task, task).data["rows"][0]["resident_id"] == new
        history = session.exec(
            select(ResidentChange.field, ResidentChange.source).where(
                ResidentChange.resident_id == old
            )
        ).all()
        fields = [field for field, _ in history]
        assert "(created)" in fields and "(merged into)" in fields  # history kept
        assert ("(merged into)", "api") in history  # asked through the API, and says so
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "quality.merged")).one()
        assert entry.detail["source"] == "api"
    assert (
        "missed" not in town.client.get("/api/v1/quality/duplicates", headers=street.auth).text
    )  # decided pairs leave the open list

    undone = town.client.post(f"/api/v1/quality/merges/{merge['id']}/undo", headers=street.auth)
    assert undone.status_code == 200, undone.text
    with Session(town.kernel.engine) as session:
        kept, back = session.get(Resident, new), session.get(Resident, old)
        assert back.status == "active"
        tags = set(session.exec(select(ResidentTag.tag).where(ResidentTag.resident_id == new)))
        assert tags == {"残疾"}
        assert kept.household_id is None
        assert session.get(Task, task).data["rows"][0]["resident_id"] == old
    assert _pair_of(town, street, old, new)["status"] == "open"


def test_two_streets_pair_is_for_their_common_district_only(town: Town):
    here = town.add(name="吴两街", born="19700303")
    town.serial += 1
    there = town.add("310115005001", name="吴两街", born="19700303")
    town.kernel.quality.duplicates.find()
    street = town.actors.street_admin("310115004000")
    listed = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    assert not any({r["id"] for r in p["residents"]} == {here, there} for p in listed)

    district = town.actors.district_admin("310115000000")
    pair = _pair_of(town, district, here, there)
    refused = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": here}, headers=street.auth
    )
    assert refused.status_code == 404
    cadre = town.cadre()
    assert (
        town.client.post(
            f"/api/v1/quality/duplicates/{pair['id']}/different", headers=cadre.auth
        ).status_code
        == 403
    )
    different = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/different", headers=district.auth
    )
    assert different.status_code == 200
    assert _pair_of_status(town, district, "different", here, there)


def _pair_of_status(town: Town, actor, status: str, first: int, second: int) -> bool:
    pairs = town.client.get(
        "/api/v1/quality/duplicates", params={"status": status}, headers=actor.auth
    ).json()["pairs"]
    return any({r["id"] for r in p["residents"]} == {first, second} for p in pairs)


def test_name_and_phone_pairs_are_found_and_a_clean_town_has_none_of_ours(town: Town):
    first = town.add(name="郑同号", born="19800101", phone="13911112222")
    second = town.add(name="郑同号", born="19811111", phone="13911112222")
    clean = town.add(name="独一无二", born="19900909")
    town.kernel.quality.duplicates.find()
    district = town.actors.district_admin("310115000000")
    assert _pair_of(town, district, first, second)["reason"] == "name_phone"
    pairs = town.client.get("/api/v1/quality/duplicates", headers=district.auth).json()["pairs"]
    assert not any(clean in {r["id"] for r in p["residents"]} for p in pairs)


def test_the_review_page_merges_and_undoes(town: Town):
    first = town.add(name="冯页面", born="19660606")
    town.serial += 1
    second = town.add("310115004002", name="冯页面", born="19660606")
    town.kernel.quality.duplicates.find()
    portal = town.actors.street_admin("310115004000").portal()
    page = portal.get("/quality/duplicates")
    assert "疑似重复记录" in page.text and f'href="/residents/{second}"' in page.text
    pair = _pair_of(town, town.actors.street_admin("310115004000"), first, second)
    done = portal.post(
        f"/quality/duplicates/{pair['id']}",
        data={"action": "merge", "keep": str(first)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with Session(town.kernel.engine) as session:
        assert session.get(Resident, second).status == "removed"
        # Decided on the page: both records' history and the audit entry say the portal.
        sources = session.exec(
            select(ResidentChange.resident_id, ResidentChange.source).where(
                ResidentChange.field.in_(["(merged)", "(merged into)"])  # type: ignore[attr-defined]
            )
        ).all()
        assert sorted(sources) == sorted([(first, "portal"), (second, "portal")])
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "quality.merged")).one()
        assert entry.detail["source"] == "portal"
    page = portal.get("/quality/duplicates")
    assert "撤销合并" in page.text


def test_a_task_that_lists_both_records_lists_the_person_once_until_the_undo(town: Town):
    first = town.add(name="郑两行", born="19660606")
    town.serial += 1
    second = town.add(name="郑两行", born="19660606")
    task = _roster_answer(town, "310115004001", first, second)
    town.kernel.quality.duplicates.find()
    street = town.actors.street_admin("310115004000")
    pair = _pair_of(town, street, first, second)
    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": second}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["merge"]["moved"]["tasks"] == {}
    with Session(town.kernel.engine) as session:
        rows = session.get(Task, task).data["rows"]
        assert [r["resident_id"] for r in rows] == [second]  # the person once, not twice

    undone = town.client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth
    )
    assert undone.status_code == 200, undone.text
    with Session(town.kernel.engine) as session:
        rows = session.get(Task, task).data["rows"]
        assert rows == [{"resident_id": first, "在家": True}, {"resident_id": second, "在家": True}]


def test_answers_from_a_committee_the_merged_record_has_left_follow_it_too(town: Town):
    moved = town.add("310115004002", name="冯迁过", born="19591010")
    task = _roster_answer(town, "310115004002", moved)  # answered while it lived there
    cadre = town.cadre("310115004002")
    version = town.client.get(f"/api/v1/residents/{moved}", headers=cadre.auth).json()["version"]
    transferred = town.client.post(
        f"/api/v1/residents/{moved}/transfer",
        json={"to_unit_code": "310115004001", "effective_on": "2026-11-01", "reason": "搬家",
              "version": version},
        headers=cadre.auth,
    )  # fmt: skip
    assert transferred.status_code == 200, transferred.text
    town.serial += 1
    kept = town.add(name="冯迁过", born="19591010")
    town.kernel.quality.duplicates.find()
    street = town.actors.street_admin("310115004000")
    pair = _pair_of(town, street, moved, kept)
    merged = town.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": kept}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    with Session(town.kernel.engine) as session:
        assert session.get(Task, task).data["rows"][0]["resident_id"] == kept
