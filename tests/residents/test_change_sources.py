"""Where a change to a resident came from — the portal, the API, a plugin, an import — is what
its history rows and its audit entry say, for every kind of change."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from shequyun.identity.models import AuditEntry
from shequyun.residents.models import ResidentChange
from shequyun.residents.write_steps import audit_write, check_source, record_history

from ..portal.test_residents_pages import actor_of, edit_form, hidden
from ._data import id_number, resident

W1, W2 = "310115004001", "310115004002"


def register(client, cadre, serial: str) -> int:
    body = resident(id_number=id_number(serial=serial), household_number=None)
    made = client.post("/api/v1/residents", json=body, headers=cadre.auth)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def trail(kernel, resident_id: int, version: int) -> tuple[set[str], set[str]]:
    """The sources of the history rows and of the audit entry of one change (one version)."""
    with Session(kernel.engine) as session:
        rows = session.exec(
            select(ResidentChange.source).where(
                ResidentChange.resident_id == resident_id, ResidentChange.version == version
            )
        ).all()
        entries = [
            e
            for e in session.exec(
                select(AuditEntry)
                .where(AuditEntry.target_type == "resident")
                .where(AuditEntry.target_id == str(resident_id))
                .where(col(AuditEntry.action).startswith("resident."))
                .where(AuditEntry.action != "resident.revealed")
            )
            if e.detail.get("version") == version
        ]
    assert rows and entries, "the change left no trail"
    return set(rows), {e.detail.get("source") for e in entries}


def test_a_transfer_from_the_portal_says_portal_and_one_through_the_api_says_api(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre(W1)
    by_page = register(shequyun_client, cadre, "201")
    by_api = register(shequyun_client, cadre, "202")
    portal = cadre.portal()
    page = portal.get(f"/residents/{by_page}/transfer")
    moved = portal.post(
        f"/residents/{by_page}/transfer",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "version": "1",
            "to_unit_code": W2,
            "effective_on": "2026-11-01",
            "reason": "搬家",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert trail(shequyun_kernel, by_page, 2) == ({"portal"}, {"portal"})

    answer = shequyun_client.post(
        f"/api/v1/residents/{by_api}/transfer",
        json={"to_unit_code": W2, "effective_on": "2026-11-01", "version": 1},
        headers=cadre.auth,
    )
    assert answer.status_code == 200, answer.text
    assert trail(shequyun_kernel, by_api, 2) == ({"api"}, {"api"})
    # The new committee reads the source in the history the record took with it.
    history = shequyun_client.get(
        f"/api/v1/residents/{by_page}/history", headers=shequyun_actors.cadre(W2).auth
    ).json()["changes"]
    assert {(c["field"], c["source"]) for c in history if c["version"] == 2} == {
        ("unit", "portal"),
        ("address", "portal"),
    }


def test_edits_and_tags_from_the_portal_say_portal(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre(W1)
    wang = register(shequyun_client, cadre, "203")
    portal = cadre.portal()
    edit = portal.get(f"/residents/{wang}/edit")
    saved = portal.post(f"/residents/{wang}/edit", data=edit_form(edit.text, name="王秀华"))
    assert saved.status_code == 200 and "已保存修改" in saved.text
    assert trail(shequyun_kernel, wang, 2) == ({"portal"}, {"portal"})

    listing = portal.get("/residents")
    token = re.search(r'name="csrf_token" value="([^"]*)"', listing.text)[1]
    tagged = portal.post(
        "/residents/batch",
        data={"csrf_token": token, "id": [str(wang)], "action": "add", "tag": "重点关注"},
        follow_redirects=False,
    )
    assert tagged.status_code == 303, tagged.text
    assert trail(shequyun_kernel, wang, 3) == ({"portal"}, {"portal"})


def test_changes_through_the_api_say_api(shequyun_client, shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    wang = register(shequyun_client, cadre, "204")
    assert trail(shequyun_kernel, wang, 1) == ({"api"}, {"api"})
    url = f"/api/v1/residents/{wang}"
    patched = shequyun_client.patch(url, json={"version": 1, "name": "王秀华"}, headers=cadre.auth)
    assert patched.status_code == 200, patched.text
    assert trail(shequyun_kernel, wang, 2) == ({"api"}, {"api"})
    tagged = shequyun_client.post(
        "/api/v1/residents/batch/tags",
        json={"resident_ids": [wang], "add": ["重点关注"]},
        headers=cadre.auth,
    )
    assert tagged.status_code == 200, tagged.text
    assert trail(shequyun_kernel, wang, 3) == ({"api"}, {"api"})
    removed = shequyun_client.request(
        "DELETE", url, json={"version": 3, "reason": "已去世"}, headers=cadre.auth
    )
    assert removed.status_code == 200, removed.text
    assert trail(shequyun_kernel, wang, 4) == ({"api"}, {"api"})


def test_a_plugin_change_says_plugin_whatever_source_it_claims(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre(W1)
    wang = register(shequyun_client, cadre, "205")
    platform = shequyun_kernel.platform
    actor = actor_of(shequyun_kernel, cadre)
    for version, claimed, recorded in (
        (1, "plugin:advisors", "plugin:advisors"),
        (2, "portal", "plugin"),  # a plugin's call did not come through the portal
        (3, "plugin:" + "x" * 30, "plugin"),  # too long to store: the kind, not a cut name
    ):
        with Session(shequyun_kernel.engine) as session:
            platform.update_resident(
                session,
                actor,
                wang,
                {"phone": f"1390000{version:04d}"},
                version=version,
                source=claimed,
            )
            session.commit()
        assert trail(shequyun_kernel, wang, version + 1) == ({recorded}, {recorded})


def test_an_import_is_audited_once_for_the_file_and_its_rows_say_import(
    shequyun_kernel, shequyun_actors
):
    portal = shequyun_actors.cadre(W1).portal()
    token = hidden(portal.get("/residents/import").text, "csrf_token")
    csv = "姓名,身份证号,户籍类型,出生日期\n王秀英," + id_number(serial="206") + ",户籍,1945/3/12\n"
    checked = portal.post(
        "/residents/import",
        data={"csrf_token": token},
        files={"file": ("居民.csv", csv.encode(), "text/csv")},
    )
    assert checked.status_code == 200 and "检查通过" in checked.text, checked.text
    done = portal.post(
        "/residents/import/confirm",
        data={"csrf_token": token, "token": hidden(checked.text, "token")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with Session(shequyun_kernel.engine) as session:
        assert set(session.exec(select(ResidentChange.source))) == {"import"}
        actions = set(session.exec(select(AuditEntry.action)))
    assert "resident.imported" in actions and "resident.created" not in actions


@pytest.mark.parametrize("source", ["", "cli", "plugin:", "API", "Portal"])
def test_a_write_that_does_not_say_where_it_came_from_is_refused_not_called_api(
    shequyun_client, shequyun_kernel, shequyun_actors, source
):
    with pytest.raises(ValueError, match="unknown source"):
        check_source(source)
    cadre = shequyun_actors.cadre(W1)
    wang = register(shequyun_client, cadre, "207")
    with Session(shequyun_kernel.engine) as session:
        from shequyun.residents.models import Resident

        record = session.get(Resident, wang)
        with pytest.raises(ValueError):
            record_history(session, None, record, source, [("name", "a", "b")])
        with pytest.raises(ValueError):
            audit_write(session, None, "resident.updated", record, source)
