"""The form builder without JavaScript: every step is a post of the whole builder, and saving
goes through the same checks as the JSON editor and the API."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from shequyun.collection.models import Form, FormVersion

from ..collection.test_form_sheets import LIVING, VISIT, workbook


def inputs(html: str) -> dict[str, list[str]]:
    """The builder's state as the browser would post it (text inputs, selects, checked boxes)."""
    found: dict[str, list[str]] = {}
    form = html[
        html.index('id="builder-form"') : html.index("</form>", html.index('id="builder-form"'))
    ]
    for tag in re.finditer(r"<input [^>]*>", form):
        text = tag[0]
        name = re.search(r'name="([^"]+)"', text)
        if not name or ('type="checkbox"' in text and " checked" not in text):
            continue
        value = re.search(r'value="([^"]*)"', text)
        found.setdefault(name[1], []).append(value[1] if value else "")
    for chooser in re.finditer(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', chooser[2]) or re.search(
            r'<option value="([^"]*)"', chooser[2]
        )
        found[chooser[1]] = [chosen[1]]
    for area in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        found[area[1]] = [area[2].lstrip("\n")]
    found.pop("op", None)
    return found


def step(portal, url: str, state: dict[str, list[str]], op: str, **changes):
    data = {**state, **{k: v if isinstance(v, list) else [v] for k, v in changes.items()}}
    data["op"] = [op]
    response = portal.post(url, data=data, follow_redirects=False)
    return response


def test_a_clerk_builds_a_form_step_by_step_and_saves_it(shequyun_actors, shequyun_kernel):
    portal = shequyun_actors.bureau().portal()
    url = "/collection/forms/new"
    page = portal.get(url)
    assert page.status_code == 200 and "第 1 题" in page.text and "预览" in page.text
    state = inputs(page.text)
    page = step(
        portal,
        url,
        state,
        "add",
        **{"title": "独居老人走访", "q-1-label": "居住情况", "q-1-kind": "single_choice"},
    )
    assert page.status_code == 200 and "第 2 题" in page.text
    state = inputs(page.text)
    assert state["q-1-kind"] == ["single_choice"] and "q-1-choices" in state
    page = step(
        portal, url, state, "refresh", **{"q-1-choices": "独居\n与子女同住", "add_kind": "phone"}
    )
    page = step(portal, url, inputs(page.text), "add", add_kind="table")
    state = inputs(page.text)
    assert "q-3-1-kind" in state  # a table starts with one column
    page = step(
        portal,
        url,
        state,
        "save",
        **{
            "q-2-label": "紧急联系人电话",
            "q-2-show_field": "q1",
            "q-2-show_values": "独居",
            "q-3-label": "同住家庭成员",
            "q-3-1-label": "姓名",
        },
    )
    assert page.status_code == 303, page.text
    with Session(shequyun_kernel.engine) as session:
        (version,) = session.exec(select(FormVersion)).all()
    assert version.schema_["properties"]["q1"]["enum"] == ["独居", "与子女同住"]
    assert version.ui["fields"]["q2"]["visible_if"] == {"field": "q1", "equals": "独居"}
    assert version.schema_["properties"]["q3"]["items"]["properties"]["q1"]["type"] == "string"
    shown = portal.get(page.headers["location"])
    assert "编辑题目" in shown.text and "下载 Excel 表单" in shown.text


def test_mistakes_are_named_by_question_and_nothing_is_stored(shequyun_actors, shequyun_kernel):
    portal = shequyun_actors.bureau().portal()
    url = "/collection/forms/new"
    state = inputs(portal.get(url).text)
    page = step(portal, url, state, "add", add_kind="integer", title="摸底")
    state = inputs(page.text)
    page = step(
        portal,
        url,
        state,
        "save",
        **{"q-1-label": "", "q-2-label": "年龄", "q-2-min": "120", "q-2-max": "六十"},
    )
    assert page.status_code == 422
    assert "第 1 题：请填写题目" in page.text and "第 2 题「年龄」：六十 不是数字" in page.text
    assert 'value="六十"' in page.text  # what was typed stays to be corrected
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Form)).all() == []


def test_moving_and_removing_questions(shequyun_actors):
    portal = shequyun_actors.bureau().portal()
    url = "/collection/forms/new"
    state = inputs(portal.get(url).text)
    state = inputs(step(portal, url, state, "add", **{"q-1-label": "甲", "add_kind": "date"}).text)
    state = inputs(step(portal, url, state, "up:2", **{"q-2-label": "乙"}).text)
    assert (state["q-1-label"], state["q-2-label"]) == (["乙"], ["甲"])
    state = inputs(step(portal, url, state, "remove:1").text)
    assert state["q-1-label"] == ["甲"] and "q-2-kind" not in state


def test_an_existing_form_opens_in_the_builder_and_saves_a_new_version(
    shequyun_actors, shequyun_client, shequyun_kernel
):
    from .test_collection_pages import ELEVATOR

    bureau = shequyun_actors.bureau()
    created = shequyun_client.post(
        "/api/v1/forms", headers=bureau.auth, json={"title": "电梯", **ELEVATOR}
    )
    form_id = created.json()["id"]
    portal = bureau.portal()
    url = f"/collection/forms/{form_id}/edit"
    page = portal.get(url)
    assert page.status_code == 200 and 'value="本居委户数"' in page.text
    saved = step(portal, url, inputs(page.text), "save", **{"q-1-label": "本居委常住户数"})
    assert saved.status_code == 303
    with Session(shequyun_kernel.engine) as session:
        versions = session.exec(select(FormVersion).where(FormVersion.form_id == form_id)).all()
    assert versions[-1].ui["fields"]["households"]["label"] == "本居委常住户数"
    assert versions[-1].schema_ == ELEVATOR["schema"]


def test_an_xlsx_form_with_bad_rows_lists_them_all_and_stores_nothing(
    shequyun_actors, shequyun_kernel
):
    portal = shequyun_actors.bureau().portal()
    bad = [
        ["integer", "age", "年龄", None, "yes", None, 120, 60],
        ["select_one nowhere", "living", "居住情况"],
        ["text", "name", "姓名", None, "maybe"],
    ]
    page = portal.post(
        "/collection/forms/import",
        data={"title": "走访"},
        files={"file": ("form.xlsx", workbook(bad, LIVING), "application/octet-stream")},
    )
    assert page.status_code == 422
    assert "文件中有 3 处问题" in page.text
    for row in ("2", "3", "4"):
        assert re.search(rf'data-label="行">{row}</td>', page.text), row
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Form)).all() == []


def test_an_uploaded_form_downloads_and_uploads_again_to_the_same_schema(
    shequyun_actors, shequyun_kernel
):
    portal = shequyun_actors.bureau().portal()
    page = portal.post(
        "/collection/forms/import",
        data={"title": "走访"},
        files={"file": ("form.xlsx", workbook(VISIT, LIVING), "application/octet-stream")},
        follow_redirects=False,
    )
    assert page.status_code == 303, page.text
    form_id = int(re.search(r"/collection/forms/(\d+)", page.headers["location"])[1])
    download = portal.get(f"/collection/forms/{form_id}/versions/1/form.xlsx")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    again = portal.post(
        "/collection/forms/import",
        data={"title": "走访（再次上传）"},
        files={"file": ("back.xlsx", download.content, "application/octet-stream")},
        follow_redirects=False,
    )
    assert again.status_code == 303
    with Session(shequyun_kernel.engine) as session:
        first, second = session.exec(select(FormVersion).order_by(FormVersion.form_id)).all()
    assert (first.schema_, first.ui) == (second.schema_, second.ui)


def test_the_template_workbook_uploads_as_it_is(shequyun_actors):
    portal = shequyun_actors.bureau().portal()
    template = portal.get("/collection/forms/template.xlsx")
    assert template.status_code == 200
    page = portal.post(
        "/collection/forms/import",
        files={"file": ("t.xlsx", template.content, "application/octet-stream")},
        follow_redirects=False,
    )
    assert page.status_code == 303


def test_a_file_that_is_not_a_workbook_is_refused(shequyun_actors):
    portal = shequyun_actors.bureau().portal()
    page = portal.post(
        "/collection/forms/import",
        data={"title": "x"},
        files={"file": ("a.csv", b"type,name\n", "text/csv")},
    )
    assert page.status_code == 422 and ".xlsx" in page.text


def test_the_builder_reads_in_english_too(shequyun_actors):
    portal = shequyun_actors.bureau().portal()
    portal.cookies.set("shequyun_lang", "en")
    page = portal.get("/collection/forms/new")
    assert "Add a question" in page.text and "Short text" in page.text and "Preview" in page.text
    assert "Import a form from Excel" in portal.get("/collection/forms/import").text


def test_a_bureau_system_uploads_and_downloads_excel_forms_over_the_api(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    bureau = shequyun_actors.bureau()

    def upload(title, data):
        return shequyun_client.post(
            f"/api/v1/forms/xlsx?title={title}",
            headers=bureau.auth,
            files={"file": ("form.xlsx", data, "application/octet-stream")},
        )

    bad = [["integer", "age", "年龄", None, "maybe"], ["select_one nowhere", "living", "居住"]]
    refused = upload("走访", workbook(bad, LIVING))
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert [(d["sheet"], d["row"], d["column"]) for d in details] == [
        ("survey", 2, "required"),
        ("survey", 3, "type"),
    ]
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Form)).all() == []
    created = upload("走访", workbook(VISIT, LIVING))
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    download = shequyun_client.get(f"/api/v1/forms/{form_id}/versions/1/xlsx", headers=bureau.auth)
    assert download.status_code == 200 and download.content.startswith(b"PK")
    again = upload("走访二", download.content)
    first = shequyun_client.get(f"/api/v1/forms/{form_id}/versions/1", headers=bureau.auth)
    second = shequyun_client.get(
        f"/api/v1/forms/{again.json()['id']}/versions/1", headers=bureau.auth
    )
    assert first.json()["schema"] == second.json()["schema"]
