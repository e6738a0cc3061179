"""The portal's indicator pages: dashboard, drill-down, detail, exports, pins and the wall."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from .conftest import PUDONG, WEIFANG


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_indicators_lands_on_the_users_own_unit(town):
    portal = town.actors.district_admin(PUDONG).portal()
    landing = portal.get("/indicators", follow_redirects=False)
    assert landing.status_code == 303
    assert landing.headers["location"] == f"/indicators/u/{PUDONG}"
    html = portal.get(landing.headers["location"]).text
    assert "<h1>浦东新区 指标</h1>" in html
    assert '<nav aria-label="主导航"' in html and 'href="/indicators" aria-current="page"' in html


def test_the_district_drills_down_to_a_committee(town):
    portal = town.actors.district_admin(PUDONG).portal()
    district = portal.get(f"/indicators/u/{PUDONG}").text
    assert f'href="/indicators/u/{WEIFANG}">潍坊新村街道</a>' in district
    street = portal.get(f"/indicators/u/{WEIFANG}").text
    assert 'href="/indicators/u/310115004001">潍坊一村居委会</a>' in street
    assert f'<a href="/indicators/u/{PUDONG}">浦东新区</a>' in street  # the breadcrumbs
    committee = portal.get("/indicators/u/310115004001").text
    assert "潍坊一村居委会 指标" in committee and "下级单位对比" not in committee
    assert "本单位指标" in committee


def test_the_children_table_downloads_as_shown(town):
    portal = town.actors.district_admin(PUDONG).portal()
    csv = portal.get(f"/indicators/u/{PUDONG}/export?table=children&format=csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("单位,编码,层级,在册居民（人）,60岁及以上居民占比（%）")
    assert lines[1].startswith("浦东新区（本级合计）,310115000000,区,360,")
    assert lines[2].startswith("潍坊新村街道,310115004000,街镇,270,")
    assert lines[3].startswith("陆家嘴街道,310115005000,街镇,90,")
    # No campaign ran: the campaigns' completeness has no figure, not zero.
    header, row = lines[0].split(","), lines[3].split(",")
    assert any(title.startswith("采集完成率") for title in header)
    for column, title in enumerate(header):
        if title.startswith(("采集完成率", "按时提交率")):
            assert row[column] == "", title

    xlsx = portal.get(f"/indicators/u/{PUDONG}/export?table=children&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位", "编码", "层级", "在册居民（人）")
    assert rows[1][:4] == ("浦东新区（本级合计）", "310115000000", "区", 360)
    assert isinstance(rows[1][4], float)  # the share, a number in the sheet


def test_an_indicators_page_and_its_tables(town):
    portal = town.actors.district_admin(PUDONG).portal()
    page = portal.get(f"/indicators/u/{PUDONG}/residents.elderly_share")
    assert page.status_code == 200
    assert "60岁及以上居民占比" in page.text and "下级排名" in page.text
    detail = portal.get(
        f"/indicators/u/{PUDONG}/export?table=detail&indicator=residents.elderly_share&format=csv"
    )
    lines = detail.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "单位,编码,60岁及以上居民占比（%）,分子,分母"
    assert lines[1].startswith("浦东新区（本级合计）,310115000000,")
    assert lines[1].endswith(",360")
    trend = portal.get(
        f"/indicators/u/{PUDONG}/export?table=trend&indicator=residents.elderly_share&format=csv"
    )
    assert trend.content.decode("utf-8-sig").splitlines()[-1].endswith(",进行中（实时）")
    bad = portal.get(f"/indicators/u/{PUDONG}/export?table=trend&format=csv")
    assert bad.status_code == 422


def test_pins_go_first_and_onto_the_wall(town):
    portal = town.actors.street_admin(WEIFANG).portal()
    page = portal.get(f"/indicators/u/{WEIFANG}").text
    pinned = portal.post(
        "/indicators/pins",
        data={
            "csrf_token": csrf(page),
            "indicator": "residents.households",
            "action": "pin",
            "next": f"/indicators/u/{WEIFANG}",
        },
        follow_redirects=False,
    )
    assert pinned.status_code == 303
    html = portal.get(f"/indicators/u/{WEIFANG}").text
    titles = re.findall(r'<h2 id="t-\d+"><a [^>]*>([^<]+)</a></h2>', html)
    assert titles[0] == "家庭户数"
    assert "★ 已关注" in html
    wall = portal.get(f"/indicators/u/{WEIFANG}/wall").text
    # It reloads itself every five minutes (wall.js, which a reader may pause).
    assert '<body class="wall" data-refresh="300">' in wall
    assert re.findall(r'<h2 id="w-\d+">([^<]+)</h2>', wall) == ["家庭户数"]
    api = town.actors.street_admin(WEIFANG)
    assert town.api(api, "/pins").json() == {"pins": []}  # pins are each user's own


def test_pins_through_the_api(town):
    street = town.actors.street_admin(WEIFANG)
    client = street.client()
    assert client.put("/api/v1/indicators/pins/residents.tags").json() == {
        "pins": ["residents.tags"]
    }
    client.put("/api/v1/indicators/pins/residents.households")
    assert client.get("/api/v1/indicators/pins").json()["pins"] == [
        "residents.tags",
        "residents.households",
    ]
    assert client.delete("/api/v1/indicators/pins/residents.tags").json() == {
        "pins": ["residents.households"]
    }
    unknown = client.put("/api/v1/indicators/pins/nothing.here")
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "indicator"


def test_the_wall_without_pins_shows_the_first_indicators(town):
    portal = town.actors.district_admin(PUDONG).portal()
    wall = portal.get(f"/indicators/u/{PUDONG}/wall").text
    assert "浦东新区 社区治理指标" in wall
    assert len(re.findall(r'<section class="wall-tile"', wall)) == 8
    assert '<nav aria-label="主导航"' not in wall  # a wall shows figures, not the portal


def test_text_that_looks_like_a_formula_stays_text_in_the_csv(town):
    from sqlmodel import Session

    from shequyun.identity.models import OrgUnit

    with Session(town.kernel.engine) as session:
        unit = session.get(OrgUnit, town.units["310115004002"].id)
        unit.name = '=HYPERLINK("http://x")'
        session.add(unit)
        session.commit()
    portal = town.actors.street_admin(WEIFANG).portal()
    csv = portal.get(f"/indicators/u/{WEIFANG}/export?table=children&format=csv")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert any(row.startswith('"\'=HYPERLINK(""http://x"")"') for row in rows), rows


def test_each_download_is_audited(town):
    district = town.actors.district_admin(PUDONG)
    portal = district.portal()
    portal.get(f"/indicators/u/{PUDONG}/export?table=children&format=xlsx&period=")
    entries = district.client().get("/api/v1/audit?action=indicators.exported").json()["items"]
    assert len(entries) == 1
    assert entries[0]["target_id"] == PUDONG
    assert entries[0]["detail"]["table"] == "children"
    assert entries[0]["detail"]["format"] == "xlsx"


def test_the_api_is_in_the_openapi_document(town):
    document = town.client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/indicators/units/{code}"]["get"]
    assert operation["tags"] == ["indicators"]
    assert {p["name"] for p in operation["parameters"]} == {"code", "period", "kind", "key"}
    assert "/api/v1/indicators/pins/{name}" in document["paths"]


def test_a_ratio_is_read_against_the_parent_and_a_count_against_its_average(town):
    html = town.actors.district_admin(PUDONG).portal().get(f"/indicators/u/{PUDONG}").text
    tiles = dict(re.findall(r'<h2 id="t-\d+"><a [^>]*>([^<]+)</a></h2>(.*?)</section>', html, re.S))
    # 60+ share: the district's own share, comparable with each street's.
    assert re.search(r">浦东新区 [\d.]+%?<", tiles["60岁及以上居民占比"])
    # Households: the district's 2 streets' total would squash both bars; half of it does not.
    households = tiles["家庭户数"]
    assert "浦东新区 平均" in households
    assert not re.search(r">浦东新区 [\d,]+<", households)


def test_a_district_s_live_figures_are_computed_once_every_few_minutes(town, monkeypatch):
    """Each indicator of a district reads all of its residents, so a process shows what it
    computed for REUSE_SECONDS, saying when; a committee's are computed on every view."""
    from shequyun.indicators import live, service

    calls: list[str] = []
    real = service.compute

    def counted(engine, declared, tree, period, moment):
        calls.append(tree.root.code)
        return real(engine, declared, tree, period, moment)

    monkeypatch.setattr(service, "compute", counted)
    clock = [1000.0]
    town.kernel.indicators.live_figures.clock = lambda: clock[0]
    portal = town.actors.district_admin(PUDONG).portal()

    first = portal.get(f"/indicators/u/{PUDONG}").text
    computed = calls.count(PUDONG)
    assert computed > 0 and "计算于" not in first
    again = portal.get(f"/indicators/u/{PUDONG}").text
    assert calls.count(PUDONG) == computed  # nothing computed again
    assert "计算于" in again and "每 2 分钟重新计算" in again
    assert "在册居民" in again

    portal.get("/indicators/u/310115004001")
    once = calls.count("310115004001")
    portal.get("/indicators/u/310115004001")
    assert once > 0 and calls.count("310115004001") == 2 * once  # a committee's: every view

    clock[0] += live.REUSE_SECONDS
    portal.get(f"/indicators/u/{PUDONG}")
    assert calls.count(PUDONG) == 2 * computed  # older than REUSE_SECONDS: computed again
