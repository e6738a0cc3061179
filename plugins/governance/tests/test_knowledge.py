"""The knowledge base: published in a subtree, versioned, Chinese full-text search."""

from __future__ import annotations

from .conftest import API

ELEVATOR = {
    "kind": "procedure",
    "title": "既有多层住宅电梯加装办事指南",
    "body": "电梯加装须经本幢业主表决同意。街道受理申请后，规划部门审核方案，"
    "施工单位应具备相应资质。居委会协助组织居民议事。",
    "categories": ["elevator"],
}


def publish(xuhui, who, **body):
    created = xuhui.client.post(f"{API}/articles", json={**ELEVATOR, **body}, headers=who.auth)
    assert created.status_code == 201, created.text
    return created.json()


def test_searching_jia_zhuang_dian_ti_finds_dian_ti_jia_zhuang(xuhui):
    article = publish(xuhui, xuhui.street)
    publish(
        xuhui, xuhui.street, title="垃圾分类投放时间", body="每日早晚两次定时投放。", categories=[]
    )
    found = xuhui.client.get(f"{API}/search", params={"q": "加装电梯"}, headers=xuhui.cadre.auth)
    assert found.status_code == 200, found.text
    result = found.json()
    assert result["words"] == ["加装", "电梯"] and not result["partial"]
    assert [a["id"] for a in result["items"]] == [article["id"]]
    assert "<mark>电梯</mark><mark>加装</mark>" in result["items"][0]["snippet_html"]
    assert "<mark>电梯</mark><mark>加装</mark>" in result["items"][0]["title_html"]


def test_ranking_puts_the_title_match_first_and_any_word_is_a_fallback(xuhui):
    body_only = publish(
        xuhui, xuhui.street, title="老旧小区综合改造", body="改造内容包括外墙、管线，也涉及电梯。"
    )
    titled = publish(xuhui, xuhui.street, title="电梯维保常见问题", body="维保周期为半个月。")
    found = xuhui.client.get(f"{API}/search?q=电梯", headers=xuhui.cadre.auth).json()
    assert [a["id"] for a in found["items"]][:2] == [titled["id"], body_only["id"]]
    loose = xuhui.client.get(f"{API}/search?q=电梯 停车", headers=xuhui.cadre.auth).json()
    assert loose["partial"] and len(loose["items"]) >= 2


def test_articles_are_read_in_the_publishers_subtree_and_versioned(xuhui):
    article = publish(xuhui, xuhui.street)
    other_district = xuhui.actors.cadre("310115004001")  # 浦东: outside 天平路街道's subtree
    assert xuhui.call(xuhui.cadre, "GET", f"/articles/{article['id']}").status_code == 200
    assert xuhui.call(other_district, "GET", f"/articles/{article['id']}").status_code == 404
    found = xuhui.client.get(f"{API}/search?q=电梯加装", headers=other_district.auth).json()
    assert found["items"] == []
    assert xuhui.call(xuhui.cadre, "POST", "/articles", ELEVATOR).status_code == 403

    revised = xuhui.call(
        xuhui.street,
        "PUT",
        f"/articles/{article['id']}",
        {**ELEVATOR, "body": "新版：电梯加装资金可申请补贴。", "version": 1, "note": "补贴政策"},
    )
    assert revised.status_code == 200 and revised.json()["version"] == 2
    stale = xuhui.call(
        xuhui.street, "PUT", f"/articles/{article['id']}", {**ELEVATOR, "version": 1}
    )
    assert stale.status_code == 409
    read = xuhui.call(xuhui.cadre, "GET", f"/articles/{article['id']}").json()
    assert [v["version"] for v in read["versions"]] == [2, 1]
    assert read["versions"][0]["note"] == "补贴政策"
    # The index holds the current version only.
    old = xuhui.client.get(f"{API}/search?q=表决", headers=xuhui.cadre.auth).json()
    assert old["items"] == []
    assert xuhui.call(xuhui.street, "DELETE", f"/articles/{article['id']}").status_code == 200
    gone = xuhui.client.get(f"{API}/search?q=补贴", headers=xuhui.cadre.auth).json()
    assert gone["items"] == []


def test_a_case_suggests_articles_of_its_category(xuhui):
    article = publish(xuhui, xuhui.district)
    case = xuhui.open(
        xuhui.street,
        unit_code="310104003001",
        category="elevator",
        title="加装电梯意见征询",
        description="12号楼居民申请加装电梯",
    )
    read = xuhui.call(xuhui.cadre, "GET", f"/cases/{case['id']}").json()
    assert [a["id"] for a in read["suggested_articles"]] == [article["id"]]


def test_bad_queries_are_refused(xuhui):
    empty = xuhui.client.get(f"{API}/search?q=", headers=xuhui.cadre.auth)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "q"
    bad = xuhui.call(xuhui.street, "POST", "/articles", {"kind": "poem", "categories": ["nope"]})
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"kind", "title", "body", "categories"}
