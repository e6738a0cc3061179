"""Photos on 在线服务 requests: the resident's own, and their committee's, no one else's."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from ._files import pdf, png
from .conftest import API, WEIFANG2
from .test_pages import BASE, resident_browser, submit

REPAIR = {"category": "repair", "title": "楼道灯不亮", "body": "12号楼 3 楼楼道灯坏了"}


def photos(*shades):
    return [("photos", (f"现场{i}.png", png(shade), "image/png")) for i, shade in enumerate(shades)]


def file_repair(app, *shades):
    return app.client.post(
        f"{API}/requests", headers=app.headers, data=REPAIR, files=photos(*shades)
    )


def test_a_resident_sends_a_repair_request_with_photos(town, shequyun_kernel):
    wang = town.verified(town.resident("王秀英"))
    sent = file_repair(wang, 10, 20)
    assert sent.status_code == 201, sent.text
    request = sent.json()
    assert [p["filename"] for p in request["photos"]] == ["现场0.png", "现场1.png"]
    first = request["photos"][0]
    assert first["url"] == f"{API}/requests/{request['id']}/photos/{first['id']}"
    assert first["public"] is False
    with shequyun_kernel.platform.session() as session:
        ref = shequyun_kernel.platform.get_attachment(session, first["id"])
    assert (ref.owner, ref.owner_ref, ref.uploaded_by) == (
        "interaction",
        f"request:{request['id']}",
        None,
    )
    assert ref.read_permissions == ("interaction.serve",)

    shown = wang.get(first["url"].removeprefix(API))
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert (
        wang.get(f"/requests/{request['id']}").json()["photos"][1]["id"]
        == request["photos"][1]["id"]
    )


def test_no_one_else_sees_the_photos(town, shequyun_actors):
    wang = town.verified(town.resident("王秀英"))
    request = file_repair(wang, 30).json()
    photo = request["photos"][0]["id"]
    # Another resident of the same committee: 404 on the plugin's route.
    li = town.verified(town.resident("李建国", room="902"))
    assert li.get(f"/requests/{request['id']}/photos/{photo}").status_code == 404
    # Nobody reads it at the kernel's URL without the permission on the committee...
    assert TestClient(town.client.app).get(f"/attachments/{photo}").status_code == 404
    assert shequyun_actors.cadre(WEIFANG2).client().get(f"/attachments/{photo}").status_code == 404
    # ...while the committee's cadres do, and see them in the queue.
    cadre = town.cadre()
    assert cadre.client().get(f"/attachments/{photo}").status_code == 200
    seen = town.client.get(f"{API}/manage/requests/{request['id']}", headers=cadre.auth).json()
    assert [p["url"] for p in seen["photos"]] == [f"/attachments/{photo}"]
    # A photo of another request is not served through this one.
    own = file_repair(li, 40).json()
    assert li.get(f"/requests/{own['id']}/photos/{photo}").status_code == 404


def test_three_photos_at_most_and_only_images(town):
    wang = town.verified(town.resident("王秀英"))
    many = file_repair(wang, 1, 2, 3, 4)
    assert many.status_code == 422 and many.json()["error"]["field"] == "photos"
    document = wang.client.post(
        f"{API}/requests",
        headers=wang.headers,
        data=REPAIR,
        files=[("photos", ("照片.pdf", pdf(), "application/pdf"))],
    )
    assert document.status_code == 415
    assert document.json()["error"]["field"] == "photos"
    assert wang.get("/requests").json()["items"] == []  # no request without its photos


def test_photos_are_added_while_the_request_is_open(town):
    wang = town.verified(town.resident("王秀英"))
    request = wang.post("/requests", REPAIR).json()
    assert request["photos"] == []
    added = wang.client.post(
        f"{API}/requests/{request['id']}/photos", headers=wang.headers, files=photos(5, 6)
    )
    assert added.status_code == 201, added.text
    assert len(added.json()["photos"]) == 2
    too_many = wang.client.post(
        f"{API}/requests/{request['id']}/photos", headers=wang.headers, files=photos(7, 8)
    )
    assert too_many.status_code == 422 and "最多 3 张照片" in too_many.json()["error"]["message"]
    cadre = town.cadre()
    town.client.post(
        f"{API}/manage/requests/{request['id']}/replies",
        headers=cadre.auth,
        json={"body": "已修好", "status": "done"},
    )
    late = wang.client.post(
        f"{API}/requests/{request['id']}/photos", headers=wang.headers, files=photos(9)
    )
    assert late.status_code == 409


def test_unverified_accounts_cannot_send_photos(town):
    stranger = town.account("13900000009")
    refused = stranger.client.post(
        f"{API}/requests", headers=stranger.headers, data=REPAIR, files=photos(1)
    )
    assert refused.status_code == 403


def test_the_resident_pages_take_and_show_photos(town):
    wang = town.resident("王秀英")
    browser = resident_browser(town, wang)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{BASE}/requests").text)
    assert token
    sent = browser.post(
        f"{BASE}/requests",
        data={**REPAIR, "csrf_token": token.group(1)},
        files=photos(50),
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = browser.get(sent.headers["location"]).text
    src = re.search(r'<img src="(/plugins/interaction/requests/\d+/photos/att_[\w-]+)"', page)
    assert src, page
    assert browser.get(src.group(1)).status_code == 200
    assert "还可添加 2 张" in page
    neighbour = resident_browser(town, town.resident("李建国", room="903"))
    assert neighbour.get(src.group(1)).status_code == 404
    added = submit(browser, sent.headers["location"], {"action": "photos"})
    assert added.status_code == 422 and "请选择要上传的照片" in added.text
