"""The district app: on for 徐汇区 only, its own table, page, API route and workbench card."""

from __future__ import annotations

import pytest


@pytest.fixture
def xuhui_only(shequyun_client, shequyun_actors):
    admin = shequyun_actors.platform_admin()
    switched = shequyun_client.put(
        "/api/v1/plugin-enablement/garbage",
        headers=admin.auth,
        json={"unit_code": "310104000000", "enabled": True},
    )
    assert switched.status_code == 200, switched.text


def test_a_xuhui_cadre_checks_in_and_the_street_sees_it(
    shequyun_client, shequyun_actors, xuhui_only
):
    cadre = shequyun_actors.cadre("310104003001")
    created = shequyun_client.post(
        "/api/v1/plugins/garbage/checkins",
        headers=cadre.auth,
        json={"households": 312, "correct_rate": 87},
    )
    assert created.status_code == 201, created.text
    again = shequyun_client.post(
        "/api/v1/plugins/garbage/checkins",
        headers=cadre.auth,
        json={"households": 1, "correct_rate": 1},
    )
    assert again.status_code == 409
    street = shequyun_actors.street_admin("310104003000")
    listed = shequyun_client.get("/api/v1/plugins/garbage/checkins", headers=street.auth).json()
    assert [(i["unit"]["name"], i["households"]) for i in listed["items"]] == [
        ("宛平南路居委会", 312)
    ]
    neighbour = shequyun_actors.cadre("310104003002")
    assert (
        shequyun_client.get("/api/v1/plugins/garbage/checkins", headers=neighbour.auth).json()[
            "items"
        ]
        == []
    )


def test_bad_input_names_the_field_and_writes_nothing(shequyun_client, shequyun_actors, xuhui_only):
    cadre = shequyun_actors.cadre("310104003001")
    bad = shequyun_client.post(
        "/api/v1/plugins/garbage/checkins",
        headers=cadre.auth,
        json={"households": "很多", "correct_rate": 140},
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"households", "correct_rate"}
    listed = shequyun_client.get("/api/v1/plugins/garbage/checkins", headers=cadre.auth).json()
    assert listed["items"] == []


def test_outside_xuhui_the_app_does_not_exist(shequyun_client, shequyun_actors, xuhui_only):
    pudong = shequyun_actors.cadre("310115004001")
    assert shequyun_client.get("/plugins/garbage/", headers=pudong.auth).status_code == 404
    assert (
        shequyun_client.get("/api/v1/plugins/garbage/checkins", headers=pudong.auth).status_code
        == 404
    )
    home = pudong.portal().get("/")
    assert "垃圾分类" not in home.text
    xuhui = shequyun_actors.cadre("310104003001").portal()
    assert "垃圾分类" in xuhui.get("/").text
    page = xuhui.get("/plugins/garbage/")
    assert page.status_code == 200 and "今日打卡" in page.text


def test_off_by_default(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    assert shequyun_client.get("/plugins/garbage/", headers=cadre.auth).status_code == 404


def test_the_page_and_card_speak_english_from_the_apps_own_catalog(shequyun_actors, xuhui_only):
    xuhui = shequyun_actors.cadre("310104003001").portal()
    assert "<h1>垃圾分类检查打卡</h1>" in xuhui.get("/plugins/garbage/").text
    xuhui.cookies.set("shequyun_lang", "en")
    page = xuhui.get("/plugins/garbage/").text
    assert "<h1>Garbage-sorting check-in</h1>" in page
    assert '<label for="households">Households taking part</label>' in page
    assert '<a href="/">Home</a>' in page  # the kernel's catalog fills in
    workbench = xuhui.get("/").text
    assert "Garbage check-in" in workbench and "0 households today" in workbench


def test_the_check_in_indicators_add_up_as_ratios_of_sums(
    shequyun_client, shequyun_actors, xuhui_only
):
    for code, households, rate in (("310104003001", 300, 90), ("310104003002", 30, 50)):
        cadre = shequyun_actors.cadre(code)
        created = shequyun_client.post(
            "/api/v1/plugins/garbage/checkins",
            headers=cadre.auth,
            json={"households": households, "correct_rate": rate},
        )
        assert created.status_code == 201, created.text
    district = shequyun_actors.district_admin("310104000000")
    body = shequyun_client.get(
        "/api/v1/indicators/units/310104000000/garbage.correct_rate", headers=district.auth
    ).json()["indicator"]
    # (300 × 90% + 30 × 50%) ÷ 330 = 86.4%, not the mean of the two rates (70%).
    assert (body["unit"]["value"], body["unit"]["base"]) == (285, 330)
    assert round(body["unit"]["figure"], 1) == 86.4
    households = shequyun_client.get(
        "/api/v1/indicators/units/310104003000/garbage.households", headers=district.auth
    ).json()["indicator"]
    assert households["unit"]["figure"] == 330
    assert [(c["unit"]["name"], c["figure"]) for c in households["children"]] == [
        ("宛平南路居委会", 300),
        ("建国西路居委会", 30),
    ]


def test_the_indicators_stay_out_of_districts_without_the_app(
    shequyun_client, shequyun_actors, xuhui_only
):
    pudong = shequyun_actors.district_admin("310115000000")
    listed = shequyun_client.get("/api/v1/indicators", headers=pudong.auth).json()
    assert not [i for i in listed["indicators"] if i["plugin"] == "garbage"]
    xuhui = shequyun_actors.district_admin("310104000000")
    listed = shequyun_client.get("/api/v1/indicators", headers=xuhui.auth).json()
    assert {"garbage.households", "garbage.correct_rate"} <= {
        i["name"] for i in listed["indicators"]
    }
