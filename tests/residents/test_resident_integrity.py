"""Rules every write of a resident keeps, whichever door it comes through: a removed record
stays as it was."""

from __future__ import annotations

import pytest
from shequyun_sdk import Conflict
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry
from shequyun.residents.models import Resident, ResidentChange, ResidentTransfer

from ._data import resident


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
