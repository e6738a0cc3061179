"""The 外部应用 admin pages, and the apps' entries in the portal's navigation."""

from __future__ import annotations

import json
import re

from .conftest import PUDONG_COMMITTEE, XUHUI_COMMITTEE, manifest, resident_in


def test_an_admin_registers_an_app_from_its_manifest_and_sees_the_secrets_once(
    shequyun_client, admin
):
    portal = admin.portal()
    form = portal.get("/admin/apps/new")
    assert form.status_code == 200 and "应用清单（JSON）" in form.text
    shown = portal.post("/admin/apps/new", data={"manifest": json.dumps(manifest())})
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert re.search(r"sqcs_[\w-]{20,}", shown.text) and "whsec_" in shown.text
    listing = portal.get("/admin/apps")
    assert "徐汇垃圾分类督导" in listing.text and "徐汇区" in listing.text
    app_id = re.search(r'href="/admin/apps/(\d+)"', listing.text).group(1)
    detail = portal.get(f"/admin/apps/{app_id}")
    assert "sqcs_" in detail.text  # the prefix only
    assert not re.search(r"sqcs_[\w-]{20,}", detail.text)


def test_a_bad_manifest_is_shown_with_its_field(shequyun_client, admin):
    portal = admin.portal()
    broken = portal.post("/admin/apps/new", data={"manifest": "{not json"})
    assert broken.status_code == 422 and "不是合法的 JSON" in broken.text
    wrong = portal.post(
        "/admin/apps/new", data={"manifest": json.dumps(manifest(units=["310999000000"]))}
    )
    assert wrong.status_code == 422 and "units.0" in wrong.text


def test_the_admin_changes_units_pauses_and_replays_from_the_page(
    shequyun_client, shequyun_kernel, shequyun_actors, admin, receiver
):
    app = shequyun_client.post(
        "/api/v1/apps",
        json=manifest(webhook={"url": receiver.url, "events": ["resident.*"]}),
        headers=admin.auth,
    ).json()
    receiver.status = 500
    resident_in(shequyun_client, shequyun_actors.cadre(XUHUI_COMMITTEE), serial="111")
    shequyun_kernel.events.drain()
    shequyun_kernel.openness.webhooks.deliver_due()
    portal = admin.portal()
    page = portal.get(f"/admin/apps/{app['id']}")
    assert "resident.created" in page.text and "HTTP 500" in page.text
    delivery = re.search(r"/deliveries/(\d+)/replay", page.text)
    assert delivery is None  # still pending (retrying): nothing to replay yet
    paused = portal.post(f"/admin/apps/{app['id']}/webhooks/pause", follow_redirects=False)
    assert paused.status_code == 303
    assert "已暂停" in portal.get(f"/admin/apps/{app['id']}").text
    moved = portal.post(
        f"/admin/apps/{app['id']}/units", data={"units": "310104003000, 310115000000"}
    )
    assert "天平路街道" in moved.text and "浦东新区" in moved.text


def test_the_apps_nav_entry_shows_where_it_is_enabled_and_permitted(
    shequyun_client, shequyun_actors, admin
):
    shequyun_client.post("/api/v1/apps", json=manifest(), headers=admin.auth)
    xuhui = shequyun_actors.cadre(XUHUI_COMMITTEE).portal().get("/")
    assert 'href="http://127.0.0.1:9/app/" class="external-app"' in xuhui.text
    pudong = shequyun_actors.cadre(PUDONG_COMMITTEE).portal().get("/")
    assert "external-app" not in pudong.text


def test_the_units_are_kept_unchecked_dropped_and_added_one_by_one(shequyun_client, admin):
    app = shequyun_client.post("/api/v1/apps", json=manifest(), headers=admin.auth).json()
    portal = admin.portal()
    page = portal.get(f"/admin/apps/{app['id']}")
    # each enabled unit is a box to keep or untick, with its place in the city
    assert re.search(r'type="checkbox" name="units" value="310104000000" checked', page.text)
    assert "上海市" not in page.text.split("目前启用的单位", 1)[1].split("添加单位", 1)[0]
    assert 'id="f-add-unit" name="units"' in page.text and "data-unit-picker" in page.text
    saved = portal.post(
        f"/admin/apps/{app['id']}/units",
        data={"units": ["310104000000", "310115004001", "310115004001"]},
    )
    assert saved.status_code == 200
    kept = saved.text.split("目前启用的单位", 1)[1].split("添加单位", 1)[0]
    assert "浦东新区 › 潍坊新村街道 › </span>潍坊一村居委会（310115004001）" in kept
    assert kept.count('value="310115004001"') == 1
    dropped = portal.post(f"/admin/apps/{app['id']}/units", data={"units": ["310115004001"]})
    assert 'value="310104000000"' not in dropped.text.split("添加单位", 1)[0]
