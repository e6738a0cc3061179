"""The attachment store through the API: checked at the door, read only by those in scope."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from shequyun.attachments.models import Attachment

from ._files import EXECUTABLE, HTML, pdf, png, xlsx


def upload(client, actor, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return client.post(
        "/api/v1/attachments", headers=actor.auth, files={"file": (name, data, content_type)}
    )


def test_a_cadre_uploads_a_photo_and_reads_it_back(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    photo = png()
    response = upload(shequyun_client, cadre, "现场照片.png", photo, "image/png")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("att_")
    assert body["kind"] == "image" and body["content_type"] == "image/png"
    assert body["size"] == len(photo) and body["filename"] == "现场照片.png"
    assert body["claimed"] is False

    content = shequyun_client.get(f"/api/v1/attachments/{body['id']}/content", headers=cadre.auth)
    assert content.status_code == 200
    assert content.content == photo
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in content.headers["content-security-policy"]
    assert content.headers["content-disposition"].startswith("inline")
    saved = shequyun_client.get(
        f"/api/v1/attachments/{body['id']}/content?download=1", headers=cadre.auth
    )
    assert saved.headers["content-disposition"].startswith("attachment")


def test_the_type_comes_from_the_content_not_the_name(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    renamed = upload(shequyun_client, cadre, "报表.pdf", xlsx(), "application/pdf")
    assert renamed.status_code == 201
    assert renamed.json()["kind"] == "document"
    assert renamed.json()["filename"] == "报表.pdf.xlsx"
    assert upload(shequyun_client, cadre, "通知.pdf", pdf()).json()["filename"] == "通知.pdf"


def test_bad_files_get_a_clear_answer_and_store_nothing(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre()
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * shequyun_kernel.settings.attachment_max_bytes
    cases = {
        "a program dressed as a photo": (
            upload(shequyun_client, cadre, "照片.jpg", EXECUTABLE, "image/jpeg"),
            415,
        ),
        "a web page": (upload(shequyun_client, cadre, "a.html", HTML, "text/html"), 415),
        "an empty file": (upload(shequyun_client, cadre, "空.png", b""), 422),
        "too big": (upload(shequyun_client, cadre, "大.png", too_big), 413),
        "no file at all": (
            shequyun_client.post("/api/v1/attachments", headers=cadre.auth, json={"file": "x"}),
            422,
        ),
    }
    for why, (response, status) in cases.items():
        assert response.status_code == status, (why, response.text)
        error = response.json()["error"]
        assert error["field"] == "file", why
        assert error["message"], why
    assert "只接受" in cases["a web page"][0].json()["error"]["message"]
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Attachment)).all() == []
    assert list(shequyun_kernel.attachments.blobs.hashes()) == []


def test_uploading_needs_a_login(shequyun_client):
    response = shequyun_client.post("/api/v1/attachments", files={"file": ("a.png", png())})
    assert response.status_code == 401


def test_an_unclaimed_upload_is_its_uploaders_alone(shequyun_client, shequyun_actors):
    mine = shequyun_actors.cadre("310104003001")
    neighbour = shequyun_actors.cadre("310104003002")
    street = shequyun_actors.street_admin()
    attachment_id = upload(shequyun_client, mine, "a.png", png()).json()["id"]
    for other in (neighbour, street):
        for url in (
            f"/api/v1/attachments/{attachment_id}",
            f"/api/v1/attachments/{attachment_id}/content",
        ):
            assert shequyun_client.get(url, headers=other.auth).status_code == 404
    assert shequyun_client.get(f"/attachments/{attachment_id}").status_code in (401, 404)
    assert (
        shequyun_client.get("/api/v1/attachments/att_nonexistent00", headers=mine.auth).status_code
        == 404
    )
    assert (
        shequyun_client.get("/api/v1/attachments/../../etc/passwd", headers=mine.auth).status_code
        == 404
    )


def test_claimed_files_follow_the_scope_of_their_unit(
    shequyun_client, shequyun_actors, shequyun_kernel, shequyun_units
):
    mine = shequyun_actors.cadre("310104003001")
    neighbour = shequyun_actors.cadre("310104003002")
    street = shequyun_actors.street_admin("310104003000")
    other_district = shequyun_actors.street_admin("310115005000")
    attachment_id = upload(shequyun_client, mine, "a.png", png()).json()["id"]
    platform = shequyun_kernel.platform
    with platform.session() as session:
        unit = platform.unit(session, "310104003001")
        [claimed] = platform.claim_attachments(
            session,
            [attachment_id],
            actor=mine.actor,
            owner="collection",
            owner_ref="task:1",
            unit=unit,
            read_permissions=["residents.read"],
        )
        assert claimed.claimed and claimed.unit_id == unit.id
    url = f"/api/v1/attachments/{attachment_id}/content"
    assert shequyun_client.get(url, headers=mine.auth).status_code == 200
    assert shequyun_client.get(url, headers=street.auth).status_code == 200
    assert shequyun_client.get(url, headers=neighbour.auth).status_code == 404
    assert shequyun_client.get(url, headers=other_district.auth).status_code == 404


def test_a_record_cannot_claim_someone_elses_file(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    mine = shequyun_actors.cadre("310104003001")
    neighbour = shequyun_actors.cadre("310104003002")
    theirs = upload(shequyun_client, neighbour, "b.png", png()).json()["id"]
    ours = upload(shequyun_client, mine, "a.png", png(3, 3)).json()["id"]
    platform = shequyun_kernel.platform
    from shequyun_sdk import ValidationFailed

    with platform.session() as session:
        try:
            platform.claim_attachments(
                session, [ours, theirs], actor=mine.actor, owner="collection", owner_ref="task:1"
            )
        except ValidationFailed as refused:
            assert [d["field"] for d in refused.details] == ["attachments[1]"]
        else:
            raise AssertionError("claimed a neighbour's upload")
    with platform.session() as session:
        assert platform.get_attachment(session, ours).claimed is False
        # claiming again for the same record is harmless; another record may not take it over
        platform.claim_attachments(
            session, [ours], actor=mine.actor, owner="collection", owner_ref="task:1"
        )
        platform.claim_attachments(
            session, [ours], actor=mine.actor, owner="collection", owner_ref="task:1"
        )
    with platform.session() as session:
        try:
            platform.claim_attachments(
                session, [ours], actor=mine.actor, owner="collection", owner_ref="task:2"
            )
        except ValidationFailed:
            pass
        else:
            raise AssertionError("one file claimed by two records")


def test_a_plugin_stores_a_public_file_anyone_can_read(shequyun_client, shequyun_kernel):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        notice = platform.store_attachment(
            session,
            data=pdf(),
            filename="停水通知.pdf",
            owner="hello",
            owner_ref="notice:1",
            public=True,
        )
    response = shequyun_client.get(notice.url)
    assert response.status_code == 200 and response.content == pdf()


def test_pruning_removes_old_unclaimed_uploads_and_orphan_content(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre()
    kept = upload(shequyun_client, cadre, "keep.png", png()).json()["id"]
    dropped = upload(shequyun_client, cadre, "drop.png", png(4, 4)).json()["id"]
    platform = shequyun_kernel.platform
    with platform.session() as session:
        platform.claim_attachments(
            session, [kept], actor=cadre.actor, owner="collection", owner_ref="task:9"
        )
    service = shequyun_kernel.attachments
    with Session(shequyun_kernel.engine) as session:
        rows, _ = service.prune(session, older_than=timedelta(seconds=-1))
        session.commit()
        assert rows == 1
        assert [row.id for row in session.exec(select(Attachment))] == [kept]
    assert dropped  # its content stays an hour (a row may be about to commit), then goes
