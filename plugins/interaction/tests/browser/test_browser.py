"""In a real browser: a resident verifies and votes on a lift; a cadre moderates a post; a cadre
publishes an announcement with files and a resident sees them."""

from __future__ import annotations

import pytest
from shequyun_sdk.testing.browser import shoot
from starlette.testclient import TestClient

from .._files import pdf, png

pytestmark = pytest.mark.browser

API = "/api/v1/plugins/interaction"
BASE = "/plugins/interaction"
UNIT = "310115004001"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int) -> str:
    first = f"31011519560312{serial:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]


def add_resident(api, cadre, name, serial, phone, room):
    made = api.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={
            "name": name,
            "id_number": id_number(serial),
            "registration": "户籍",
            "phone": phone,
            "address": {"compound": "潍坊一村", "building": "12", "entrance": "1", "room": room},
            "household_number": f"H-12-{room}",
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_a_resident_verifies_votes_on_a_lift_and_sees_the_result(
    shequyun_browser_page, shequyun_portal
):
    page = shequyun_browser_page
    api = TestClient(shequyun_portal.app)
    cadre = shequyun_portal.actors.cadre(UNIT)
    add_resident(api, cadre, "王秀英", 201, "13812340001", "402")
    topic = api.post(
        f"{API}/manage/topics",
        headers=cadre.auth,
        json={
            "title": "12号楼加装电梯意见征询",
            "body": "拟为12号楼加装电梯，费用按楼层分摊。需本楼三分之二以上户数同意。",
            "options": ["同意", "不同意"],
            "rule": "household",
            "scope_kind": "buildings",
            "buildings": [["潍坊一村", "12"]],
            "threshold": "2/3",
            "closes_on": "2099-12-31",
            "allow_abstain": True,
        },
    ).json()

    page.goto(f"{shequyun_portal.url}{BASE}/signup")
    page.get_by_label("手机号").fill("13812340001")
    page.get_by_label("设置密码").fill("Resident-pass-1")
    page.get_by_label("再次输入密码").fill("Resident-pass-1")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(f"**{BASE}/verify")
    page.get_by_label("姓名", exact=True).fill("王秀英")
    page.get_by_label("身份证号").fill(id_number(201))
    shoot(page, "interaction-verify")
    page.get_by_role("button", name="核验", exact=True).click()
    page.get_by_text("实名核验成功").wait_for()
    shoot(page, "interaction-home")

    page.get_by_role("link", name="12号楼加装电梯意见征询").first.click()
    page.get_by_role("radio", name="同意", exact=True).check()
    page.get_by_role("button", name="提交表决").click()
    page.get_by_text("已记录您的表决").wait_for()
    # While the topic is open: the turnout against the households concerned and the threshold.
    turnout = page.locator(".ix-turnout").inner_text()
    assert "已投 1 票（其中弃权 0）" in turnout and "通过门槛 2/3" in turnout
    assert page.get_by_role("radio", name="弃权").is_visible()
    shoot(page, "interaction-voted")

    closed = api.post(f"{API}/manage/topics/{topic['id']}/close", headers=cadre.auth)
    assert closed.status_code == 200, closed.text
    page.reload()
    result = page.locator(".ix-result")
    assert "多数意见：同意" in result.inner_text()
    assert "达到通过门槛" in result.inner_text()  # the only household of building 12 agreed
    shoot(page, "interaction-result")

    # The portal's header knows her; in English the page comes from the plugin's catalog.
    header = page.locator(".shell-header .account")
    assert "王秀英" in header.inner_text() and "工作人员登录" in header.inner_text()
    header.get_by_role("link", name="English").click()
    page.locator("html[lang=en]").wait_for()
    assert "Majority: 同意" in page.locator(".ix-result").inner_text()
    assert "Staff login" in header.inner_text()
    shoot(page, "interaction-result-en")


def test_a_cadre_moderates_a_reported_post(shequyun_browser_page, shequyun_portal):
    page = shequyun_browser_page
    api = TestClient(shequyun_portal.app)
    cadre = shequyun_portal.actors.cadre(UNIT)
    tokens = []
    for i in range(4):
        phone = f"1381234010{i}"
        add_resident(api, cadre, f"邻居{i}", 210 + i, phone, f"50{i}")
        api.post(f"{API}/auth/signup", json={"phone": phone, "password": "Resident-pass-1"})
        token = api.post(
            f"{API}/auth/login", json={"phone": phone, "password": "Resident-pass-1"}
        ).json()["token"]
        verified = api.post(
            f"{API}/me/verify",
            headers={"X-Resident-Token": token},
            json={"name": f"邻居{i}", "id_number": id_number(210 + i)},
        )
        assert verified.status_code == 200, verified.text
        tokens.append({"X-Resident-Token": token})
    post = api.post(
        f"{API}/posts", headers=tokens[0], json={"body": "低价保健品，加微信了解"}
    ).json()
    for headers in tokens[1:]:
        api.post(
            f"{API}/reports",
            headers=headers,
            json={"target_type": "post", "target_id": post["id"], "reason": "广告"},
        )

    page.goto(f"{shequyun_portal.url}/login")
    page.get_by_label("用户名").fill(cadre.username)
    page.get_by_label("密码").fill(cadre.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{shequyun_portal.url}{BASE}/manage/moderation")
    card = page.locator(".ix-post", has_text="低价保健品")
    assert "已自动隐藏" in card.inner_text()
    shoot(page, "interaction-moderation")
    card.get_by_label("处理说明").fill("商业广告")
    card.get_by_role("button", name="删除").click()
    page.get_by_text("没有待审核的内容").wait_for()
    assert "商业广告" in page.locator("table.data").inner_text()
    shoot(page, "interaction-moderated")


def test_a_cadre_publishes_files_and_a_resident_sees_the_thumbnail(
    shequyun_browser_page, shequyun_portal
):
    page = shequyun_browser_page
    cadre = shequyun_portal.actors.cadre(UNIT)
    page.goto(f"{shequyun_portal.url}/login")
    page.get_by_label("用户名").fill(cadre.username)
    page.get_by_label("密码").fill(cadre.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")

    page.goto(f"{shequyun_portal.url}{BASE}/manage/announcements")
    page.get_by_label("标题").fill("小区绿化改造公示")
    page.get_by_label("正文").fill("改造方案和效果图见附件，欢迎提出意见。")
    page.get_by_label("附件（可不传）").set_input_files(
        [
            {"name": "改造方案.pdf", "mimeType": "application/pdf", "buffer": pdf("plan")},
            {"name": "效果图.png", "mimeType": "image/png", "buffer": png(0x5A, 96)},
        ]
    )
    shoot(page, "interaction-announcement-files-form")
    page.get_by_role("button", name="发布").click()
    page.get_by_role("cell", name="小区绿化改造公示").wait_for()

    page.context.clear_cookies()  # a resident who has not signed in
    page.goto(f"{shequyun_portal.url}{BASE}/?unit={UNIT}")
    page.get_by_role("link", name="小区绿化改造公示").click()
    thumbnail = page.get_by_role("img", name="效果图.png")
    thumbnail.wait_for()
    # Thumbnails load lazily, after the page's load event: wait for the picture itself.
    page.wait_for_function("img => img.complete", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") == 96
    assert page.get_by_role("link", name="改造方案.pdf").is_visible()
    shoot(page, "interaction-announcement-files")
