"""The portal's shell in English: the role in the header, the breadcrumb's name, dates, and a
kernel plugin's workbench card; Chinese stays as it was."""

from __future__ import annotations

import re

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
    assert "1952年7月8日（" in portal.get(path).text
    portal.cookies.set("shequyun_lang", "en")
    english = portal.get(path).text
    assert "8 Jul 1952 (aged " in english and "1952年7月8日" not in english


def test_switching_role_and_the_kernels_tags_read_in_english(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(tags=["独居老人"]), headers=cadre.auth
    )
    assert created.status_code == 201, created.text
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    grant = portal.get("/account/grant").text
    assert "<h1>Switch role</h1>" in grant and "Committee cadre" in grant
    assert "以哪个身份" not in grant
    detail = portal.get(f"/residents/{created.json()['id']}").text
    assert '<span class="badge">Elderly living alone</span>' in detail
    form = portal.get(f"/residents/{created.json()['id']}/edit").text
    assert 'value="独居老人" checked> Elderly living alone' in form  # the value stays the tag
    assert 'title="Aged 60 or over and living alone"' in form
    workbench = portal.get("/workbench").text
    assert "Elderly living alone" in workbench and "居民标签人数" not in workbench


def test_logging_in_and_changing_ones_password_read_in_english(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    shequyun_client.cookies.set("shequyun_lang", "en")
    page = shequyun_client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)[1]
    refused = shequyun_client.post(
        "/login", data={"username": cadre.username, "password": "wrong", "csrf_token": token}
    )
    assert refused.status_code == 401 and "Wrong username or password" in refused.text

    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    form = portal.get("/account/password").text
    assert "Current password" in form and "当前密码" not in form
    mismatch = portal.post(
        "/account/password",
        data={"current": cadre.password, "new": "Another-pass-2", "repeat": "Another-pass-3"},
    )
    assert mismatch.status_code == 422, mismatch.status_code
    assert "The two new passwords differ" in mismatch.text
    short = portal.post(
        "/account/password", data={"current": cadre.password, "new": "a1", "repeat": "a1"}
    )
    assert "The password needs at least" in short.text and "密码至少" not in short.text
