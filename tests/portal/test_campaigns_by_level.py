"""Each level finds the campaigns that reach its units in 采集管理, with its own part of them."""

from __future__ import annotations

import re

from .test_collection_pages import GOOD, publish, task_id_of


def progress_of(html: str, title: str) -> str:
    row = re.search(rf"{title}.*?(\d+/\d+)（", html, re.S)
    assert row, f"{title} not listed"
    return row[1]


def test_a_street_admin_sees_the_city_campaign_with_only_their_streets_progress(
    shequyun_client, shequyun_actors
):
    bureau = shequyun_actors.bureau()
    _form_id, campaign_id = publish(
        shequyun_client, bureau, targets=("310000000000",), title="全市加装电梯摸底"
    )
    cadre = shequyun_actors.cadre("310115004001")
    cadre.portal().post(
        f"/collection/tasks/{task_id_of(shequyun_client, cadre)}",
        data={**GOOD, "action": "submit", "client_key": "street-key-0001"},
    )

    city = bureau.portal().get("/collection/campaigns").text
    assert progress_of(city, "全市加装电梯摸底") == "1/5" and "上级下发" not in city

    street = shequyun_actors.street_admin("310115004000").portal()
    listed = street.get("/collection/campaigns").text
    assert progress_of(listed, "全市加装电梯摸底") == "1/2" and "上级下发" in listed
    dashboard = street.get(f"/collection/campaigns/{campaign_id}").text
    assert "潍坊一村居委会" in dashboard and "梅园一村居委会" not in dashboard
    assert "宛平南路居委会" not in dashboard

    district = shequyun_actors.district_admin("310104000000").portal()
    assert progress_of(district.get("/collection/campaigns").text, "全市加装电梯摸底") == "0/2"

    api = shequyun_client.get("/api/v1/campaigns", headers=shequyun_actors.street_admin().auth)
    (item,) = api.json()["items"]
    assert (item["expected"], item["submitted"], item["published_here"]) == (2, 1, False)


def test_a_campaign_elsewhere_is_not_listed(shequyun_client, shequyun_actors):
    publish(shequyun_client, shequyun_actors.bureau(), targets=("310104000000",))
    street = shequyun_actors.street_admin("310115004000").portal()
    page = street.get("/collection/campaigns").text
    assert "加装电梯" not in page and "还没有发起过采集" in page
