"""A bureau clerk builds a form in the portal without typing JSON, and in Excel; a cadre fills it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlmodel import Session, select

from ..collection.test_form_sheets import LIVING, workbook
from .conftest import log_in, shoot

COMMITTEE = "310115004001"


def builder_redraw(page):
    """Wait for the builder's background redraw (a step posted without a page load)."""
    return page.expect_response(
        lambda r: r.request.method == "POST" and r.request.headers.get("x-builder") == "page"
    )


def add(page, kind: str, number: int, label: str) -> None:
    page.locator("#add_kind").select_option(label=kind)
    with builder_redraw(page):
        page.get_by_role("button", name="＋ 添加").click()
    page.locator(f"#q-{number}-label").fill(label)


def choices(page, number: int, options: str) -> None:
    area = page.locator(f"#q-{number}-choices")
    area.fill(options)
    with builder_redraw(page):
        area.blur()


def test_a_clerk_builds_twelve_questions_previews_publishes_and_a_cadre_fills_it(
    browser_page, portal
):
    page = browser_page
    bureau = portal.actors.bureau()
    log_in(page, portal, bureau)
    page.goto(f"{portal.url}/collection/forms")
    page.get_by_role("link", name="新建表单").click()
    page.get_by_label("表单标题").fill("独居老人走访登记")
    page.locator("#q-1-label").fill("老人姓名")
    page.locator("#q-1-required").check()
    add(page, "整数", 2, "年龄")
    page.locator("#q-2-min").fill("60")
    page.locator("#q-2-max").fill("120")
    add(page, "单选", 3, "居住情况")
    choices(page, 3, "独居\n与配偶同住\n与子女同住")
    page.locator("#q-3-required").check()
    add(page, "电话", 4, "紧急联系人电话")
    page.locator("#q-4-show_field").select_option(label="当「居住情况」的答案为…时显示")
    page.locator("#q-4").get_by_role("checkbox", name="独居").check()
    add(page, "多选", 5, "服务需求")
    choices(page, 5, "助餐\n助浴\n助医")
    add(page, "是／否", 6, "是否已上门走访")
    add(page, "日期", 7, "走访日期")
    add(page, "数字（可带小数）", 8, "月收入（元）")
    add(page, "多行文字", 9, "备注")
    add(page, "照片（一张）", 10, "门牌照片")
    add(page, "地址（小区、楼号、单元、室号）", 11, "住址")
    add(page, "表格（每行填一组，可加行）", 12, "同住家庭成员")
    page.locator("#q-12-1-label").fill("姓名")
    page.locator("#add_kind-12").select_option(label="单选")
    with builder_redraw(page):
        page.locator("#q-12").get_by_role("button", name="添加", exact=True).click()
    page.locator("#q-12-2-label").fill("关系")
    choices(page, "12-2", "配偶\n子女\n其他")

    # The preview is the form a cadre sees, conditions working.
    preview = page.locator("#builder-preview")
    page.locator("#q-12-2-label").fill("与老人关系")
    expect(preview.get_by_text("与老人关系")).to_be_visible()
    expect(preview.get_by_label("紧急联系人电话")).to_be_hidden()
    preview.get_by_role("radio", name="独居").check()
    expect(preview.get_by_label("紧急联系人电话")).to_be_visible()
    assert "json" not in page.url.lower()
    shoot(page, "form-builder")

    page.get_by_role("button", name="保存为草稿（第 1 版）").click()
    assert "表单已创建" in page.get_by_role("status").inner_text()
    shoot(page, "form-builder-saved")
    page.get_by_role("button", name="发布第 1 版").click()
    form_id = int(re.search(r"/collection/forms/(\d+)", page.url)[1])

    kernel = portal.kernel
    from shequyun.collection.models import FormVersion

    from .test_collection import actor_of

    with Session(kernel.engine, expire_on_commit=False) as session:
        version = session.exec(select(FormVersion).where(FormVersion.form_id == form_id)).one()
        assert version.status == "published"
        assert len(version.schema_["properties"]) == 12
        assert version.ui["fields"]["q4"]["visible_if"] == {"field": "q3", "equals": "独居"}
        kernel.collection.campaigns.open(
            session,
            actor_of(kernel, bureau),
            {
                "form_id": form_id,
                "version": 1,
                "targets": [COMMITTEE],
                "deadline": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
            },
        )
        session.commit()

    # The same form, downloaded as Excel and uploaded again, is the same form.
    page.goto(f"{portal.url}/collection/forms/{form_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel 表单").click()
    path = download.value.path()
    page.goto(f"{portal.url}/collection/forms/import")
    page.get_by_label("表单标题").fill("独居老人走访登记（Excel）")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(path)
    page.get_by_role("button", name="上传并保存为草稿").click()
    assert "表单已创建" in page.get_by_role("status").inner_text()
    uploaded = int(re.search(r"/collection/forms/(\d+)", page.url)[1])
    with Session(kernel.engine) as session:
        again = session.exec(select(FormVersion).where(FormVersion.form_id == uploaded)).one()
        assert (again.schema_, again.ui) == (version.schema_, version.ui)
    page.get_by_role("button", name="退出").click()

    # The cadre fills it in: the condition shows the phone question for someone living alone.
    log_in(page, portal, portal.actors.cadre(COMMITTEE))
    page.goto(f"{portal.url}/collection/tasks")
    page.locator(".task-card").filter(has_text="独居老人走访登记").get_by_role(
        "link", name=re.compile("开始填报")
    ).click()
    page.get_by_label("老人姓名").fill("王秀英")
    page.get_by_label("年龄").fill("86")
    page.get_by_role("radio", name="独居").check()
    page.get_by_label("紧急联系人电话").fill("13800138000")
    page.get_by_label("姓名（第 1 行）").fill("王小明")
    shoot(page, "form-builder-cadre-fills")
    page.get_by_role("button", name="提交", exact=True).click()
    assert "已提交" in page.get_by_role("status").inner_text()


def test_an_excel_form_with_three_bad_rows_lists_all_three_and_stores_nothing(
    browser_page, portal, tmp_path
):
    from shequyun.collection.models import Form

    page = browser_page
    with Session(portal.kernel.engine) as session:
        before = len(session.exec(select(Form)).all())
    bad = tmp_path / "走访表.xlsx"
    bad.write_bytes(
        workbook(
            [
                ["integer", "age", "年龄", None, "yes", None, 120, 60],
                ["select_one nowhere", "living", "居住情况"],
                ["text", "name", "姓名", None, "maybe"],
            ],
            LIVING,
        )
    )
    log_in(page, portal, portal.actors.bureau())
    page.goto(f"{portal.url}/collection/forms")
    page.get_by_role("link", name="从 Excel 导入").click()
    page.get_by_label("表单标题").fill("走访")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(bad))
    page.get_by_role("button", name="上传并保存为草稿").click()
    summary = page.locator("#error-summary")
    assert "文件中有 3 处问题" in summary.inner_text()
    rows = summary.locator("tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == ["2", "3", "4"]
    shoot(page, "form-import-errors")
    with Session(portal.kernel.engine) as session:
        assert len(session.exec(select(Form)).all()) == before
