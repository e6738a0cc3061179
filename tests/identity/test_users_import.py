"""Bulk user import (POST /api/v1/users/import): every bad row reported, nothing written until
the whole file is good, CSV in UTF-8 or GBK and XLSX, first passwords returned once."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry, Grant, User
from shequyun.identity.user_import import MAX_IMPORT_ROWS

CITY, PUDONG = "310000000000", "310115000000"
WEIFANG, LUJIAZUI = "310115004000", "310115005000"
WEIFANG_1, WEIFANG_2, MEIYUAN = "310115004001", "310115004002", "310115005001"

HEADER = "username,display_name,phone,home_unit_code,role,unit_code"
CLEAN = f"""{HEADER}
wangfang,王芳,13800000001,{WEIFANG_1},identity.cadre,
lijun,李军,,{WEIFANG_2},居村干部,{WEIFANG_2}
zhaomin,赵敏,021-58881234,{WEIFANG},社工,{WEIFANG_1}
chenxi,陈曦,,{WEIFANG},,
"""


class Hr:
    MANIFEST = {
        "name": "hr",
        "version": "0.1",
        "title": {"zh": "人事"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "permissions": [{"name": "hr.files", "title": {"zh": "查阅人事档案"}}],
        "roles": [
            {
                "name": "hr.clerk",
                "title": {"zh": "人事专员"},
                "permissions": ["hr.files"],
                "levels": ["street", "committee"],
            }
        ],
    }


def upload(client, content, *, dry_run=True, filename="users.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        "/api/v1/users/import",
        params={"dry_run": "true" if dry_run else "false"},
        files={"file": (filename, data, "application/octet-stream")},
    )


def snapshot(kernel):
    with Session(kernel.engine) as session:
        return tuple(len(session.exec(select(m)).all()) for m in (User, Grant, AuditEntry))


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_clean_file_is_checked_then_applied(shequyun_actors, shequyun_kernel, shequyun_client):
    admin = shequyun_actors.street_admin(WEIFANG)
    client = admin.client()
    before = snapshot(shequyun_kernel)
    checked = upload(client, CLEAN)
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert (report["dry_run"], report["valid"], report["applied"]) == (True, True, False)
    assert (report["rows"], len(report["users"]), report["grants"]) == (4, 4, 3)
    assert all("password" not in u and "id" not in u for u in report["users"])
    assert snapshot(shequyun_kernel) == before

    applied = upload(client, CLEAN, dry_run=False)
    assert applied.status_code == 201, applied.text
    result = applied.json()
    assert result["applied"] is True
    passwords = {u["username"]: u["password"] for u in result["users"]}
    assert set(passwords) == {"wangfang", "lijun", "zhaomin", "chenxi"}
    with Session(shequyun_kernel.engine) as session:
        users = {u.username: u for u in session.exec(select(User))}
        grants = {
            (users_by_id.username, g.role, g.unit_id)
            for g in session.exec(select(Grant))
            for users_by_id in [session.get(User, g.user_id)]
        }
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert all(users[name].must_change_password for name in passwords)
    assert users["zhaomin"].phone == "021-58881234"
    units = shequyun_actors.units
    assert ("lijun", "identity.cadre", units[WEIFANG_2].id) in grants
    assert ("zhaomin", "identity.social_worker", units[WEIFANG_1].id) in grants
    assert not any(name == "chenxi" for name, _, _ in grants)
    assert actions.count("user.created") == 4 and actions.count("users.imported") == 1
    # The first password logs in once and must be changed.
    page = shequyun_client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    login = shequyun_client.post(
        "/login",
        data={"username": "lijun", "password": passwords["lijun"], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert login.headers["location"] == "/account/password"


BAD = f"""用户名,姓名,手机,所属单位编码,角色,授权单位编码
good,好人,,{WEIFANG_1},居村干部,
1bad,坏用户名,,{WEIFANG_1},,
dupe,甲,,{WEIFANG_1},,
dupe,乙,,{WEIFANG_1},,
taken,已存在,,{WEIFANG_1},,
nounit,无单位,,319999999999,,
outside,外街道,,{MEIYUAN},,
norole,无角色,,{WEIFANG_1},居委书记,
badlevel,层级不对,,{WEIFANG_1},identity.cadre,{WEIFANG}
escalate,越权,,{WEIFANG},人事专员,{WEIFANG}
badphone,电话错,12345,{WEIFANG_1},,
,无用户名,,{WEIFANG_1},,
noname,,,{WEIFANG_1},,
unitonly,只填单位,,{WEIFANG_1},,{WEIFANG_1}
grantout,授权越界,,{WEIFANG_1},社工,{MEIYUAN}
"""


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_a_dry_run_lists_every_bad_row_and_writes_nothing(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    shequyun_actors.make("identity.cadre", WEIFANG_1, username="taken")
    before = snapshot(shequyun_kernel)
    response = upload(admin.client(), BAD)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["valid"] is False and report["rows"] == 15
    found = {(e["row"], e["field"]) for e in report["errors"]}
    assert found == {
        (3, "username"),  # 1bad
        (5, "username"),  # duplicate of row 4
        (6, "username"),  # exists
        (7, "home_unit_code"),  # unknown unit
        (8, "home_unit_code"),  # another street
        (9, "role"),  # unknown role
        (10, "unit_code"),  # cadre at a street
        (11, "role"),  # escalation
        (12, "phone"),
        (13, "username"),  # empty
        (14, "display_name"),
        (15, "role"),  # unit without role
        (16, "unit_code"),  # grant outside the subtree
    }
    messages = {e["row"]: e["message"] for e in report["errors"]}
    assert "第 4 行" in messages[5]
    assert "已存在" in messages[6]
    assert "找不到" in messages[7]
    assert "管辖范围" in messages[8]
    assert "居委书记" in messages[9]
    assert "人事专员" in messages[11]
    assert [u["username"] for u in report["users"]] == ["good", "dupe"]
    assert snapshot(shequyun_kernel) == before


def test_applying_a_file_with_bad_rows_is_refused_whole(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    before = snapshot(shequyun_kernel)
    content = CLEAN + f"bad user,坏,,{WEIFANG_1},,\n"
    response = upload(admin.client(), content, dry_run=False)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "file"
    assert error["details"] == [
        {"row": 6, "field": "username", "message": error["details"][0]["message"]}
    ]
    assert snapshot(shequyun_kernel) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_encodings_are_read(shequyun_actors, encoding):
    admin = shequyun_actors.street_admin(WEIFANG)
    content = f"用户名,姓名,所属单位编码,角色\r\nzhoujie,周杰,{WEIFANG_1},居村干部\r\n"
    report = upload(admin.client(), content.encode(encoding)).json()
    assert report["valid"] is True, report
    assert report["users"][0]["display_name"] == "周杰"
    assert report["users"][0]["role"] == "identity.cadre"


def test_xlsx_files_are_read_with_numbers_as_codes(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    data = xlsx(
        [
            ["用户名", "姓名", "手机", "所属单位编码", "角色"],
            ["sunli", "孙丽", 13900000002, int(WEIFANG_1), "居村干部"],
            [None, None, None, None, None],
            ["bad name", "坏", None, float(WEIFANG_1), None],
        ]
    )
    report = upload(admin.client(), data, filename="名单.xlsx").json()
    assert report["errors"] == [
        {"row": 4, "field": "username", "message": report["errors"][0]["message"]}
    ]
    good = xlsx([["username", "display_name", "home_unit_code"], ["sunli", "孙丽", WEIFANG_1]])
    applied = upload(admin.client(), good, dry_run=False, filename="名单.xlsx")
    assert applied.status_code == 201, applied.text
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(User).where(User.username == "sunli")).one()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "空"),
        (b"  \n\n", "空"),
        (f"{HEADER}\n".encode(), "没有数据行"),
        (b"\xd0\xcf\x11\xe0 old excel", ".xls"),
        (b"PK\x03\x04 not really a zip", "XLSX"),
        (b"\xff\xfe\x00u\x00s\x00e\x00r", "编码"),
    ],
)
def test_unreadable_files_are_refused(shequyun_actors, content, message):
    response = upload(shequyun_actors.street_admin(WEIFANG).client(), content)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    assert message in response.json()["error"]["message"]


def test_header_problems_are_reported_on_row_one(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    report = upload(admin.client(), f"用户名,姓名,部门\nabc,甲,{WEIFANG_1}\n").json()
    assert report["valid"] is False
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (1, "部门"),
        (1, "home_unit_code"),
    }


def test_files_are_bounded(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    rows = "".join(f"user{i:05d},某人,,{WEIFANG_1},,\n" for i in range(MAX_IMPORT_ROWS + 1))
    response = upload(admin.client(), f"{HEADER}\n{rows}")
    assert response.status_code == 422
    assert str(MAX_IMPORT_ROWS) in response.json()["error"]["message"]


def test_the_upload_itself_is_checked(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    client = admin.client()
    missing = client.post("/api/v1/users/import", data={"other": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"
    bad_flag = client.post(
        "/api/v1/users/import",
        params={"dry_run": "perhaps"},
        files={"file": ("u.csv", CLEAN.encode(), "text/csv")},
    )
    assert bad_flag.status_code == 422 and bad_flag.json()["error"]["field"] == "dry_run"


def test_only_user_managers_may_import(shequyun_actors, shequyun_kernel):
    before = snapshot(shequyun_kernel)
    for actor in (shequyun_actors.cadre(WEIFANG_1), shequyun_actors.bureau(CITY)):
        assert upload(actor.client(), CLEAN, dry_run=False).status_code == 403
    after = snapshot(shequyun_kernel)
    assert after[:2] == (before[0] + 2, before[1] + 2)  # just the two actors made here


def test_a_district_admin_imports_across_their_streets(shequyun_actors):
    admin = shequyun_actors.district_admin(PUDONG)
    content = f"""{HEADER}
jiejie,街街,,{LUJIAZUI},identity.street_admin,
meimei,梅梅,,{MEIYUAN},identity.cadre,
"""
    response = upload(admin.client(), content, dry_run=False)
    assert response.status_code == 201, response.text
    assert [u["unit_code"] for u in response.json()["users"]] == [LUJIAZUI, MEIYUAN]
