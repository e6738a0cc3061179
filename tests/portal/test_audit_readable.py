"""审计日志 as a street admin reads it: Chinese actions, names instead of ids, filters, download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlmodel import Session, select

from shequyun.identity import audit
from shequyun.identity.models import AuditEntry

from ..residents._data import id_number, resident


def _actor(kernel, test_actor):
    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine) as session:
        grant = session.get(Grant, test_actor.grant.id)
        user = session.get(User, test_actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "session")


def _a_day_of_work(kernel, actors):
    """A cadre registers and exports residents; a street admin creates a user."""
    cadre = actors.cadre("310115004001")
    with Session(kernel.engine, expire_on_commit=False) as session:
        created = kernel.residents.create(
            session,
            _actor(kernel, cadre),
            resident(name="孙桂兰", id_number=id_number(born="19500101", serial="231")),
            source="portal",
        )
        audit.record(
            session,
            "resident.exported",
            actor=_actor(kernel, cadre),
            unit_id=actors.units["310115004001"].id,
            detail={"format": "csv", "rows": 12, "purpose": "走访名单"},
        )
        session.commit()
    return cadre, created.id


def _rows(page):
    return re.findall(r"<tr>\s*(<td.*?)</tr>", page.text, re.S)


def test_the_log_names_actions_people_and_objects(shequyun_kernel, shequyun_actors):
    cadre, resident_id = _a_day_of_work(shequyun_kernel, shequyun_actors)
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get("/admin/audit")
    assert page.status_code == 200
    created = next(r for r in _rows(page) if "resident.created" in r)
    assert "登记居民" in created
    assert cadre.user.display_name in created and cadre.username in created
    assert "潍坊一村居委会" in created and "浦东新区 › 潍坊新村街道" in created
    # The street admin reads residents of the street: the object is the person, with a link.
    assert f'<a href="/residents/{resident_id}">居民 孙桂兰</a>' in created
    exported = next(r for r in _rows(page) if "resident.exported" in r)
    assert "下载居民名单" in exported
    assert "格式：csv" in exported and "行数：12" in exported and "用途：走访名单" in exported
    assert "{" not in exported  # no JSON


def test_filters_by_person_name_kind_and_object(shequyun_kernel, shequyun_actors):
    cadre, resident_id = _a_day_of_work(shequyun_kernel, shequyun_actors)
    street = shequyun_actors.street_admin("310115004000").portal()
    by_name = street.get("/admin/audit", params={"actor": cadre.user.display_name})
    assert by_name.status_code == 200
    assert len(_rows(by_name)) == 2  # the registration and the download
    by_kind = street.get("/admin/audit", params={"action": "resident.exported"})
    assert [r for r in _rows(by_kind) if "resident.created" in r] == []
    assert '<option value="resident.exported" selected>下载居民名单</option>' in by_kind.text
    link = f"target_type=resident&amp;target_id={resident_id}"
    assert link in street.get("/admin/audit").text
    one = street.get(f"/admin/audit?{link.replace('&amp;', '&')}")
    assert len(_rows(one)) == 1 and "登记居民" in one.text


def test_the_download_is_what_the_page_shows_in_beijing_time_and_is_audited(
    shequyun_kernel, shequyun_actors
):
    _a_day_of_work(shequyun_kernel, shequyun_actors)
    admin = shequyun_actors.street_admin("310115004000")
    street = admin.portal()
    answer = street.get("/admin/audit/export", params={"action": "resident.", "format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间（北京时间）", "动作", "操作人"]
    assert {r[1] for r in rows[1:]} == {"登记居民", "下载居民名单"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[1][0])
    xlsx = street.get("/admin/audit/export", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    with Session(shequyun_kernel.engine) as session:
        kept = session.exec(select(AuditEntry).where(AuditEntry.action == "audit.exported")).all()
    assert [e.detail["format"] for e in kept] == ["csv", "xlsx"]
    assert kept[0].detail["filters"] == {"action": "resident."}
    assert kept[0].actor_username == admin.username
    bad = street.get("/admin/audit/export", params={"format": "pdf"})
    assert bad.status_code == 422


class Lifts:
    """A district app that audits its own action and says what it means."""

    MANIFEST = {
        "name": "lifts",
        "version": "0.1.0",
        "title": {"zh": "加装电梯"},
        "description": {"zh": "老楼加装电梯的意见征询"},
        "sdk": ">=0.1,<0.2",
        "audit_actions": {"lifts.consulted": {"zh": "发起加装电梯征询", "en": "Consulted"}},
    }


@pytest.fixture
def shequyun_plugins():
    return [Lifts()]


def test_a_plugins_actions_are_titled_from_its_manifest(shequyun_kernel, shequyun_actors):
    with Session(shequyun_kernel.engine) as session:
        audit.record(
            session,
            "lifts.consulted",
            unit_id=shequyun_actors.units["310115004001"].id,
        )
        session.commit()
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get("/admin/audit")
    row = next(r for r in _rows(page) if "lifts.consulted" in r)
    assert "发起加装电梯征询" in row
    assert '<optgroup label="加装电梯">' in page.text
