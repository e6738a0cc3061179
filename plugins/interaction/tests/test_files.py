"""Files on 社区公告 and 居务公开: uploaded then claimed, public while published, kept per version."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from ._files import EXECUTABLE, docx, pdf, png
from .conftest import API, WEIFANG1, WEIFANG2

BASE = "/plugins/interaction"


def upload(town, actor, name, data):
    made = town.client.post("/api/v1/attachments", headers=actor.auth, files={"file": (name, data)})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def stored(kernel, attachment_id):
    with kernel.platform.session() as session:
        return kernel.platform.get_attachment(session, attachment_id)


def announce(town, actor, **body):
    return town.client.post(
        f"{API}/manage/announcements",
        headers=actor.auth,
        json={"title": "停水通知", "body": "周三 9:00–17:00 停水", **body},
    )


# -- announcements -------------------------------------------------------------------------------


def test_an_announcements_files_are_claimed_and_public(town, shequyun_kernel):
    cadre = town.cadre()
    notice = upload(town, cadre, "停水通知.pdf", pdf())
    photo = upload(town, cadre, "水管.png", png())
    made = announce(town, cadre, attachments=[notice, photo])
    assert made.status_code == 201, made.text
    item = made.json()
    assert [(a["id"], a["kind"], a["public"]) for a in item["attachments"]] == [
        (notice, "document", True),
        (photo, "image", True),
    ]
    ref = stored(shequyun_kernel, photo)
    assert (ref.owner, ref.owner_ref, ref.unit_id) == (
        "interaction",
        f"announcement:{item['id']}",
        cadre.actor.unit.id,
    )

    anyone = TestClient(town.client.app)
    public = anyone.get(f"{API}/announcements/{item['id']}").json()
    assert [a["filename"] for a in public["attachments"]] == ["停水通知.pdf", "水管.png"]
    image = anyone.get(f"/attachments/{photo}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_a_record_cannot_borrow_a_file_it_did_not_upload(town):
    mine = upload(town, town.cadre(), "a.pdf", pdf("a"))
    theirs = upload(town, town.cadre(WEIFANG2), "b.pdf", pdf("b"))
    refused = announce(town, town.cadre(), attachments=[mine, theirs, "att_nosuchfile00"])
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert [d["field"] for d in error["details"]] == ["attachments[1]", "attachments[2]"]
    # Nothing was kept: no announcement, and the own file is still unclaimed.
    assert town.client.get(f"{API}/announcements?unit={WEIFANG1}").json()["items"] == []
    assert announce(town, town.cadre(), attachments=[mine]).status_code == 201
    again = announce(town, town.cadre(), title="另一条通知", attachments=[mine])
    assert again.status_code == 422  # already claimed by the first announcement


def test_attachments_must_be_a_list_of_ids_and_few(town):
    cadre = town.cadre()
    bad = announce(town, cadre, attachments="att_x")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "attachments"
    ids = [upload(town, cadre, f"{i}.pdf", pdf(str(i))) for i in range(6)]
    many = announce(town, cadre, attachments=ids)
    assert many.status_code == 422 and many.json()["error"]["code"] == "too_many_files"


def test_a_withdrawn_announcements_files_are_no_longer_public(town, shequyun_actors):
    cadre = town.cadre()
    photo = upload(town, cadre, "现场.png", png())
    item = announce(town, cadre, attachments=[photo]).json()
    anyone = TestClient(town.client.app)
    assert anyone.get(f"/attachments/{photo}").status_code == 200

    withdrawn = town.client.post(
        f"{API}/manage/announcements/{item['id']}/withdraw", headers=cadre.auth
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True
    assert withdrawn.json()["attachments"][0]["public"] is False
    assert anyone.get(f"/attachments/{photo}").status_code == 404
    assert anyone.get(f"{API}/announcements/{item['id']}").status_code == 404
    # Publishers of the unit still read it; staff without the permission do not.
    colleague = shequyun_actors.cadre()
    assert colleague.client().get(f"/api/v1/attachments/{photo}/content").status_code == 200
    worker = shequyun_actors.social_worker()
    assert worker.client().get(f"/api/v1/attachments/{photo}/content").status_code == 404
    admin = shequyun_actors.platform_admin()
    log = town.client.get(
        "/api/v1/audit?action=interaction.announcement_withdrawn", headers=admin.auth
    ).json()
    assert log["items"][0]["detail"] == {"attachments_restricted": 1}


def test_a_cadre_publishes_with_files_from_the_page_and_residents_see_them(town, shequyun_actors):
    portal = shequyun_actors.cadre().portal()
    sent = portal.post(
        f"{BASE}/manage/announcements",
        data={"action": "publish", "title": "电梯维保公告", "body": "见附件"},
        files=[
            ("files", ("维保计划.pdf", pdf(), "application/pdf")),
            ("files", ("电梯.png", png(), "image/png")),
            ("files", ("", b"", "application/octet-stream")),  # an input left empty
        ],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    item = town.client.get(f"{API}/announcements?unit={WEIFANG1}").json()["items"][0]
    page = TestClient(town.client.app).get(f"{BASE}/announcements/{item['id']}").text
    image = re.search(r'<img src="(/attachments/att_[\w-]+)" alt="电梯.png"', page)
    assert image, page
    assert re.search(r'<a href="/attachments/att_[\w-]+"[^>]*>维保计划.pdf</a>', page)
    assert TestClient(town.client.app).get(image.group(1)).status_code == 200


def test_the_page_refuses_bad_files_next_to_the_field(shequyun_actors, town):
    portal = shequyun_actors.cadre().portal()
    bad = portal.post(
        f"{BASE}/manage/announcements",
        data={"action": "publish", "title": "公告", "body": "正文"},
        files=[("files", ("setup.pdf", EXECUTABLE, "application/pdf"))],
    )
    assert bad.status_code == 422
    assert 'id="f-files-error"' in bad.text and "不支持的文件类型" in bad.text
    many = portal.post(
        f"{BASE}/manage/announcements",
        data={"action": "publish", "title": "公告", "body": "正文"},
        files=[("files", (f"{i}.png", png(i), "image/png")) for i in range(6)],
    )
    assert many.status_code == 422 and "最多上传 5 个文件" in many.text
    assert town.client.get(f"{API}/announcements?unit={WEIFANG1}").json()["items"] == []


# -- disclosures ---------------------------------------------------------------------------------


def test_each_disclosure_version_keeps_its_own_files(town, shequyun_kernel):
    cadre = town.cadre()
    budget = upload(town, cadre, "预算.pdf", pdf("budget"))
    site = upload(town, cadre, "工地.png", png(1))
    made = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre.auth,
        json={
            "category": "works",
            "title": "车棚改造",
            "body": "预算 8 万元",
            "attachments": [budget, site],
        },
    )
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]

    # Version 2 keeps the budget, drops the photo and adds the contract.
    contract = upload(town, cadre, "合同.docx", docx())
    revised = town.client.patch(
        f"{API}/manage/disclosures/{item_id}",
        headers=cadre.auth,
        json={
            "category": "works",
            "title": "车棚改造",
            "body": "预算 8 万元，已签合同",
            "note": "补充合同",
            "attachments": [budget, contract],
        },
    )
    assert revised.status_code == 200, revised.text
    # Version 3 says nothing about files, so it keeps version 2's.
    third = town.client.patch(
        f"{API}/manage/disclosures/{item_id}",
        headers=cadre.auth,
        json={"category": "works", "title": "车棚改造", "body": "已开工", "note": "开工"},
    )
    assert third.status_code == 200, third.text

    public = TestClient(town.client.app).get(f"{API}/disclosures/{item_id}").json()
    assert [a["id"] for a in public["attachments"]] == [budget, contract]
    assert [(h["version"], [a["id"] for a in h["attachments"]]) for h in public["history"]] == [
        (3, [budget, contract]),
        (2, [budget, contract]),
        (1, [budget, site]),
    ]
    assert stored(shequyun_kernel, site).owner_ref == f"disclosure:{item_id}:v1"
    assert stored(shequyun_kernel, contract).owner_ref == f"disclosure:{item_id}:v2"
    # The dropped photo is still part of the public history.
    assert TestClient(town.client.app).get(f"/attachments/{site}").status_code == 200


def test_a_new_version_cannot_take_another_disclosures_file(town):
    cadre = town.cadre()
    first = upload(town, cadre, "一.pdf", pdf("1"))
    one = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre.auth,
        json={"category": "finance", "title": "一季度收支", "body": "x", "attachments": [first]},
    ).json()
    two = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre.auth,
        json={"category": "finance", "title": "二季度收支", "body": "y"},
    ).json()
    refused = town.client.patch(
        f"{API}/manage/disclosures/{two['id']}",
        headers=cadre.auth,
        json={
            "category": "finance",
            "title": "二季度收支",
            "body": "y",
            "note": "补附件",
            "attachments": [first],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "attachments[0]"
    assert town.client.get(f"{API}/disclosures/{two['id']}").json()["version"] == 1
    assert town.client.get(f"{API}/disclosures/{one['id']}").json()["attachments"][0]["id"] == first


def test_the_revision_page_drops_and_adds_files(town, shequyun_actors):
    cadre = shequyun_actors.cadre()
    portal = cadre.portal()
    made = portal.post(
        f"{BASE}/manage/disclosures",
        data={"category": "decision", "title": "停车管理办法", "body": "草案"},
        files=[("files", ("草案.pdf", pdf("draft"), "application/pdf"))],
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    listed = town.client.get(f"{API}/disclosures?unit={cadre.actor.unit.code}").json()
    item_id = listed["items"][0]["id"]
    page = portal.get(f"{BASE}/manage/disclosures/{item_id}").text
    assert 'name="keep[]"' in page and "草案.pdf" in page
    # Untick the draft (no keep[] sent) and upload the final text.
    revised = portal.post(
        f"{BASE}/manage/disclosures/{item_id}",
        data={"category": "decision", "title": "停车管理办法", "body": "定稿", "note": "定稿"},
        files=[("files", ("定稿.pdf", pdf("final"), "application/pdf"))],
        follow_redirects=False,
    )
    assert revised.status_code == 303, revised.text
    public = town.client.get(f"{API}/disclosures/{item_id}").json()
    assert [a["filename"] for a in public["attachments"]] == ["定稿.pdf"]
    assert [a["filename"] for a in public["history"][1]["attachments"]] == ["草案.pdf"]
    resident_page = TestClient(town.client.app).get(f"{BASE}/disclosures/{item_id}").text
    assert "定稿.pdf" in resident_page and "草案.pdf" in resident_page  # the history has it
