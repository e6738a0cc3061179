"""批量操作 on the residents list page, without JavaScript: tick residents, add or take off a
tag, or download the ticked ones; a refused batch lists every resident that stopped it."""

from __future__ import annotations

import re

from sqlmodel import Session

from shequyun.residents.models import Resident

from ..residents._data import id_number
from .test_residents_pages import form_fields, register


def ticked(list_html: str, *ids: int, **changes) -> dict:
    """The batch form as a browser sends it with the boxes of ``ids`` ticked."""
    data = form_fields(list_html, "/residents/batch")
    data.update(changes, id=[str(i) for i in ids])
    return data


def test_the_list_offers_boxes_and_a_batch_form(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    wang = register(shequyun_kernel, cadre)
    page = cadre.portal().get("/residents")
    assert re.search(rf'<input type="checkbox" name="id" value="{wang}" form="batch"', page.text), (
        "each row has a box belonging to the batch form"
    )
    assert '<form id="batch" method="post" action="/residents/batch"' in page.text
    assert "选择 王秀英" in page.text  # the box's name for a screen reader
    for option in ("加上标签", "去掉标签", "下载所选居民"):
        assert option in page.text


def test_ticked_residents_get_a_tag_and_the_list_says_so(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    wang = register(shequyun_kernel, cadre, tags=[])
    li = register(shequyun_kernel, cadre, name="李建国", id_number=id_number(serial="135"), tags=[])
    portal = cadre.portal()
    page = portal.get("/residents", params={"sort": "name"})
    done = portal.post(
        "/residents/batch",
        data=ticked(page.text, wang, li, action="add", tag="志愿者"),
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/residents?sort=name&notice=tagged&changed=2")
    shown = portal.get(done.headers["location"])
    assert "已为 2 位居民更新标签。" in shown.text
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang).version == 2
    again = portal.post(
        "/residents/batch", data=ticked(page.text, wang, action="add", tag="志愿者")
    )
    assert "另有 1 位原本就符合，未作改动。" in again.text


def test_a_refused_batch_lists_its_residents_and_offers_the_others(
    shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre("310115004001")
    wang = register(shequyun_kernel, cadre, tags=[])
    far = register(
        shequyun_kernel,
        shequyun_actors.cadre("310115004002"),
        name="孙三",
        id_number=id_number(serial="136"),
    )
    portal = cadre.portal()
    page = portal.get("/residents")
    refused = portal.post(
        "/residents/batch", data=ticked(page.text, wang, far, action="add", tag="党员")
    )
    assert refused.status_code == 422
    assert "有 1 位居民无法处理，未做任何修改" in refused.text
    assert "找不到该居民，或您无权修改" in refused.text and "孙三" not in refused.text
    assert "只为其余 1 位居民执行" in refused.text
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang).version == 1
    others = form_fields(refused.text, "/residents/batch")
    assert others["id"] == str(wang) and others["tag"] == "党员"
    done = portal.post("/residents/batch", data=others, follow_redirects=False)
    assert done.status_code == 303 and "changed=1" in done.headers["location"]

    nothing = portal.post("/residents/batch", data=ticked(page.text, action="add", tag="党员"))
    assert nothing.status_code == 422 and "请至少选择一位居民" in nothing.text


def test_ticked_residents_are_downloaded_as_a_selection(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    wang = register(shequyun_kernel, cadre)
    register(shequyun_kernel, cadre, name="李建国", id_number=id_number(serial="137"))
    portal = cadre.portal()
    page = portal.get("/residents")
    chosen = portal.post(
        "/residents/batch",
        data=ticked(page.text, wang, action="export"),
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"/residents/export?id={wang}"
    form = portal.get(chosen.headers["location"])
    assert "将下载 1 位居民。" in form.text and "在名单中勾选：1 人" in form.text
    downloaded = portal.post(
        chosen.headers["location"],
        data={"columns": ["name"], "format": "csv", "purpose": "重阳节慰问名单"},
    )
    assert downloaded.content.decode("utf-8-sig").splitlines() == ["姓名", "王秀英"]


def test_the_batch_needs_the_forms_token_and_the_right_permission(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    wang = register(shequyun_kernel, cadre)
    portal = cadre.portal()
    del portal.headers["X-CSRF-Token"]
    forged = portal.post("/residents/batch", data={"id": str(wang), "action": "add", "tag": "党员"})
    assert forged.status_code == 403
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang).version == 1
