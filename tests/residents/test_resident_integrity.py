"""Rules every write of a resident keeps, whichever door it comes through: a removed record
stays as it was, and a gender or birth date always agrees with the ID number on record."""

from __future__ import annotations

import pytest
from shequyun_sdk import Conflict
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry
from shequyun.residents.models import Resident, ResidentChange, ResidentTransfer

from ._data import id_number, resident


def create(client, actor, **overrides):
    response = client.post("/api/v1/residents", json=resident(**overrides), headers=actor.auth)
    assert response.status_code == 201, response.text
    return response.json()


def removed(client, actor, **overrides):
    created = create(client, actor, **overrides)
    gone = client.request(
        "DELETE",
        f"/api/v1/residents/{created['id']}",
        json={"version": 1, "reason": "已去世"},
        headers=actor.auth,
    )
    assert gone.status_code == 200, gone.text
    return gone.json()


def trail(kernel, resident_id):
    """What a write leaves: the record's version, its history rows, audit entries, transfers."""
    with Session(kernel.engine) as session:
        return (
            session.get(Resident, resident_id).version,
            len(
                session.exec(
                    select(ResidentChange).where(ResidentChange.resident_id == resident_id)
                ).all()
            ),
            len(session.exec(select(AuditEntry)).all()),
            len(session.exec(select(ResidentTransfer)).all()),
        )


def test_a_removed_record_is_neither_changed_nor_moved(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre("310115004001")
    gone = removed(shequyun_client, cadre)
    url = f"/api/v1/residents/{gone['id']}"
    before = trail(shequyun_kernel, gone["id"])
    patch = shequyun_client.patch(
        url, json={"version": gone["version"], "name": "王秀华"}, headers=cadre.auth
    )
    assert patch.status_code == 409, patch.text
    assert patch.json()["error"] == {
        "code": "conflict",
        "message": "该居民已注销",
        "field": "status",
    }
    moved = shequyun_client.post(
        f"{url}/transfer",
        json={"to_unit_code": "310104003001", "effective_on": "2026-11-01", "version": 2},
        headers=cadre.auth,
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["field"] == "status"
    assert moved.json()["error"]["message"] == "该居民已注销"
    assert trail(shequyun_kernel, gone["id"]) == before
    record = shequyun_client.get(url, headers=cadre.auth).json()
    assert (record["name"], record["unit"]["code"]) == ("王秀英", "310115004001")
    assert (record["status"], record["version"]) == ("removed", 2)


def test_a_plugin_cannot_change_a_removed_record_either(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre("310115004001")
    gone = removed(shequyun_client, cadre)
    from ..portal.test_residents_pages import actor_of

    with Session(shequyun_kernel.engine) as session, pytest.raises(Conflict, match="该居民已注销"):
        shequyun_kernel.platform.update_resident(
            session,
            actor_of(shequyun_kernel, cadre),
            gone["id"],
            {"phone": "13900001111"},
            version=gone["version"],
        )


def test_gender_and_birth_date_alone_must_agree_with_the_stored_id_number(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)  # a woman born 1945-03-12
    url = f"/api/v1/residents/{created['id']}"
    before = trail(shequyun_kernel, created["id"])
    wrong = shequyun_client.patch(
        url, json={"version": 1, "gender": "男", "birth_date": "1990-01-01"}, headers=cadre.auth
    )
    assert wrong.status_code == 422, wrong.text
    error = wrong.json()["error"]
    assert error["field"] == "gender"
    assert error["message"] == "性别：与身份证号中的性别不一致（共 2 处问题）"
    assert error["details"] == [
        {"field": "gender", "message": "与身份证号中的性别不一致"},
        {"field": "birth_date", "message": "与身份证号中的出生日期不一致"},
    ]
    born = shequyun_client.patch(
        url, json={"version": 1, "birth_date": "1990-01-01"}, headers=cadre.auth
    )
    assert born.status_code == 422 and born.json()["error"]["field"] == "birth_date"
    assert trail(shequyun_kernel, created["id"]) == before
    # Values that agree are accepted (in any of the forms registering takes) and change nothing.
    same = shequyun_client.patch(
        url, json={"version": 1, "gender": "女", "birth_date": "1945年03月12日"}, headers=cadre.auth
    )
    assert same.status_code == 200 and same.json()["version"] == 1
    # A new ID number in the same body is what they are checked against, as before.
    male = id_number(born="19900101", serial="131")
    both = shequyun_client.patch(
        url,
        json={"version": 1, "id_number": male, "gender": "男", "birth_date": "1990-01-01"},
        headers=cadre.auth,
    )
    assert both.status_code == 200, both.text
    assert (both.json()["gender"], both.json()["birth_date"]) == ("male", "1990-01-01")
