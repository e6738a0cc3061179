"""Downloading residents: CSV with a BOM, XLSX, chosen columns, scope, purpose, reveal, audit."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest
from shequyun_sdk import ResidentAttribute
from sqlmodel import Session, col, select

from shequyun.identity.models import AuditEntry
from shequyun.residents.importing import apply_import

from ._data import Eldercare, id_number, resident

W1, W2, XUHUI = "310115004001", "310115004002", "310104003001"
PURPOSE = {"purpose": "重阳节走访慰问名单"}


@pytest.fixture
def shequyun_plugins():
    return [
        Eldercare(
            ResidentAttribute("care_level", "照护等级", {"type": "integer", "minimum": 0}),
            ResidentAttribute("guardian_phone", "监护人电话", {"type": "string"}, sensitive=True),
        )
    ]


def register(client, actor, **overrides):
    response = client.post("/api/v1/residents", json=resident(**overrides), headers=actor.auth)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def people(shequyun_client, shequyun_actors):
    """One resident in each of 潍坊一村, 潍坊二村 and 宛平南路 (Xuhui)."""
    register(
        shequyun_client,
        shequyun_actors.cadre(W1),
        attributes={"eldercare.care_level": 3, "eldercare.guardian_phone": "13700001111"},
    )
    register(
        shequyun_client,
        shequyun_actors.cadre(W2),
        name="李建国",
        id_number=id_number(born="19600101", serial="131"),
        phone=None,
        address={"compound": "潍坊二村", "building": "3", "entrance": "", "room": "101"},
        household_number=None,
        tags=[],
    )
    register(
        shequyun_client,
        shequyun_actors.cadre(XUHUI),
        name='=HYPERLINK("http://x")',
        id_number=id_number(region="310104", serial="222"),
        address=None,
        household_number=None,
    )


def export(client, actor, **params):
    return client.get("/api/v1/residents/export", params={**PURPOSE, **params}, headers=actor.auth)


def read_csv(response):
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def audits(kernel, action="resident.exported"):
    with Session(kernel.engine) as session:
        return session.exec(
            select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id))
        ).all()


def test_csv_has_a_bom_chinese_headers_and_masked_numbers(
    shequyun_client, shequyun_actors, shequyun_kernel, people
):
    cadre = shequyun_actors.cadre(W1)
    response = export(shequyun_client, cadre)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-row-count"] == "1"
    rows = read_csv(response)
    assert rows[0] == [
        "姓名",
        "性别",
        "出生日期",
        "年龄",
        "身份证号",
        "电话",
        "户籍类型",
        "所属居委",
        "所属居委编码",
        "小区",
        "楼栋",
        "单元",
        "室",
        "户号",
        "标签",
        "照护等级",
        "监护人电话",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["姓名"] == "王秀英" and row["性别"] == "女" and row["出生日期"] == "1945-03-12"
    assert row["身份证号"] == "310***********" + id_number()[-4:]
    assert row["电话"] == "138****5678"
    assert row["所属居委"] == "潍坊一村居委会" and row["户籍类型"] == "户籍"
    assert (row["小区"], row["楼栋"], row["单元"], row["室"]) == ("潍坊一村", "12", "3", "402")
    assert row["标签"] == "独居老人" and row["户号"] == "W-0402"
    assert row["照护等级"] == "3" and row["监护人电话"] == "******"

    [entry] = audits(shequyun_kernel)
    assert entry.actor_username == cadre.username
    assert entry.detail["purpose"] == PURPOSE["purpose"]
    assert entry.detail["rows"] == 1 and entry.detail["format"] == "csv"
    assert entry.detail["include_sensitive"] is False and entry.detail["revealed"] == []
    assert entry.detail["columns"][:3] == ["name", "gender", "birth_date"]


def test_chosen_columns_by_key_or_header_and_a_filter(
    shequyun_client, shequyun_actors, shequyun_kernel, people
):
    street = shequyun_actors.street_admin("310115004000")
    response = export(
        shequyun_client, street, columns="name,所属居委,tags,eldercare.care_level", tag="独居老人"
    )
    assert read_csv(response) == [
        ["姓名", "所属居委", "标签", "照护等级"],
        ["王秀英", "潍坊一村居委会", "独居老人", "3"],
    ]
    entry = audits(shequyun_kernel)[-1]
    assert entry.detail["columns"] == ["name", "unit", "tags", "eldercare.care_level"]
    assert entry.detail["filters"] == {"tags": ["独居老人"]}


def test_scope_a_cadre_gets_their_committee_a_street_its_subtree(
    shequyun_client, shequyun_actors, people
):
    def names(actor):
        rows = read_csv(export(shequyun_client, actor, columns="name,unit_code"))
        return sorted(r[1] for r in rows[1:])

    assert names(shequyun_actors.cadre(W2)) == [W2]
    assert names(shequyun_actors.street_admin("310115004000")) == [W1, W2]
    assert names(shequyun_actors.district_admin("310115000000")) == [W1, W2]
    assert names(shequyun_actors.district_admin("310104000000")) == [XUHUI]
    # Naming a committee outside one's scope gives nothing, not its residents.
    assert read_csv(export(shequyun_client, shequyun_actors.cadre(W2), unit=W1))[1:] == []


def test_a_street_or_district_filter_exports_what_the_list_shows(
    shequyun_client, shequyun_actors, people
):
    """``unit=`` names a subtree, in the export as in the list: a district admin narrowing to
    a street gets its committees; a cadre naming their own street gets their committee."""

    def exported(actor, unit):
        rows = read_csv(export(shequyun_client, actor, unit=unit, columns="name,unit_code"))
        return sorted(r[1] for r in rows[1:])

    def listed(actor, unit):
        page = shequyun_client.get("/api/v1/residents", params={"unit": unit}, headers=actor.auth)
        return sorted(r["unit"]["code"] for r in page.json()["items"])

    district = shequyun_actors.district_admin("310115000000")
    cadre = shequyun_actors.cadre(W2)
    for actor, unit, expected in (
        (district, "310115004000", [W1, W2]),  # a street of the district
        (district, "310115000000", [W1, W2]),  # the district itself
        (cadre, "310115004000", [W2]),  # the cadre's own street: their committee only
        (district, "310104003000", []),  # a street of another district: nobody
    ):
        assert exported(actor, unit) == expected == listed(actor, unit), (actor, unit)
    worker = shequyun_actors.social_worker(W1)
    assert export(shequyun_client, worker).status_code == 403


def test_xlsx_opens_and_is_named_in_chinese(shequyun_client, shequyun_actors, people):
    from openpyxl import load_workbook

    street = shequyun_actors.street_admin("310115004000")
    response = export(shequyun_client, street, format="xlsx", columns="name,phone,age,小区")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="residents_310115004000_')
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded).startswith("居民信息_潍坊新村街道_") and encoded.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["姓名", "电话", "年龄", "小区"]
    assert sorted(r[0] for r in rows[1:]) == ["李建国", "王秀英"]
    li = next(r for r in rows if r[0] == "李建国")
    assert li[1] is None and li[3] == "潍坊二村"  # no phone: an empty cell
    assert all(isinstance(r[2], int) for r in rows[1:])


def test_text_that_looks_like_a_formula_stays_text(shequyun_client, shequyun_actors, people):
    from openpyxl import load_workbook

    cadre = shequyun_actors.cadre(XUHUI)
    rows = read_csv(export(shequyun_client, cadre, columns="name"))
    assert rows[1] == ['\'=HYPERLINK("http://x")']
    response = export(shequyun_client, cadre, columns="name", format="xlsx")
    cell = load_workbook(io.BytesIO(response.content)).worksheets[0]["A2"]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


def test_purpose_columns_and_format_are_checked(shequyun_client, shequyun_actors, people):
    cadre = shequyun_actors.cadre(W1)
    for params, field in [
        ({"purpose": ""}, "purpose"),
        ({"purpose": "走"}, "purpose"),
        ({"purpose": "长" * 201}, "purpose"),
        ({"columns": "name,shoe_size"}, "columns"),
        ({"format": "pdf"}, "format"),
        ({"include_sensitive": "perhaps"}, "include_sensitive"),
        ({"age_min": "old"}, "age_min"),
    ]:
        response = shequyun_client.get(
            "/api/v1/residents/export", params={**PURPOSE, **params}, headers=cadre.auth
        )
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] == field
    missing = shequyun_client.get("/api/v1/residents/export", headers=cadre.auth)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "purpose"
    assert (
        "shoe_size"
        in export(shequyun_client, cadre, columns="shoe_size").json()["error"]["message"]
    )


def test_full_numbers_need_the_reveal_permission_and_are_audited(
    shequyun_client, shequyun_actors, shequyun_kernel, people
):
    street = shequyun_actors.street_admin("310115004000")  # export, but no reveal
    refused = export(shequyun_client, street, include_sensitive="true")
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "include_sensitive"
    denial = audits(shequyun_kernel, "access.denied")[-1]
    assert denial.detail["permission"] == "residents.reveal"
    assert audits(shequyun_kernel) == []

    cadre = shequyun_actors.cadre(W1)
    response = export(
        shequyun_client,
        cadre,
        include_sensitive="true",
        columns="name,id_number,phone,eldercare.guardian_phone",
    )
    assert read_csv(response)[1] == ["王秀英", id_number(), "13812345678", "13700001111"]
    entry = audits(shequyun_kernel)[-1]
    assert entry.detail["include_sensitive"] is True
    assert entry.detail["revealed"] == ["id_number", "phone", "eldercare.guardian_phone"]
    masked = read_csv(export(shequyun_client, cadre, columns="name,id_number"))
    assert masked[1][1] != id_number() and "*" in masked[1][1]


def test_a_filter_by_id_number_is_audited_masked(
    shequyun_client, shequyun_actors, shequyun_kernel, people
):
    cadre = shequyun_actors.cadre(W1)
    rows = read_csv(export(shequyun_client, cadre, id_number=id_number(), columns="name"))
    assert rows[1:] == [["王秀英"]]
    filters = audits(shequyun_kernel)[-1].detail["filters"]
    assert filters == {"id_number": "310***********" + id_number()[-4:]}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_thousands_of_rows_stream_in_batches(
    shequyun_client, shequyun_actors, shequyun_kernel, file_format
):
    from openpyxl import load_workbook

    test_cadre = shequyun_actors.cadre(W1)
    cadre = shequyun_kernel.authenticator.actor_for(
        test_cadre.user, test_cadre.grant, test_cadre.unit, "test"
    )
    lines = ["姓名,身份证号,户籍类型,小区,室"] + [
        f"居民{i},{id_number(born=f'{1930 + i // 300}{i % 12 + 1:02d}{i % 28 + 1:02d}', serial=f'{i % 1000:03d}')},户籍,潍坊一村,{i}"
        for i in range(2345)
    ]
    report = apply_import(shequyun_kernel, cadre, "\n".join(lines).encode(), "big.csv")
    assert report.applied, report.errors[:3]
    response = export(shequyun_client, test_cadre, format=file_format, columns="name,室")
    if file_format == "csv":
        rows = read_csv(response)
    else:
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) == 2346
    assert sorted(int(r[1]) for r in rows[1:]) == list(range(2345))
