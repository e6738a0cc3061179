"""Per-unit enablement: residents, whom the kernel does not know, follow the plugin's switch for
their committee; public content of units where it is off is not served."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from .conftest import API, WEIFANG1, WEIFANG2
from .test_pages import BASE, resident_browser

PUDONG = "310115000000"  # 浦东新区: 潍坊一村, 潍坊二村, 梅园一村
WANPING = "310104003001"  # 宛平南路居委会, 徐汇区


@pytest.fixture
def switch(town, shequyun_actors):
    """``switch(unit_code, enabled)``: the platform admin's rule for the plugin at a unit."""
    admin = shequyun_actors.platform_admin()

    def put(unit_code: str, enabled: bool | None) -> None:
        done = town.client.put(
            "/api/v1/plugin-enablement/interaction",
            headers=admin.auth,
            json={"unit_code": unit_code, "enabled": enabled},
        )
        assert done.status_code == 200, done.text

    return put


def publish(town, unit: str, title: str) -> tuple[int, int]:
    cadre = town.cadre(unit).auth
    notice = town.client.post(
        f"{API}/manage/announcements", headers=cadre, json={"title": title, "body": "正文"}
    )
    assert notice.status_code == 201, notice.text
    item = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre,
        json={"category": "finance", "title": f"{title}经费", "body": "收支"},
    )
    assert item.status_code == 201, item.text
    return notice.json()["id"], item.json()["id"]


def refused(response, status: int = 403) -> bool:
    error = response.json()["error"]
    return (
        response.status_code == status
        and error["code"] == "not_enabled"
        and error["message"].startswith("本社区未开通居社互动")
    )


def test_a_district_switched_off_refuses_its_residents_and_no_one_else(town, switch):
    wang = town.verified(town.resident("王秀英", unit=WEIFANG1))
    li = town.verified(town.resident("李建国", unit=WANPING))
    wang.post("/requests", {"category": "repair", "title": "楼道灯不亮", "body": "二楼"})

    switch(PUDONG, False)
    for path in ("/requests", "/topics", "/posts", "/notifications"):
        assert refused(wang.get(path)), path
        assert li.get(path).status_code == 200, path
    assert refused(wang.post("/requests", {"category": "help", "title": "求助", "body": "..."}))
    assert refused(wang.post("/posts", {"body": "邻居们好"}))
    message = wang.get("/requests").json()["error"]["message"]
    assert "潍坊一村居委会" in message
    me = wang.get("/me")
    assert me.status_code == 200 and me.json()["enabled"] is False
    assert li.get("/me").json()["enabled"] is True

    switch(PUDONG, None)  # the rule removed: on by default again
    assert wang.get("/requests").status_code == 200
    assert len(wang.get("/requests").json()["items"]) == 1  # nothing was lost


def test_a_committee_switched_off_inside_a_district_that_is_on(town, switch):
    wang = town.verified(town.resident("王秀英", unit=WEIFANG1))
    zhao = town.verified(town.resident("赵先生", unit=WEIFANG2))
    switch(WEIFANG2, False)
    assert refused(zhao.get("/topics"))
    assert wang.get("/topics").status_code == 200


def test_public_content_of_units_switched_off_is_not_served(town, switch):
    weifang_notice, weifang_item = publish(town, WEIFANG1, "潍坊停水通知")
    wanping_notice, wanping_item = publish(town, WANPING, "宛平停电通知")
    switch(PUDONG, False)
    anonymous = TestClient(town.client.app)

    def api(path: str, **params):
        return anonymous.get(f"{API}{path}", params=params)

    assert refused(api("/announcements", unit=WEIFANG1), 404)
    assert refused(api(f"/announcements/{weifang_notice}"), 404)
    assert refused(api("/disclosures", unit=WEIFANG1), 404)
    assert refused(api(f"/disclosures/{weifang_item}"), 404)
    assert [a["title"] for a in api("/announcements", unit=WANPING).json()["items"]] == [
        "宛平停电通知"
    ]
    assert api(f"/announcements/{wanping_notice}").status_code == 200
    assert api(f"/disclosures/{wanping_item}").status_code == 200

    # The portal's pages say so in a page of their own.
    page = anonymous.get(f"{BASE}/disclosures", params={"unit": WEIFANG1})
    assert page.status_code == 404 and "本社区未开通居社互动" in page.text
    assert anonymous.get(f"{BASE}/announcements/{weifang_notice}").status_code == 404
    home = anonymous.get(f"{BASE}/", params={"unit": WANPING}).text
    assert "宛平停电通知" in home and "潍坊停水通知" not in home
    assert anonymous.get(f"{BASE}/", params={"unit": WEIFANG1}).status_code == 404


def test_the_portal_shows_a_resident_of_a_unit_switched_off_a_page_that_says_so(town, switch):
    wang = town.resident("王秀英", unit=WEIFANG1)
    li = town.resident("李建国", unit=WANPING)
    wang_browser, li_browser = resident_browser(town, wang), resident_browser(town, li)
    switch(PUDONG, False)
    for path in ("/", "/requests", "/topics", "/posts", "/notifications"):
        page = wang_browser.get(f"{BASE}{path}")
        assert page.status_code == 403, path
        assert "本社区未开通居社互动" in page.text and "潍坊一村居委会" in page.text
        assert li_browser.get(f"{BASE}{path}").status_code == 200, path
    # The portal's header still names her, with a way to sign out.
    page = wang_browser.get(f"{BASE}/requests").text
    assert "王秀英" in page and f'action="{BASE}/logout"' in page


def test_no_one_verifies_into_a_committee_switched_off(town, switch):
    zhao = town.resident("赵先生", unit=WEIFANG2)
    sun = town.resident("孙阿婆", unit=WEIFANG2, phone="02158880000")
    code = town.client.post(
        f"{API}/manage/codes", headers=town.cadre(WEIFANG2).auth, json={"resident_id": sun.id}
    ).json()["code"]
    switch(WEIFANG2, False)

    app = town.account(zhao.phone)
    by_id = app.post("/me/verify", {"name": "赵先生", "id_number": zhao.id_number})
    assert refused(by_id)
    assert by_id.json()["error"]["field"] == "id_number"
    assert "暂不能核验" in by_id.json()["error"]["message"]
    assert app.get("/me").json()["resident"] is None
    daughter = town.account("13700000005")
    assert refused(daughter.post("/me/verify", {"code": code, "name": "孙阿婆"}))
    # A neighbouring committee is unaffected.
    wang = town.resident("王秀英", unit=WEIFANG1)
    assert town.verified(wang).get("/me").json()["resident"]["id"] == wang.id

    switch(WEIFANG2, True)
    assert (
        app.post("/me/verify", {"name": "赵先生", "id_number": zhao.id_number}).status_code == 200
    )
    # The refused code was not spent.
    assert daughter.post("/me/verify", {"code": code, "name": "孙阿婆"}).status_code == 200
