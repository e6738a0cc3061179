"""社区公告 and 居务公开: public reading, levels, read counts, the history of changes."""

from __future__ import annotations

from .conftest import API, WEIFANG1, WEIFANG2


def publish(town, actor, **body):
    made = town.client.post(
        f"{API}/manage/announcements",
        headers=actor.auth,
        json={"title": "通知", "body": "内容", **body},
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_residents_see_their_committees_streets_and_districts_announcements(town):
    wang = town.verified(town.resident("王秀英"))
    publish(town, town.cadre(WEIFANG1), title="一村停水通知")
    publish(town, town.cadre(WEIFANG2), title="二村活动")
    publish(town, town.actors.street_admin("310115004000"), title="街道防汛", pinned=True)
    publish(town, town.actors.district_admin("310115000000"), title="浦东新区征兵")
    titles = [a["title"] for a in wang.get("/announcements").json()["items"]]
    assert titles[0] == "街道防汛"  # pinned first
    assert set(titles) == {"一村停水通知", "街道防汛", "浦东新区征兵"}


def test_without_a_unit_a_reader_gets_the_citys_announcements_as_the_home_page_shows(town):
    """GET /announcements without ``unit`` listed the newest of every committee in the city to
    anyone, while the anonymous home page shows the city's own: both now stand at the city.
    A committee's notices are still read by naming it, as the page's place picker does."""
    publish(town, town.cadre(WEIFANG1), title="一村停水通知")
    publish(town, town.actors.street_admin("310115004000"), title="街道防汛")
    publish(town, town.actors.district_admin("310115000000"), title="浦东新区征兵")
    everything = {"一村停水通知", "街道防汛", "浦东新区征兵"}

    def titles(response) -> set[str]:
        assert response.status_code == 200, response.text
        return {a["title"] for a in response.json()["items"]}

    assert titles(town.client.get(f"{API}/announcements")) == set()
    assert titles(town.account("13900000003").get("/announcements")) == set()
    cadre = town.actors.cadre("310104003001")  # a cadre of 徐汇区, no resident
    assert titles(town.client.get(f"{API}/announcements", headers=cadre.auth)) == set()
    assert titles(town.client.get(f"{API}/announcements?unit={WEIFANG1}")) == everything
    assert titles(town.client.get(f"{API}/announcements?unit={WEIFANG2}")) == everything - {
        "一村停水通知"
    }
    wang = town.verified(town.resident("王秀英"))
    assert titles(wang.get("/announcements")) == everything


def test_anyone_reads_announcements_and_each_reader_counts_once(town):
    made = publish(town, town.cadre(), title="垃圾分类新规")
    anonymous = town.client.get(f"{API}/announcements?unit={WEIFANG1}").json()["items"]
    assert [a["title"] for a in anonymous] == ["垃圾分类新规"]
    wang = town.verified(town.resident("王秀英"))
    for _ in range(3):
        read = wang.get(f"/announcements/{made['id']}")
    assert read.json()["reads"] == 1
    unverified = town.account("13900000003")
    assert unverified.get(f"/announcements/{made['id']}").json()["reads"] == 2


def test_expired_announcements_are_not_shown_and_bad_dates_are_refused(town):
    bad = town.client.post(
        f"{API}/manage/announcements",
        headers=town.cadre().auth,
        json={"title": "过期", "body": "x", "expires_on": "2001-01-01"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "expires_on"


def test_disclosures_keep_a_public_history_of_changes(town):
    cadre = town.cadre()
    made = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre.auth,
        json={"category": "财务公开", "title": "三季度收支", "body": "收入 12 万元"},
    )
    assert made.status_code == 201, made.text
    item = made.json()
    revised = town.client.patch(
        f"{API}/manage/disclosures/{item['id']}",
        headers=cadre.auth,
        json={
            "category": "finance",
            "title": "三季度收支",
            "body": "收入 12.5 万元",
            "note": "更正收入",
        },
    )
    assert revised.status_code == 200, revised.text
    public = town.client.get(f"{API}/disclosures/{item['id']}").json()
    assert public["version"] == 2 and public["body"] == "收入 12.5 万元"
    assert [(h["version"], h["body"], h["note"]) for h in public["history"]] == [
        (2, "收入 12.5 万元", "更正收入"),
        (1, "收入 12 万元", "首次公开"),
    ]
    listed = town.client.get(f"{API}/disclosures?unit={WEIFANG1}&category=finance").json()
    assert [d["title"] for d in listed["items"]] == ["三季度收支"]
    other = town.cadre(WEIFANG2)
    assert (
        town.client.patch(
            f"{API}/manage/disclosures/{item['id']}",
            headers=other.auth,
            json={"category": "finance", "title": "改动标题", "body": "改", "note": "改动"},
        ).status_code
        == 404
    )


def test_only_staff_with_the_permission_publish(town):
    worker = town.actors.social_worker(WEIFANG1)
    refused = town.client.post(
        f"{API}/manage/announcements", headers=worker.auth, json={"title": "x", "body": "y"}
    )
    assert refused.status_code == 403
