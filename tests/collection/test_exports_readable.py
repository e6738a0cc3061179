"""Exports people can open: Beijing time, tables as labelled lines or as rows, XLSX as well as
CSV; and the not-submitted list names every unit with its street and district."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlmodel import Session, select

from shequyun.collection.export_cells import beijing_time, cell
from shequyun.collection.models import Task
from shequyun.identity.directory import create_unit
from shequyun.identity.models import OrgUnit

from ..portal.test_collection_pages import GOOD, publish, task_id_of

TWO_BUILDINGS = {
    **GOOD,
    "buildings[1].number": "15",
    "buildings[1].floors": "7",
}


def submitted(client, actors, kernel):
    bureau = actors.bureau()
    cadre = actors.cadre("310115004001")
    _form_id, campaign_id = publish(client, bureau)
    task_id = task_id_of(client, cadre)
    done = cadre.portal().post(
        f"/collection/tasks/{task_id}",
        data={**TWO_BUILDINGS, "action": "submit", "client_key": "export-key-001"},
    )
    assert done.status_code in (200, 303)
    with Session(kernel.engine) as session:
        task = session.get(Task, task_id)
    return bureau, campaign_id, task


def test_the_csv_says_beijing_time_and_reads_a_table_as_labelled_lines(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    bureau, campaign_id, task = submitted(shequyun_client, shequyun_actors, shequyun_kernel)
    text = shequyun_client.get(
        f"/api/v1/campaigns/{campaign_id}/export", headers=bureau.auth
    ).content.decode("utf-8-sig")
    assert "{'" not in text and "+00:00" not in text
    assert "1）楼号：12；层数：6\n2）楼号：15；层数：7" in text
    moment = task.submitted_at + timedelta(hours=8)
    assert moment.strftime("%Y-%m-%d %H:%M:%S") in text
    assert ",提交时间," in text  # the heading bureaus' sheets already read stays


def test_the_xlsx_export_can_give_one_line_per_table_row(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    bureau, campaign_id, _task = submitted(shequyun_client, shequyun_actors, shequyun_kernel)
    url = f"/api/v1/campaigns/{campaign_id}/export?format=xlsx&rows=buildings"
    data = shequyun_client.get(url, headers=bureau.auth).content
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[-3:] == ["意向楼栋·行号", "意向楼栋·楼号", "意向楼栋·层数"]
    assert [r[-3:] for r in rows[1:]] == [[1, "12", 6], [2, "15", 7]]
    assert rows[1][header.index("本居委户数")] == rows[2][header.index("本居委户数")] == 640
    refused = shequyun_client.get(
        f"/api/v1/campaigns/{campaign_id}/export?rows=households", headers=bureau.auth
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "rows"


def test_cells_read_as_people_write_them():
    assert cell([{"who": "王小明", "age": 9}], [("who", "姓名"), ("age", "年龄")]) == (
        "1）姓名：王小明；年龄：9"
    )
    assert cell(
        {"compound": "潍坊二村", "room": "101"}, [("compound", "小区"), ("room", "室号")]
    ) == ("小区：潍坊二村；室号：101")
    assert cell(["助餐", "助浴"]) == "助餐、助浴" and cell(True) == "是"
    assert cell("2026-12-01T01:30:00+00:00") == "2026-12-01 09:30:00"
    assert beijing_time(None) == ""


def test_the_not_submitted_list_shows_every_unit_with_its_street_and_district(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    with Session(shequyun_kernel.engine, expire_on_commit=False) as session:
        street = session.exec(select(OrgUnit).where(OrgUnit.code == "310115005000")).one()
        for number in range(2, 342):
            create_unit(
                session,
                code=f"3101150059{number:02d}" if number < 100 else f"310115005{number}",
                name="幸福居委会",
                level="committee",
                parent=street,
            )
        session.commit()
    bureau = shequyun_actors.bureau()
    _form_id, campaign_id = publish(shequyun_client, bureau, targets=("310115000000",))
    page = bureau.portal().get(f"/collection/campaigns/{campaign_id}").text
    assert "尚未提交（343）" in page
    listed = re.findall(r"<li><span class=\"muted\">浦东新区 › 陆家嘴街道 › </span>", page)
    assert len(listed) == 341  # 梅园一村 and the 340 幸福居委会, none left out
    reminded = bureau.portal().post(
        f"/collection/campaigns/{campaign_id}/remind", follow_redirects=False
    )
    assert "n=343" in reminded.headers["location"]
