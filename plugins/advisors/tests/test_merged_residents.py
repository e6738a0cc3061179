"""Two records of one person merged in the data-quality review: 政策找人 cases, benefit receipts
and service records follow the kept record, and go back when the merge is undone."""

from __future__ import annotations

from shequyun_advisors.models import Case, CaseEvent, Receipt, ServiceRecord
from sqlmodel import Session, select

from .conftest import API, WEIFANG, WEIFANG1, WEIFANG2, id_number

POLICY = "sh-elderly-allowance"  # 老年综合津贴: everyone of 65 and over


def register(client, actors, unit, serial):
    """王秀英, 72, registered in ``unit`` (same name, gender and birth date every time)."""
    response = client.post(
        "/api/v1/residents",
        json={
            "name": "王秀英",
            "id_number": id_number(serial, born="19540301"),
            "registration": "户籍",
            "household_number": f"H{serial}",
        },
        headers=actors.cadre(unit).auth,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def a_service_for(client, actors, resident_id):
    """An advisor of the street records a home visit to ``resident_id``."""
    street = actors.street_admin(WEIFANG)
    point = client.post(
        f"{API}/points",
        json={"name": "顾问点", "kind": "both", "unit": WEIFANG},
        headers=street.auth,
    ).json()
    advisor = actors.make("advisors.advisor", WEIFANG)
    client.post(
        f"{API}/advisors",
        json={
            "name": "顾问甲",
            "kind": "elderly",
            "point_id": point["id"],
            "user_id": advisor.user.id,
        },
        headers=street.auth,
    )
    record = client.post(
        f"{API}/services",
        json={
            "kind": "home_visit",
            "channel": "offline",
            "summary": "上门",
            "resident_id": resident_id,
        },
        headers=advisor.auth,
    )
    assert record.status_code == 201, record.text
    return record.json()["id"]


def case_of(kernel, resident_id):
    with Session(kernel.engine) as session:
        return session.exec(
            select(Case).where(Case.resident_id == resident_id, Case.policy_id == POLICY)
        ).one()


def test_cases_receipts_and_services_follow_the_kept_record_and_go_back(
    shequyun_client, shequyun_actors, shequyun_kernel, drain_events
):
    client, street = shequyun_client, shequyun_actors.street_admin(WEIFANG)
    old = register(client, shequyun_actors, WEIFANG1, 101)
    new = register(client, shequyun_actors, WEIFANG2, 111)  # a move never recorded as a transfer
    client.post(f"{API}/outreach/sync", json={}, headers=street.auth)
    # The old record's case got as far as receiving (with a receipt); the new one was just found.
    approved = client.post(
        f"{API}/outreach/cases/{case_of(shequyun_kernel, old).id}/outcome",
        json={"outcome": "approved"},
        headers=street.auth,
    )
    assert approved.json()["status"] == "receiving"
    service = a_service_for(client, shequyun_actors, old)
    drain_events()

    shequyun_kernel.quality.duplicates.find()
    pairs = client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {old, new}]
    merged = client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": new}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["merge"]["moved"]["plugins"]["advisors"]["services"] == [service]
    drain_events()

    # One person, one case per policy: the kept record's, with the progress the other had.
    kept_case = case_of(shequyun_kernel, new)
    assert (kept_case.status, kept_case.reached) == ("receiving", 3)
    assert case_of(shequyun_kernel, old).status == "dropped"
    with Session(shequyun_kernel.engine) as session:
        assert session.get(ServiceRecord, service).resident_id == new
        receipts = session.exec(select(Receipt.resident_id).where(Receipt.policy_id == POLICY))
        assert set(receipts) == {new}
        notes = session.exec(select(CaseEvent.note).where(CaseEvent.case_id == kept_case.id))
        assert any("沿用" in note for note in notes)

    undone = client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth
    )
    assert undone.status_code == 200, undone.text
    drain_events()
    assert case_of(shequyun_kernel, old).status == "receiving"
    assert case_of(shequyun_kernel, new).status == "found"
    with Session(shequyun_kernel.engine) as session:
        assert session.get(ServiceRecord, service).resident_id == old
        receipts = session.exec(select(Receipt.resident_id).where(Receipt.policy_id == POLICY))
        assert set(receipts) == {old}


def test_a_case_only_the_merged_record_had_moves_to_the_kept_records_committee(
    shequyun_client, shequyun_actors, shequyun_kernel, shequyun_units
):
    client, street = shequyun_client, shequyun_actors.street_admin(WEIFANG)
    old = register(client, shequyun_actors, WEIFANG1, 101)
    client.post(f"{API}/outreach/sync", json={}, headers=street.auth)
    new = register(client, shequyun_actors, WEIFANG2, 111)  # registered after the sync
    shequyun_kernel.quality.duplicates.find()
    pairs = client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {old, new}]
    merged = client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": new}, headers=street.auth
    )
    assert merged.status_code == 201, merged.text
    case = case_of(shequyun_kernel, new)
    assert case.unit_id == shequyun_units[WEIFANG2].id  # now for the advisors of the new committee

    client.post(f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=street.auth)
    back = case_of(shequyun_kernel, old)
    assert (back.id, back.unit_id) == (case.id, shequyun_units[WEIFANG1].id)
