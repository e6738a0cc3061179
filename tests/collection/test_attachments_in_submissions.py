"""Photos and files in answers: uploaded first, claimed by the task, read by its line only."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from shequyun.attachments.models import Attachment
from shequyun.collection.fields import KINDS, WIDGETS
from shequyun.collection.models import SubmissionKey, Task, TaskEvent
from shequyun.collection.ui_check import check_ui
from shequyun.events import OutboxEvent

from ..attachments._files import pdf, png
from ..residents._data import id_number, resident
from ._forms import deadline

SITE_VISIT = {
    "schema": {
        "type": "object",
        "properties": {
            "site": {"type": "string", "format": "attachment"},
            "photos": {
                "type": "array",
                "items": {"type": "string", "format": "attachment"},
                "maxItems": 9,
            },
            "notice": {"type": "string", "format": "attachment"},
            "members": {
                "type": "array",
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 20},
                        "certificate": {"type": "string", "format": "attachment"},
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            },
            "remark": {"type": "string", "maxLength": 200},
        },
        "required": ["site"],
        "additionalProperties": False,
    },
    "ui": {
        "order": ["site", "photos", "notice", "members", "remark"],
        "fields": {
            "site": {"label": "现场照片", "widget": "photo"},
            "photos": {"label": "其他照片", "widget": "photo"},
            "notice": {"label": "告知书"},
            "members": {"label": "持证人员"},
            "members.name": {"label": "姓名"},
            "members.certificate": {"label": "证书扫描件"},
            "remark": {"label": "备注", "widget": "textarea"},
        },
    },
}

ROSTER_PHOTO = {
    "schema": {
        "type": "object",
        "properties": {
            "visited": {"type": "boolean"},
            "photo": {"type": "string", "format": "attachment"},
        },
        "required": ["visited"],
        "additionalProperties": False,
    },
    "ui": {
        "fields": {
            "visited": {"label": "是否已上门"},
            "photo": {"label": "走访照片", "widget": "photo"},
        }
    },
}


def upload(client, actor, data: bytes, name: str = "现场.png") -> str:
    response = client.post(
        "/api/v1/attachments", headers=actor.auth, files={"file": (name, data, "image/png")}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def open_campaign(client, publisher, form=SITE_VISIT, **campaign) -> int:
    created = client.post(
        "/api/v1/forms", json={"title": "消防通道现场核查", **form}, headers=publisher.auth
    )
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    client.post(f"/api/v1/forms/{form_id}/versions/1/publish", headers=publisher.auth)
    body = {"form_id": form_id, "version": 1, "deadline": deadline(), **campaign}
    body.setdefault("targets", ["310104003000"])
    opened = client.post("/api/v1/campaigns", json=body, headers=publisher.auth)
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def task_id_of(client, cadre) -> int:
    (task,) = client.get("/api/v1/tasks", headers=cadre.auth).json()["items"]
    return int(task["id"])


def submit(client, cadre, task_id, data, key="key-00000001"):
    return client.post(
        f"/api/v1/tasks/{task_id}/submit",
        headers=cadre.auth,
        json={"client_key": key, "data": data},
    )


def draft(client, cadre, task_id, data):
    version = client.get(f"/api/v1/tasks/{task_id}", headers=cadre.auth).json()["version"]
    return client.put(
        f"/api/v1/tasks/{task_id}/draft",
        headers=cadre.auth,
        json={"version": version, "data": data},
    )


def readable(client, actor, attachment_id) -> bool:
    response = client.get(f"/api/v1/attachments/{attachment_id}/content", headers=actor.auth)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def test_a_submitted_photo_is_read_by_the_committees_line_and_nobody_else(
    shequyun_client, shequyun_actors
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(client, bureau)
    photo, notice = upload(client, cadre, png()), upload(client, cadre, pdf(), "告知书.pdf")

    task_id = task_id_of(client, cadre)
    submitted = submit(client, cadre, task_id, {"site": photo, "notice": notice})
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["data"] == {"site": photo, "notice": notice}

    line = [
        shequyun_actors.cadre("310104003001"),  # a colleague of the same committee
        shequyun_actors.street_admin("310104003000"),
        shequyun_actors.district_admin("310104000000"),
        bureau,
    ]
    outside = [
        shequyun_actors.cadre("310104003002"),  # the neighbouring committee
        shequyun_actors.street_admin("310115004000"),
        shequyun_actors.district_admin("310115000000"),
    ]
    for attachment_id in (photo, notice):
        assert all(readable(client, actor, attachment_id) for actor in line)
        assert not any(readable(client, actor, attachment_id) for actor in outside)
    meta = client.get(f"/api/v1/attachments/{photo}", headers=bureau.auth).json()
    assert meta["claimed"] is True and meta["kind"] == "image"


def test_a_neighbours_upload_is_refused_and_nothing_is_stored(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    neighbour = shequyun_actors.cadre("310104003002")
    open_campaign(client, bureau)
    mine = upload(client, cadre, png())
    theirs = upload(client, neighbour, png(3, 3))
    task_id = task_id_of(client, cadre)
    data = {
        "site": mine,
        "members": [{"name": "张三"}, {"name": "李四", "certificate": theirs}],
    }

    refused = submit(client, cadre, task_id, data)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "members[1].certificate"
    assert error["message"].startswith("members[1].certificate：附件不存在，或不是您上传的")
    assert draft(client, cadre, task_id, data).status_code == 422

    with Session(shequyun_kernel.engine) as session:
        task = session.get(Task, task_id)
        assert (task.status, task.version, task.data) == ("not_started", 1, {})
        assert session.exec(select(TaskEvent)).all() == []
        assert session.exec(select(SubmissionKey)).all() == []
        # On PostgreSQL the claim and the event are part of the submission's one statement:
        # refusing a file rolls all of it back.
        assert _submission_events(session) == []
        rows = {r.id: r for r in session.exec(select(Attachment))}
        assert rows[mine].owner is None and rows[theirs].owner is None
    assert not readable(client, shequyun_actors.street_admin("310104003000"), mine)

    # Once the neighbour's task holds the file, it is theirs: still refused, with the same words.
    neighbour_task = task_id_of(client, neighbour)
    assert submit(client, neighbour, neighbour_task, {"site": theirs}).status_code == 201
    with Session(shequyun_kernel.engine) as session:
        events = _submission_events(session)
        assert [(e.type, e.payload["task_id"], e.payload["version"]) for e in events] == [
            ("collection.submission.created", neighbour_task, 2)
        ]
        held = session.get(Attachment, theirs)
        assert (held.owner, held.owner_ref) == ("collection", f"task:{neighbour_task}")
    again = submit(client, cadre, task_id, {"site": theirs}, key="key-00000002")
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "site"
    # A made-up id is refused the same way.
    made_up = submit(client, cadre, task_id, {"site": "att_" + "x" * 22}, key="key-00000003")
    assert made_up.json()["error"]["field"] == "site"


def _submission_events(session):
    return list(
        session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.type).startswith("collection.submission."))
            .order_by(col(OutboxEvent.id))
        )
    )


def test_a_photo_question_refuses_a_pdf(shequyun_client, shequyun_actors, shequyun_kernel):
    client = shequyun_client
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(client, shequyun_actors.bureau())
    photo, document = upload(client, cadre, png()), upload(client, cadre, pdf(), "通知.pdf")
    task_id = task_id_of(client, cadre)

    refused = submit(client, cadre, task_id, {"site": document})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "site"
    assert "只能上传照片" in refused.json()["error"]["message"]
    listed = submit(client, cadre, task_id, {"site": photo, "photos": [photo, document]})
    assert [d["field"] for d in listed.json()["error"]["details"]] == ["photos[1]"]
    with Session(shequyun_kernel.engine) as session:
        assert all(r.owner is None for r in session.exec(select(Attachment)))
    # A file question (no photo widget) takes the PDF.
    assert submit(client, cadre, task_id, {"site": photo, "notice": document}).status_code == 201


def test_drafts_and_resubmissions_keep_their_files_and_drop_removed_ones(
    shequyun_client, shequyun_actors
):
    client = shequyun_client
    cadre = shequyun_actors.cadre("310104003001")
    street = shequyun_actors.street_admin("310104003000")
    open_campaign(client, shequyun_actors.bureau())
    first, second = upload(client, cadre, png()), upload(client, cadre, png(4, 4))
    task_id = task_id_of(client, cadre)
    data = {"site": first, "photos": [first, second]}

    assert draft(client, cadre, task_id, data).status_code == 200
    assert readable(client, street, second)  # a draft's files are the task's too
    assert draft(client, cadre, task_id, data).status_code == 200
    assert submit(client, cadre, task_id, data).status_code == 201
    replay = submit(client, cadre, task_id, data)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    returned = client.post(
        f"/api/v1/tasks/{task_id}/return", headers=street.auth, json={"comment": "照片不清楚"}
    )
    assert returned.status_code == 200

    again = submit(client, cadre, task_id, {"site": first}, key="key-00000002")
    assert again.status_code == 201, again.text
    assert readable(client, street, first)
    assert not readable(client, street, second)  # no longer in the answer: released
    assert readable(client, cadre, second)  # back to its uploader alone


def test_a_roster_task_claims_each_residents_photo(shequyun_client, shequyun_actors):
    client = shequyun_client
    cadre = shequyun_actors.cadre("310104003001")
    neighbour = shequyun_actors.cadre("310104003002")
    elder = client.post(
        "/api/v1/residents",
        json=resident(
            name="老人甲",
            id_number=id_number(born="19360101", serial="014"),
            address=None,
            household_number=None,
            tags=["独居老人"],
        ),
        headers=cadre.auth,
    ).json()
    open_campaign(
        client,
        shequyun_actors.bureau(),
        ROSTER_PHOTO,
        mode="roster",
        roster_filter={"tags": ["独居老人"]},
    )
    task_id = task_id_of(client, cadre)
    theirs = upload(client, neighbour, png())
    row = {"resident_id": elder["id"], "visited": True, "photo": theirs}

    refused = submit(client, cadre, task_id, {"rows": [row]})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "rows[0].photo"
    row["photo"] = upload(client, cadre, png())
    assert submit(client, cadre, task_id, {"rows": [row]}, key="key-00000002").status_code == 201
    assert readable(client, shequyun_actors.street_admin("310104003000"), row["photo"])


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_exports_keep_the_ids_and_add_a_download_address(
    shequyun_client, shequyun_actors, file_format
):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    campaign_id = open_campaign(client, bureau)
    photos = [upload(client, cadre, png()), upload(client, cadre, png(3, 3))]
    task_id = task_id_of(client, cadre)
    submit(client, cadre, task_id, {"site": photos[0], "photos": photos})

    export = client.get(
        f"/api/v1/campaigns/{campaign_id}/export?format={file_format}", headers=bureau.auth
    )
    if file_format == "csv":
        header, row = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(export.content)).active
        header, row = ([c.value for c in r] for r in sheet.iter_rows())
    cells = dict(zip(header, row, strict=True))
    assert cells["现场照片"] == photos[0]
    assert cells["现场照片（下载地址）"] == f"http://testserver/attachments/{photos[0]}"
    assert cells["其他照片"] == "、".join(photos)
    assert cells["其他照片（下载地址）"].split() == [
        f"http://testserver/attachments/{p}" for p in photos
    ]

    page = client.get(f"/api/v1/campaigns/{campaign_id}/submissions", headers=bureau.auth).json()
    assert page["items"][0]["data"]["photos"] == photos  # the cursor API: ids, as submitted


def test_photo_is_a_widget_of_attachment_questions_only():
    schema = SITE_VISIT["schema"]
    assert check_ui(SITE_VISIT["ui"], schema) == []
    on_text = {**SITE_VISIT["ui"]["fields"], "remark": {"label": "备注", "widget": "photo"}}
    [problem] = check_ui({**SITE_VISIT["ui"], "fields": on_text}, schema)
    assert (problem.path, problem.message) == ("/fields/remark/widget", "photo 不适用于文字字段")
    assert WIDGETS["photo"] == WIDGETS["file"]
    assert {k.name for k in KINDS if k.widget == "photo"} == {"photo", "photos"}


# -- the portal: a multipart form that works without JavaScript -------------------------------


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def post_form(portal, task_id, page_html, fields, files=(), **extra):
    data = {
        "client_key": hidden(page_html, "client_key"),
        "version": hidden(page_html, "version"),
        **fields,
    }
    return portal.post(
        f"/collection/tasks/{task_id}",
        data=data,
        files=list(files),
        follow_redirects=False,
        **extra,
    )


def stored_task(kernel, task_id):
    with Session(kernel.engine) as session:
        return session.get(Task, task_id)


def test_the_fill_form_uploads_photos_without_javascript(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    client = shequyun_client
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(client, shequyun_actors.bureau())
    task_id = task_id_of(client, cadre)
    portal = cadre.portal()

    page = portal.get(f"/collection/tasks/{task_id}")
    assert 'enctype="multipart/form-data"' in page.text
    assert re.search(r'<input type="file" id="f-site" name="site" accept="image/\*"', page.text)
    assert re.search(
        r'<input type="file" id="f-photos" name="photos" accept="image/\*" multiple', page.text
    )
    assert 'name="notice" accept="image/*,.pdf,.docx,.xlsx"' in page.text
    assert 'name="members[0].certificate"' in page.text  # a file column of a table
    assert "每个文件不超过 8 MB，每次保存或提交的文件合计不超过 10 MB" in page.text

    sent = post_form(
        portal,
        task_id,
        page.text,
        {"action": "submit", "remark": "东侧通道已清理", "members[0].name": "张三"},
        files=[
            ("site", ("现场.png", png(), "image/png")),
            ("photos", ("一.png", png(3, 3), "image/png")),
            ("photos", ("二.png", png(4, 4), "image/png")),
            ("notice", ("", b"", "application/octet-stream")),  # a file input left empty
            ("members[0].certificate", ("证书.pdf", pdf(), "application/pdf")),
        ],
    )
    assert sent.status_code == 303, sent.text
    task = stored_task(shequyun_kernel, task_id)
    assert task.status == "submitted"
    site, photos = task.data["site"], task.data["photos"]
    certificate = task.data["members"][0]["certificate"]
    assert site.startswith("att_") and len(photos) == 2 and "notice" not in task.data
    street = shequyun_actors.street_admin("310104003000")
    assert all(readable(client, street, i) for i in (site, *photos, certificate))

    done = portal.get(sent.headers["location"])
    assert f'<img src="/attachments/{site}" alt="现场.png"' in done.text
    assert f'href="/attachments/{certificate}"' in done.text and "证书.pdf" in done.text
    review = street.portal().get(f"/collection/tasks/{task_id}")
    assert f'<img src="/attachments/{photos[1]}"' in review.text


def test_a_refused_file_is_shown_at_its_question_and_the_rest_is_kept(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, shequyun_actors.bureau())
    task_id = task_id_of(shequyun_client, cadre)
    portal = cadre.portal()
    page = portal.get(f"/collection/tasks/{task_id}")

    refused = post_form(
        portal,
        task_id,
        page.text,
        {"action": "submit", "remark": "待复核"},
        files=[
            ("site", ("通知.pdf", pdf(), "application/pdf")),
            ("photos", ("一.png", png(), "image/png")),
        ],
    )
    assert refused.status_code == 422
    assert re.search(r'id="f-site-error">不支持的文件类型：只接受图片', refused.text)
    assert ">待复核</textarea>" in refused.text
    kept = hidden(refused.text, "photos")  # the accepted photo is attached, ready to resend
    assert f'name="_drop:photos" value="{kept}"' in refused.text
    task = stored_task(shequyun_kernel, task_id)
    assert (task.status, task.data, task.version) == ("not_started", {}, 1)

    # Sent again with a photo: the kept one is claimed with it.
    good = post_form(
        portal,
        task_id,
        refused.text,
        {"action": "submit", "remark": "待复核", "photos": kept},
        files=[("site", ("现场.png", png(5, 5), "image/png"))],
    )
    assert good.status_code == 303, good.text
    assert stored_task(shequyun_kernel, task_id).data["photos"] == [kept]


def test_removing_and_replacing_attached_files(shequyun_client, shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, shequyun_actors.bureau())
    task_id = task_id_of(shequyun_client, cadre)
    first, second, old_site = (upload(shequyun_client, cadre, png(n, n)) for n in (2, 3, 4))
    assert (
        draft(
            shequyun_client, cadre, task_id, {"site": old_site, "photos": [first, second]}
        ).status_code
        == 200
    )
    portal = cadre.portal()
    page = portal.get(f"/collection/tasks/{task_id}")
    assert page.text.count('name="_drop:photos"') == 2

    saved = post_form(
        portal,
        task_id,
        page.text,
        {"action": "draft", "site": old_site, "photos": [first, second], "_drop:photos": first},
        files=[("site", ("新.png", png(6, 6), "image/png"))],
    )
    assert saved.status_code == 303, saved.text
    data = stored_task(shequyun_kernel, task_id).data
    assert data["photos"] == [second]
    assert data["site"] not in (old_site, None)  # the new photo replaced the old one
    street = shequyun_actors.street_admin("310104003000")
    assert not readable(shequyun_client, street, first)
    assert not readable(shequyun_client, street, old_site)


def test_the_form_refuses_nul_and_too_many_files(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    open_campaign(shequyun_client, shequyun_actors.bureau())
    task_id = task_id_of(shequyun_client, cadre)
    portal = cadre.portal()
    page = portal.get(f"/collection/tasks/{task_id}")
    nul = post_form(
        portal,
        task_id,
        page.text,
        {"action": "draft", "remark": "a\x00b"},
        files=[("site", ("现场.png", png(), "image/png"))],
    )
    assert nul.status_code == 400
    many = post_form(
        portal,
        task_id,
        page.text,
        {"action": "draft"},
        files=[("photos", (f"{n}.png", png(), "image/png")) for n in range(21)],
    )
    assert many.status_code == 422
    assert "一次最多上传 20 个文件" in many.text


def test_results_count_the_files_and_show_the_first_ones(shequyun_client, shequyun_actors):
    client = shequyun_client
    bureau = shequyun_actors.bureau()
    cadre = shequyun_actors.cadre("310104003001")
    campaign_id = open_campaign(client, bureau)
    photos = [upload(client, cadre, png(n, n)) for n in (2, 3)]
    submit(client, cadre, task_id_of(client, cadre), {"site": photos[0], "photos": photos})

    results = client.get(f"/api/v1/campaigns/{campaign_id}/results", headers=bureau.auth).json()
    question = next(q for q in results["total"]["questions"] if q["column"] == "photos")
    assert question | {"label": None} == {
        "column": "photos",
        "label": None,
        "kind": "file",
        "answered": 1,
        "files": 2,
        "samples": photos,
    }
    page = bureau.portal().get(f"/collection/campaigns/{campaign_id}/results")
    assert "共 2 个文件" in page.text
    assert f'<img src="/attachments/{photos[1]}"' in page.text


def test_a_roster_form_takes_a_photo_per_resident_in_the_portal(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    client = shequyun_client
    cadre = shequyun_actors.cadre("310104003001")
    for serial, name in (("014", "王阿婆"), ("024", "李老伯")):
        client.post(
            "/api/v1/residents",
            headers=cadre.auth,
            json=resident(
                name=name,
                id_number=id_number(born="19360101", serial=serial),
                tags=["独居老人"],
                address=None,
                household_number=None,
            ),
        )
    open_campaign(
        client,
        shequyun_actors.bureau(),
        ROSTER_PHOTO,
        mode="roster",
        roster_filter={"tags": ["独居老人"]},
    )
    task_id = task_id_of(client, cadre)
    portal = cadre.portal()
    page = portal.get(f"/collection/tasks/{task_id}")
    assert 'type="file" id="f-rows-1-photo" name="rows[1].photo" accept="image/*"' in page.text
    assert 'aria-label="走访照片（李老伯）"' in page.text

    sent = post_form(
        portal,
        task_id,
        page.text,
        {"action": "submit", "rows[0].visited": "true", "rows[1].visited": "false"},
        files=[
            ("rows[0].photo", ("", b"", "application/octet-stream")),
            ("rows[1].photo", ("李老伯.png", png(), "image/png")),
        ],
    )
    assert sent.status_code == 303, sent.text
    rows = stored_task(shequyun_kernel, task_id).data["rows"]
    assert "photo" not in rows[0] and rows[1]["photo"].startswith("att_")
    street = shequyun_actors.street_admin("310104003000")
    assert readable(client, street, rows[1]["photo"])
    # The bureau, without resident records, sees the rows by number, photo included.
    review = shequyun_actors.bureau().portal().get(f"/collection/tasks/{task_id}")
    assert f'<img src="/attachments/{rows[1]["photo"]}"' in review.text
