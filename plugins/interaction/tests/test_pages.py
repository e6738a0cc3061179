"""The portal pages, in-process: the resident's path on a phone and the cadre's pages."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from .conftest import PASSWORD, WEIFANG1, WEIFANG2

BASE = "/plugins/interaction"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def submit(client, path, data, page=None):
    token = csrf(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def resident_browser(town, resident):
    browser = TestClient(town.client.app)
    signed = submit(
        browser,
        f"{BASE}/signup",
        {"phone": resident.phone, "password": PASSWORD, "password2": PASSWORD},
    )
    assert signed.status_code == 303, signed.text
    verified = submit(
        browser,
        f"{BASE}/verify",
        {"method": "identity", "name": resident.name, "id_number": resident.id_number},
    )
    assert verified.status_code == 303, verified.text
    return browser


def test_a_resident_signs_up_verifies_and_votes_in_the_portal(town):
    wang = town.resident("王秀英")
    topic = town.topic(title="12号楼加装电梯")
    browser = resident_browser(town, wang)
    home = browser.get(f"{BASE}/?verified=1").text
    assert "实名核验成功" in home and "12号楼加装电梯" in home
    voted = submit(browser, f"{BASE}/topics/{topic['id']}", {"action": "vote", "option": "0"})
    assert voted.status_code == 303
    page = browser.get(voted.headers["location"]).text
    assert "已记录您的表决" in page and "修改表决" in page


def test_bad_input_is_shown_next_to_the_fields(town):
    browser = TestClient(town.client.app)
    bad = submit(browser, f"{BASE}/signup", {"phone": "12", "password": "x", "password2": "x"})
    assert bad.status_code == 422
    assert 'id="f-phone-error"' in bad.text and 'aria-invalid="true"' in bad.text
    wang = town.resident("王秀英")
    browser = resident_browser(town, wang)
    empty = submit(browser, f"{BASE}/requests", {"category": "", "title": "", "body": ""})
    assert empty.status_code == 422 and "请选择服务类别" in empty.text
    topic = town.topic()
    no_choice = submit(browser, f"{BASE}/topics/{topic['id']}", {"action": "vote"})
    assert no_choice.status_code == 422 and "请选择一个选项" in no_choice.text


def test_unverified_and_anonymous_visitors_read_public_content_only(town):
    made = town.client.post(
        "/api/v1/plugins/interaction/manage/announcements",
        headers=town.cadre().auth,
        json={"title": "防诈骗提醒", "body": "不要轻信陌生来电"},
    ).json()
    anonymous = TestClient(town.client.app)
    assert "防诈骗提醒" in anonymous.get(f"{BASE}/", params={"unit": WEIFANG1}).text
    assert "不要轻信陌生来电" in anonymous.get(f"{BASE}/announcements/{made['id']}").text
    topics = anonymous.get(f"{BASE}/topics").text
    assert "请先登录居民账号并完成实名核验" in topics
    wrong = submit(
        anonymous, f"{BASE}/posts", {"action": "post", "body": "大家好"}, page=f"{BASE}/login"
    )
    assert wrong.status_code == 422


def test_the_cadre_pages_render_and_are_guarded(town, shequyun_actors):
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    for path in (
        "/manage/",
        "/manage/requests",
        "/manage/topics",
        "/manage/moderation",
        "/manage/announcements",
        "/manage/disclosures",
        "/manage/codes?q=王",
        "/manage/assist",
    ):
        page = portal.get(BASE + path)
        assert page.status_code == 200, (path, page.text[:300])
    anonymous = TestClient(town.client.app)
    assert anonymous.get(f"{BASE}/manage/topics", follow_redirects=False).status_code == 303
    worker = shequyun_actors.social_worker().portal()
    assert worker.get(f"{BASE}/manage/topics").status_code == 403


def test_a_cadre_opens_a_topic_from_the_form(town, shequyun_actors):
    town.resident("王秀英", building="12")
    cadre = shequyun_actors.cadre().portal()
    bad = cadre.post(f"{BASE}/manage/topics", data={"title": "x"}, follow_redirects=False)
    assert bad.status_code == 422 and "请选择表决规则" in bad.text
    made = cadre.post(
        f"{BASE}/manage/topics",
        data={
            "title": "12号楼加装电梯",
            "body": "征询意见",
            "options": "同意\n不同意",
            "rule": "household",
            "scope_kind": "buildings",
            "buildings[]": "潍坊一村|12",
            "threshold": "2/3",
            "closes_on": "2099-12-31",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    detail = cadre.get(made.headers["location"])
    assert "结束表决并公布结果" in detail.text
    closed = cadre.post(made.headers["location"], follow_redirects=False)
    assert closed.status_code == 303
    assert "与公布结果一致" in cadre.get(made.headers["location"]).text


def test_assisted_mode_in_the_portal_records_the_cadre(town, shequyun_actors):
    elder = town.resident("张阿婆", born="19380101")
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    started = portal.post(
        f"{BASE}/manage/assist", data={"resident_id": str(elder.id)}, follow_redirects=False
    )
    assert started.status_code == 303
    home = portal.get(f"{BASE}/").text
    assert "代办模式" in home and "张阿婆" in home
    sent = portal.post(
        f"{BASE}/requests",
        data={"category": "certificate", "title": "开具居住证明", "body": "孙子入学用"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    request_page = portal.get(sent.headers["location"]).text
    assert f"代办：{cadre.user.display_name}（{cadre.username}）" in request_page
    ended = portal.post(f"{BASE}/manage/assist", data={"action": "end"}, follow_redirects=False)
    assert ended.status_code == 303
    assert "代办模式" not in portal.get(f"{BASE}/").text
    # A cadre of another committee cannot start assisting her.
    other = shequyun_actors.cadre(WEIFANG2).portal()
    refused = other.post(f"{BASE}/manage/assist", data={"resident_id": str(elder.id)})
    assert refused.status_code == 422 and "找不到该居民" in refused.text
    garbled = other.post(f"{BASE}/manage/assist", data={"resident_id": "²"})
    assert garbled.status_code == 422 and "居民编号：应为" in garbled.text


def test_a_cadre_moderates_from_the_queue_page(town, shequyun_actors):
    apps = [town.verified(town.resident(f"邻居{i}", room=f"50{i}")) for i in range(4)]
    post = apps[0].post("/posts", {"body": "卖保健品，加微信"}).json()
    for app in apps[1:]:
        app.post("/reports", {"target_type": "post", "target_id": post["id"], "reason": "广告"})
    portal = shequyun_actors.cadre().portal()
    queue = portal.get(f"{BASE}/manage/moderation").text
    assert "卖保健品" in queue and "已自动隐藏" in queue
    decided = portal.post(
        f"{BASE}/manage/moderation",
        data={
            "target_type": "post",
            "target_id": str(post["id"]),
            "decision": "remove",
            "note": "广告",
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303
    after = portal.get(f"{BASE}/manage/moderation").text
    assert "没有待审核的内容" in after and "删除" in after


def test_a_residents_large_text_follows_their_account_to_another_phone(town):
    wang = town.resident("王秀英")
    first = resident_browser(town, wang)
    page = first.get(f"{BASE}/topics").text
    assert 'class="large-text"' not in page
    chose = first.post(
        "/display/large",
        data={"csrf_token": csrf(page), "next": f"{BASE}/topics"},
        follow_redirects=False,
    )
    assert chose.status_code == 303
    second = TestClient(town.client.app)  # another phone: signs in, no display cookie
    signed = submit(second, f"{BASE}/login", {"phone": wang.phone, "password": PASSWORD})
    assert signed.status_code == 303, signed.text
    assert 'class="large-text"' in second.get(f"{BASE}/").text
    assert 'class="large-text"' not in TestClient(town.client.app).get(f"{BASE}/").text
