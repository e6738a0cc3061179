"""A photo question in a real browser: a cadre picks a photo, submits, and sees the thumbnail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlmodel import Session

from ..attachments._files import pdf, png
from ..collection.test_attachments_in_submissions import SITE_VISIT
from .conftest import log_in, shoot
from .test_collection import actor_of, log_out

STREET = "310104003000"
COMMITTEE = "310104003001"


@pytest.fixture(scope="module")
def task_url(portal):
    """The 消防通道现场核查 form, with photo questions, sent to 天平路街道's committees."""
    kernel = portal.kernel
    actor = actor_of(kernel, portal.actors.bureau())
    with Session(kernel.engine, expire_on_commit=False) as session:
        form = kernel.collection.forms.create(
            session, actor, {"title": "消防通道现场核查", **SITE_VISIT}
        )
        session.flush()
        kernel.collection.forms.publish(session, actor, form.id, 1)
        campaign = kernel.collection.campaigns.open(
            session,
            actor,
            {
                "form_id": form.id,
                "version": 1,
                "title": "消防通道现场核查",
                "deadline": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
                "targets": [STREET],
            },
        )
        session.commit()
        [(task, _campaign, _unit)] = [
            row
            for row in kernel.collection.campaigns.my_tasks(
                session, actor_of(kernel, portal.actors.cadre(COMMITTEE))
            )
            if row[1].id == campaign.id
        ]
    return f"{portal.url}/collection/tasks/{task.id}"


def loaded(image) -> bool:
    """Whether the image loads. Thumbnails load lazily, after the page's load event: wait for
    it (up to 10 s) rather than look once."""
    image.scroll_into_view_if_needed()
    try:
        image.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=image.element_handle(),
            timeout=10_000,
        )
    except PlaywrightTimeoutError:
        return False
    return True


def test_a_cadre_submits_a_photo_and_sees_its_thumbnail(browser_page, portal, task_url):
    page = browser_page
    cadre = portal.actors.cadre(COMMITTEE)
    log_in(page, portal, cadre)
    page.goto(task_url)
    site = page.get_by_label("现场照片")
    assert site.get_attribute("type") == "file" and site.get_attribute("accept") == "image/*"
    assert "每个文件不超过 8 MB" in page.locator("#f-site-limits").inner_text()

    # A PDF in the photo question comes back at that question; the remark typed is kept.
    site.set_input_files({"name": "通知.pdf", "mimeType": "application/pdf", "buffer": pdf()})
    page.get_by_label("备注").fill("东侧通道已清理")
    page.get_by_role("button", name="提交", exact=True).click()
    assert "只接受图片" in page.locator("#f-site-error").inner_text()
    assert page.get_by_label("备注").input_value() == "东侧通道已清理"
    shoot(page, "collection-photo-refused")

    photo = {"name": "现场.png", "mimeType": "image/png", "buffer": png(64, 48)}
    page.get_by_label("现场照片").set_input_files(photo)
    page.get_by_label("其他照片").set_input_files(
        [
            {"name": "东侧.png", "mimeType": "image/png", "buffer": png(32, 32)},
            {"name": "西侧.png", "mimeType": "image/png", "buffer": png(48, 32)},
        ]
    )
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "已提交" in page.locator("main").inner_text()
    thumbnails = page.locator(".answers img")
    assert thumbnails.count() == 3
    assert all(loaded(thumbnails.nth(i)) for i in range(3))
    assert thumbnails.first.get_attribute("alt") == "现场.png"
    source = thumbnails.first.get_attribute("src")
    assert source.startswith("/attachments/att_")
    shoot(page, "collection-photo-submitted")
    log_out(page)

    # The street sees the same photos; a neighbouring committee gets 404 for the file.
    log_in(page, portal, portal.actors.street_admin(STREET))
    page.goto(task_url)
    assert loaded(page.locator(".answers img").first)
    log_out(page)
    log_in(page, portal, portal.actors.cadre("310104003002"))
    assert page.goto(f"{portal.url}{source}").status == 404


def test_a_file_over_the_limit_is_stopped_before_it_is_sent(browser_page, portal, task_url):
    page = browser_page
    log_in(page, portal, portal.actors.cadre("310104003002"))
    page.goto(portal.url + "/collection/tasks")
    page.locator(".task-card a").first.click()
    big = png() + b"\0" * (9 * 1024 * 1024)
    page.get_by_label("现场照片").set_input_files(
        {"name": "大.png", "mimeType": "image/png", "buffer": big}
    )
    page.get_by_role("button", name="提交", exact=True).click()
    warning = page.locator(".file-warning")
    assert "每个文件不能超过 8.0 MB" in warning.inner_text()
    assert "/collection/tasks/" in page.url and "done=" not in page.url
