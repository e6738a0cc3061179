"""A visitor without a committee chooses a place by name: district, street, committee."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from .conftest import API, WEIFANG1
from .test_enablement import PUDONG, publish, switch  # noqa: F401 (fixture)
from .test_pages import BASE, resident_browser


def offered(html: str) -> list[str]:
    """The places the page offers to choose, in order."""
    block = html.split('class="ix-places-list"')[1].split("</ul>")[0]
    return re.findall(r'<a href="\?unit=\d{12}">([^<]+)</a>', block)


def trail(html: str) -> list[str]:
    block = html.split('class="ix-trail"')[1].split("</p>")[0]
    return re.findall(r">([^<>]+)</(?:a|strong)>", block)


def test_an_anonymous_visitor_walks_down_to_their_committees_announcements(town):
    publish(town, WEIFANG1, "潍坊停水通知")
    publish(town, "310104003001", "宛平停电通知")
    anonymous = TestClient(town.client.app)

    home = anonymous.get(f"{BASE}/").text
    assert "12 位单位编码" not in home
    assert "选择区" in home and offered(home) == ["徐汇区", "浦东新区"]

    district = anonymous.get(f"{BASE}/", params={"unit": PUDONG}).text
    assert trail(district) == ["上海市", "浦东新区"]
    assert "选择街道（镇）" in district
    assert offered(district) == ["潍坊新村街道", "陆家嘴街道"]

    street = anonymous.get(f"{BASE}/", params={"unit": "310115004000"}).text
    assert offered(street) == ["潍坊一村居委会", "潍坊二村居委会"]

    committee = anonymous.get(f"{BASE}/", params={"unit": WEIFANG1}).text
    assert trail(committee) == ["上海市", "浦东新区", "潍坊新村街道", "潍坊一村居委会"]
    assert 'class="ix-places-list"' not in committee  # nothing below a committee
    assert "潍坊停水通知" in committee and "宛平停电通知" not in committee


def test_a_code_of_no_place_says_so_and_starts_again(town):
    anonymous = TestClient(town.client.app)
    page = anonymous.get(f"{BASE}/", params={"unit": "310115999999"})
    assert page.status_code == 200
    assert "找不到该地区，请在下面重新选择。" in page.text
    assert offered(page.text) == ["徐汇区", "浦东新区"]


def test_places_where_it_is_switched_off_are_not_offered(town, switch):  # noqa: F811
    switch(PUDONG, False)
    anonymous = TestClient(town.client.app)
    assert offered(anonymous.get(f"{BASE}/").text) == ["徐汇区"]
    switch(PUDONG, None)
    switch("310115005000", False)  # 陆家嘴街道 only
    district = anonymous.get(f"{BASE}/", params={"unit": PUDONG}).text
    assert offered(district) == ["潍坊新村街道"]


def test_disclosures_are_a_committees_so_the_walk_goes_down_to_one(town):
    publish(town, WEIFANG1, "潍坊")
    anonymous = TestClient(town.client.app)

    street = anonymous.get(f"{BASE}/disclosures", params={"unit": "310115004000"}).text
    assert "请选到您所在的居委会（村委会）" in street
    assert "<h1>居务公开</h1>" in street  # a street publishes none: not 居务公开 · 潍坊新村街道
    assert offered(street) == ["潍坊一村居委会", "潍坊二村居委会"]
    assert "潍坊经费" not in street

    committee = anonymous.get(f"{BASE}/disclosures", params={"unit": WEIFANG1}).text
    assert "潍坊经费" in committee
    assert trail(committee)[-1] == "潍坊一村居委会"


def test_a_verified_resident_is_not_asked_where_they_live(town):
    wang = town.resident("王秀英", unit=WEIFANG1)
    browser = resident_browser(town, wang)
    for path in ("/", "/disclosures"):
        assert 'class="ix-places"' not in browser.get(f"{BASE}{path}").text, path


def test_before_choosing_a_place_a_visitor_is_not_shown_other_places_announcements(town):
    """Not the newest of every committee in Shanghai: a 停水通知 of a committee in another
    district does not concern them, and on a phone twenty of them followed the place picker.
    Until a place is chosen the visitor stands at the city and reads the city's own."""
    publish(town, WEIFANG1, "潍坊停水通知")
    street = town.actors.street_admin("310115004000")
    made = town.client.post(
        f"{API}/manage/announcements",
        headers=street.auth,
        json={"title": "潍坊新村街道消防提示", "body": "…"},
    )
    assert made.status_code == 201, made.text
    anonymous = TestClient(town.client.app)

    home = anonymous.get(f"{BASE}/").text
    assert "潍坊停水通知" not in home and "潍坊新村街道消防提示" not in home
    assert "社区公告 · 上海市" in home
    assert "选到您所在的居委会（村委会），这里就会显示" in home and "暂无公告" not in home

    committee = anonymous.get(f"{BASE}/", params={"unit": WEIFANG1}).text
    assert "潍坊停水通知" in committee and "潍坊新村街道消防提示" in committee
    assert "这里就会显示" not in committee
