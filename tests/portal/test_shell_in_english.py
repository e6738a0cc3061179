"""The portal's shell in English: the role in the header, the breadcrumb's name, dates, and a
kernel plugin's workbench card; Chinese stays as it was."""

from __future__ import annotations

from ..residents._data import id_number, resident


def test_the_header_names_the_role_in_the_visitors_language(shequyun_actors):
    portal = shequyun_actors.cadre("310115004001").portal()
    chinese = portal.get("/workbench").text
    assert "居村干部" in chinese and 'aria-label="面包屑"' in chinese
    portal.cookies.set("shequyun_lang", "en")
    english = portal.get("/workbench").text
    assert "Committee cadre" in english and "居村干部" not in english
    assert 'aria-label="Breadcrumb"' in english


def test_dates_follow_the_language(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(id_number=id_number(born="19520708")), headers=cadre.auth
    )
    assert created.status_code == 201, created.text
    path = f"/residents/{created.json()['id']}"
    portal = cadre.portal()
    assert "1952年7月8日" in portal.get(path).text
    portal.cookies.set("shequyun_lang", "en")
    english = portal.get(path).text
    assert "8 Jul 1952" in english and "1952年7月8日" not in english
