"""The residents pages in-process: scope, bad input, conflicts, reveal, transfer, import, export."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from shequyun_sdk import ResidentAttribute, hookimpl
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry
from shequyun.residents import pages as residents_pages
from shequyun.residents.models import Resident, ResidentChange

from ..residents._data import id_number, resident


def actor_of(kernel, test_actor):
    """The platform's Actor for a test user (what a request of theirs would carry)."""
    from shequyun.identity.models import Grant, OrgUnit, User

    with Session(kernel.engine) as session:
        grant = session.get(Grant, test_actor.grant.id)
        user = session.get(User, test_actor.user.id)
        unit = session.get(OrgUnit, grant.unit_id)
        return kernel.authenticator.actor_for(user, grant, unit, "session")


def register(kernel, test_actor, **overrides) -> int:
    with Session(kernel.engine, expire_on_commit=False) as session:
        created = kernel.residents.create(
            session, actor_of(kernel, test_actor), resident(**overrides), source="portal"
        )
        session.commit()
        return created.id


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


class _Form(HTMLParser):
    """The fields a browser would send from the first form posting to ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.done, self.select = action, False, False, None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and a.get("action") == self.action:
            self.inside = True
        elif not self.inside or ("name" not in a and tag != "option"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind != "file":
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select":
            self.select = None


def form_fields(page_html: str, action: str, **changes) -> dict:
    """The form as the browser would send it, with ``changes`` applied (lists for repeats)."""
    parser = _Form(action)
    parser.feed(page_html)
    data: dict = {}
    for name, value in parser.fields:
        if name in data:
            data[name] = [*(data[name] if isinstance(data[name], list) else [data[name]]), value]
        else:
            data[name] = [value] if name == "tags" else value
    data.update(changes)
    return data


def edit_form(page_html: str, **changes) -> dict:
    resident_id = re.search(r'action="(/residents/\d+/edit)"', page_html)[1]
    return form_fields(page_html, resident_id, **changes)


def version_of(kernel, resident_id: int) -> int:
    with Session(kernel.engine) as session:
        return session.get(Resident, resident_id).version


@pytest.fixture
def cadre(shequyun_actors):
    return shequyun_actors.cadre("310115004001")


@pytest.fixture
def wang(shequyun_kernel, cadre) -> int:
    return register(shequyun_kernel, cadre)


def test_anonymous_visitors_are_sent_to_log_in(shequyun_client, wang):
    for path in (
        "/residents",
        f"/residents/{wang}",
        f"/residents/{wang}/edit",
        "/residents/import",
    ):
        response = shequyun_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/residents"), path


def test_a_cadre_of_another_committee_gets_404(shequyun_kernel, shequyun_actors, wang):
    other = shequyun_actors.cadre("310115004002").portal()
    for path in (f"/residents/{wang}", f"/residents/{wang}/edit", f"/residents/{wang}/transfer"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "找不到该居民" in response.text
    posted = other.post(f"/residents/{wang}/edit", data={"version": "1", "name": "改名"})
    assert posted.status_code == 404
    assert other.get("/residents/99999999999").status_code == 404
    listing = other.get("/residents")
    assert listing.status_code == 200 and "王秀英" not in listing.text
    assert version_of(shequyun_kernel, wang) == 1


def test_the_list_filters_masks_and_pages_with_a_cursor(shequyun_kernel, cadre, monkeypatch, wang):
    register(
        shequyun_kernel,
        cadre,
        name="李建国",
        id_number=id_number(born="19800101"),
        tags=["党员"],
        phone=None,
        address=None,
        household_number=None,
    )
    register(
        shequyun_kernel,
        cadre,
        name="张小明",
        id_number=id_number(born="20150601"),
        tags=[],
        registration="流动",
        address=None,
        household_number=None,
    )
    portal = cadre.portal()
    page = portal.get("/residents")
    assert page.status_code == 200
    assert "共 3 人" in page.text
    assert "310***********" + id_number()[-4:] in page.text and id_number() not in page.text
    assert "138****5678" in page.text
    assert "王秀英" in portal.get("/residents", params={"q": "秀"}).text
    assert "王秀英" not in portal.get("/residents", params={"q": "建国"}).text
    elderly = portal.get("/residents", params={"age_min": "60"}).text
    assert "王秀英" in elderly and "李建国" not in elderly and "张小明" not in elderly
    assert "共 1 人" in portal.get("/residents", params={"tag": "党员"}).text
    assert "张小明" in portal.get("/residents", params={"registration": "liudong"}).text
    assert "共 1 人" in portal.get("/residents", params={"compound": "潍坊一村"}).text

    monkeypatch.setattr(residents_pages, "PAGE_SIZE", 2)
    first = portal.get("/residents")
    assert "第 1–2 人" in first.text
    next_url = re.search(r'href="([^"]+)" rel="next">下一页', first.text)[1].replace("&amp;", "&")
    second = portal.get(next_url)
    assert "第 3–3 人" in second.text and "下一页" not in second.text
    assert 'href="/residents?page=1"' in second.text


def test_the_list_sorts_and_has_page_numbers(shequyun_kernel, cadre, monkeypatch):
    for name, born, serial in (("赵一", "19400101", "301"), ("钱二", "19900101", "302")):
        register(shequyun_kernel, cadre, name=name, id_number=id_number(born=born, serial=serial))
    register(
        shequyun_kernel, cadre, name="孙三", id_number=id_number(born="19700101", serial="303")
    )
    portal = cadre.portal()

    def names(page):
        return re.findall(r'<td class="name"><a href="/residents/\d+">([^<]+)</a>', page.text)

    assert names(portal.get("/residents", params={"sort": "age"})) == ["赵一", "孙三", "钱二"]
    assert names(portal.get("/residents", params={"sort": "-age"})) == ["钱二", "孙三", "赵一"]
    monkeypatch.setattr(residents_pages, "PAGE_SIZE", 2)
    first = portal.get("/residents", params={"sort": "age"})
    assert '<span aria-current="page">1</span>' in first.text and "共 2 页" in first.text
    second = portal.get("/residents", params={"sort": "age", "page": "2"})
    assert names(second) == ["钱二"] and "第 3–3 人" in second.text
    assert 'href="/residents?sort=age&amp;page=1"' in second.text
    assert portal.get("/residents", params={"sort": "colour"}).status_code == 422


def test_bad_filters_are_shown_next_to_their_field(cadre, wang):
    portal = cadre.portal()
    response = portal.get("/residents", params={"age_min": "abc"})
    assert response.status_code == 422
    assert 'id="f-age_min-error"' in response.text
    assert "age_min 应为 0 到 150 之间的整数" in response.text
    damaged = portal.get("/residents", params={"after": "!!"})
    assert damaged.status_code == 422 and "分页游标无效" in damaged.text


def test_an_edit_is_saved_and_appears_in_the_history(shequyun_kernel, cadre, wang):
    portal = cadre.portal()
    form = portal.get(f"/residents/{wang}/edit")
    assert form.status_code == 200
    saved = portal.post(
        f"/residents/{wang}/edit",
        data=edit_form(form.text, phone="13900001111", **{"address.room": "502"}),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/residents/{wang}?notice=saved"
    detail = portal.get(saved.headers["location"])
    assert "已保存修改" in detail.text
    assert "139****1111" in detail.text
    history = detail.text.split('id="history"')[1]
    assert "<del>138****5678</del> → <ins>139****1111</ins>" in history
    assert "潍坊一村12号楼3单元402室</del> → <ins>潍坊一村12号楼3单元502室" in history
    assert version_of(shequyun_kernel, wang) == 2


def test_bad_input_is_422_with_errors_next_to_fields_and_nothing_written(
    shequyun_kernel, cadre, wang
):
    portal = cadre.portal()
    form = portal.get(f"/residents/{wang}/edit")
    response = portal.post(
        f"/residents/{wang}/edit",
        data=edit_form(form.text, name="", phone="12", registration="外星"),
    )
    assert response.status_code == 422
    for name in ("name", "phone", "registration"):
        assert f'id="f-{name}-error"' in response.text, name
        assert re.search(rf'id="f-{name}"[^>]*aria-invalid="true"', response.text), name
    assert "请修改以下问题" in response.text
    with Session(shequyun_kernel.engine) as session:
        assert session.get(Resident, wang).version == 1
        changes = session.exec(select(ResidentChange).where(ResidentChange.resident_id == wang))
        assert [c.field for c in changes] == ["(created)"]


def test_a_stale_edit_shows_the_conflict_and_merges_both_changes(shequyun_kernel, cadre, wang):
    portal = cadre.portal()
    form = portal.get(f"/residents/{wang}/edit")
    # Meanwhile a colleague changes the record.
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.residents.update(
            session,
            actor_of(shequyun_kernel, cadre),
            wang,
            {"name": "王秀英（新）", "tags": ["独居老人", "重点关注"]},
            version=1,
            source="api",
        )
        session.commit()
    response = portal.post(
        f"/residents/{wang}/edit", data=edit_form(form.text, name="王秀珍", phone="13900002222")
    )
    assert response.status_code == 409
    assert "该记录已被他人修改" in response.text
    compare = response.text.split('class="data compare"')[1].split("</table>")[0]
    rows = {m[1]: m[0] for m in re.finditer(r'<th scope="row">(\S+)\s.*?</tr>', compare, re.S)}
    assert set(rows) == {"姓名", "电话", "标签"}
    assert (
        "双方都改了" in rows["姓名"] and "王秀珍" in rows["姓名"] and "王秀英（新）" in rows["姓名"]
    )
    assert "您改的" in rows["电话"] and "139****2222" in rows["电话"]
    assert "他人改的" in rows["标签"] and "独居老人、重点关注" in rows["标签"]
    merged = edit_form(response.text)
    assert merged["version"] == "2"
    assert merged["name"] == "王秀珍" and merged["phone"] == "13900002222"
    assert sorted(merged["tags"]) == ["独居老人", "重点关注"]
    # Saving the merge keeps both people's changes.
    again = portal.post(f"/residents/{wang}/edit", data=merged, follow_redirects=False)
    assert again.status_code == 303, again.text
    with Session(shequyun_kernel.engine, expire_on_commit=False) as session:
        view = shequyun_kernel.residents.view(session, session.get(Resident, wang))
    assert (view["name"], view["phone"], view["tags"]) == (
        "王秀珍",
        "139****2222",
        ["独居老人", "重点关注"],
    )


def test_registering_a_resident_and_refusing_a_duplicate(shequyun_kernel, cadre):
    portal = cadre.portal()
    page = portal.get("/residents/new")
    token = hidden(page.text, "csrf_token")
    bad = portal.post(
        "/residents/new",
        data={
            "csrf_token": token,
            "name": "",
            "id_number": "310115194503121230",
            "registration": "huji",
        },
    )
    assert bad.status_code == 422
    assert 'id="f-name-error"' in bad.text and 'id="f-id_number-error"' in bad.text
    assert "身份证号校验位不正确" in bad.text
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Resident)).first() is None
    good = {
        "csrf_token": token,
        "name": "陈美华",
        "id_number": id_number(born="19520708"),
        "registration": "huji",
        "tags": ["低保"],
        "address.compound": "潍坊一村",
        "address.building": "3",
    }
    created = portal.post("/residents/new", data=good, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = portal.get(created.headers["location"])
    assert "已登记该居民" in detail.text and "1952年7月8日" in detail.text
    assert "潍坊一村3号楼" in detail.text
    twice = portal.post("/residents/new", data={**good, "name": "陈美华2"})
    assert twice.status_code == 409
    assert "该身份证号已登记（潍坊一村居委会），请勿重复登记" in twice.text


def test_reveal_needs_a_reason_and_is_audited(shequyun_kernel, shequyun_actors, cadre, wang):
    portal = cadre.portal()
    detail = portal.get(f"/residents/{wang}")
    assert "查看完整信息" in detail.text and id_number() not in detail.text
    token = hidden(detail.text, "csrf_token")
    refused = portal.post(
        f"/residents/{wang}/reveal",
        data={"csrf_token": token, "fields": ["id_number"], "reason": ""},
    )
    assert refused.status_code == 422 and 'id="f-reason-error"' in refused.text
    shown = portal.post(
        f"/residents/{wang}/reveal",
        data={
            "csrf_token": token,
            "fields": ["id_number", "phone"],
            "reason": "核对高龄津贴",
        },
    )
    assert shown.status_code == 200
    assert id_number() in shown.text and "13812345678" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    with Session(shequyun_kernel.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "resident.revealed")
        ).all()
    assert len(entries) == 1
    assert entries[0].detail["reason"] == "核对高龄津贴"
    assert entries[0].target_id == str(wang) or entries[0].target_id == wang

    social = shequyun_actors.social_worker("310115004001").portal()
    page = social.get(f"/residents/{wang}")
    assert page.status_code == 200
    assert "查看完整信息" not in page.text and f"/residents/{wang}/edit" not in page.text
    assert social.get(f"/residents/{wang}/edit").status_code == 403
    denied = social.post(f"/residents/{wang}/reveal", data={"fields": ["phone"], "reason": "想看"})
    assert denied.status_code == 403


def test_a_transfer_moves_the_record_and_bad_input_writes_nothing(
    shequyun_kernel, shequyun_actors, cadre, wang
):
    portal = cadre.portal()
    page = portal.get(f"/residents/{wang}/transfer")
    token = hidden(page.text, "csrf_token")
    bad = portal.post(
        f"/residents/{wang}/transfer",
        data={
            "csrf_token": token,
            "version": "1",
            "to_unit_code": "310115004001",
            "effective_on": "2026-11-01",
            "reason": "",
        },
    )
    assert bad.status_code == 422 and "迁入单位与当前所属居委相同" in bad.text
    assert version_of(shequyun_kernel, wang) == 1
    moved = portal.post(
        f"/residents/{wang}/transfer",
        data={
            "csrf_token": token,
            "version": "1",
            "to_unit_code": "310115004002",
            "effective_on": "2026-11-01",
            "reason": "搬家",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/residents?notice=moved"
    assert portal.get(f"/residents/{wang}").status_code == 404
    receiving = shequyun_actors.cadre("310115004002").portal()
    assert "潍坊二村居委会" in receiving.get(f"/residents/{wang}").text


def test_a_record_removed_meanwhile_is_neither_edited_nor_transferred(shequyun_kernel, cadre, wang):
    portal = cadre.portal()
    edit = portal.get(f"/residents/{wang}/edit")
    transfer = portal.get(f"/residents/{wang}/transfer")
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.residents.remove(
            session,
            actor_of(shequyun_kernel, cadre),
            wang,
            version=1,
            reason="已去世",
            source="portal",
        )
        session.commit()
    edited = portal.post(f"/residents/{wang}/edit", data=edit_form(edit.text, name="王秀华"))
    assert edited.status_code == 409 and "该居民已注销" in edited.text
    moved = portal.post(
        f"/residents/{wang}/transfer",
        data={
            "csrf_token": hidden(transfer.text, "csrf_token"),
            "version": "1",
            "to_unit_code": "310115004002",
            "effective_on": "2026-11-01",
            "reason": "搬家",
        },
    )
    assert moved.status_code == 409 and "该居民已注销" in moved.text
    assert version_of(shequyun_kernel, wang) == 2
    detail = portal.get(f"/residents/{wang}")
    assert "王秀华" not in detail.text and f"/residents/{wang}/edit" not in detail.text
    # Neither page offers a form that could only be refused; each says why, and links back.
    for step in ("edit", "transfer"):
        page = portal.get(f"/residents/{wang}/{step}")
        assert page.status_code == 409, step
        assert "该居民已注销" in page.text and "已注销" in page.text
        assert (
            f'action="/residents/{wang}/{step}"' not in page.text
            and "<form" not in page.text.split("<main")[-1]
        )
        assert f'href="/residents/{wang}"' in page.text
    assert version_of(shequyun_kernel, wang) == 2


def test_the_forms_of_a_removed_record_are_not_offered_in_english_either(
    shequyun_kernel, cadre, wang
):
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.residents.remove(
            session, actor_of(shequyun_kernel, cadre), wang, version=1, reason="迁出本市",
            source="portal",
        )  # fmt: skip
        session.commit()
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    page = portal.get(f"/residents/{wang}/transfer")
    assert page.status_code == 409
    assert "This resident has been removed" in page.text and "can no longer be changed" in page.text


IMPORT_HEADER = "姓名,身份证号,户籍类型,联系电话,小区,楼栋,标签\n"


def test_the_import_wizard_reports_rows_then_imports_on_confirmation(shequyun_kernel, cadre):
    portal = cadre.portal()
    token = hidden(portal.get("/residents/import").text, "csrf_token")
    bad = (
        IMPORT_HEADER
        + f"赵一,{id_number(born='19500101')},户籍,12,潍坊一村,1,\n"
        + "钱二,310115,外星,,潍坊一村,2,\n"
    )
    report = portal.post(
        "/residents/import",
        data={"csrf_token": token},
        files={"file": ("名单.csv", bad.encode(), "text/csv")},
    )
    assert report.status_code == 200
    table = report.text.split('class="data report"')[1]
    assert re.search(r"<td[^>]*>2</td><td[^>]*>联系电话</td>", table)
    assert re.search(r"<td[^>]*>3</td><td[^>]*>身份证号</td>", table)
    assert "确认导入" not in report.text.split("</section>")[0].split("检查结果")[-1]
    problems = re.search(r'href="(/residents/import/[^"]+/problems.csv)"', report.text)[1]
    csv_text = portal.get(problems).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "行,列,问题" and "联系电话" in csv_text
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Resident)).first() is None

    good = IMPORT_HEADER + (
        f"赵一,{id_number(born='19500101')},户籍,13800001111,潍坊一村,1,"
        "独居老人\n"
        f"钱二,{id_number(born='19600202')},常住,,潍坊一村,2,\n"
    )
    checked = portal.post(
        "/residents/import",
        data={"csrf_token": token},
        files={"file": ("名单.csv", good.encode(), "text/csv")},
    )
    assert checked.status_code == 200 and "检查通过" in checked.text
    confirmed = portal.post(
        "/residents/import/confirm",
        data={
            "csrf_token": token,
            "token": hidden(checked.text, "token"),
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    done = portal.get(confirmed.headers["location"])
    assert "导入完成：新增 2 人，更新 0 人" in done.text
    assert "赵一" in portal.get("/residents").text
    again = portal.post(
        "/residents/import/confirm",
        data={
            "csrf_token": token,
            "token": hidden(checked.text, "token"),
        },
    )
    assert again.status_code == 422 and "已过期或已导入" in again.text


def test_the_problems_csv_never_hands_a_spreadsheet_the_files_own_formulas(cadre):
    import csv
    import io

    portal = cadre.portal()
    token = hidden(portal.get("/residents/import").text, "csrf_token")
    header = '姓名,身份证号,户籍类型,"=HYPERLINK(""http://evil.example"",""看"")"\n'
    report = portal.post(
        "/residents/import",
        data={"csrf_token": token},
        files={"file": ("名单.csv", (header + "赵一,310115,外星,x\n").encode(), "text/csv")},
    )
    problems = re.search(r'href="(/residents/import/[^"]+/problems.csv)"', report.text)[1]
    rows = list(csv.reader(io.StringIO(portal.get(problems).content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells), rows
    assert not any(cell.lstrip().startswith(("=", "+", "@")) for cell in cells), rows


def test_an_upload_that_is_not_a_table_is_refused_next_to_the_file_field(cadre):
    portal = cadre.portal()
    token = hidden(portal.get("/residents/import").text, "csrf_token")
    empty = portal.post(
        "/residents/import", data={"csrf_token": token}, files={"file": ("a.csv", b"", "text/csv")}
    )
    assert empty.status_code == 422 and 'id="f-file-error"' in empty.text
    only_header = portal.post(
        "/residents/import",
        data={"csrf_token": token},
        files={"file": ("a.csv", IMPORT_HEADER.encode(), "text/csv")},
    )
    assert only_header.status_code == 422 and "没有数据行" in only_header.text


def test_export_asks_for_a_purpose_then_downloads_and_audits(shequyun_kernel, cadre, wang):
    portal = cadre.portal()
    page = portal.get("/residents/export", params={"tag": "独居老人"})
    assert page.status_code == 200 and "将下载 1 位居民" in page.text
    token = hidden(page.text, "csrf_token")
    refused = portal.post(
        "/residents/export?tag=独居老人",
        data={
            "csrf_token": token,
            "columns": ["name"],
            "format": "csv",
            "purpose": "",
        },
    )
    assert refused.status_code == 422 and 'id="f-purpose-error"' in refused.text
    none_chosen = portal.post(
        "/residents/export",
        data={
            "csrf_token": token,
            "format": "csv",
            "purpose": "慰问名单",
        },
    )
    assert none_chosen.status_code == 422 and "请至少选择一列" in none_chosen.text
    downloaded = portal.post(
        "/residents/export?tag=独居老人",
        data={
            "csrf_token": token,
            "columns": ["name", "id_number", "tags"],
            "format": "csv",
            "purpose": "重阳节慰问名单",
        },
    )
    assert downloaded.status_code == 200
    assert "attachment" in downloaded.headers["content-disposition"]
    lines = downloaded.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "姓名,身份证号,标签"
    assert lines[1].startswith("王秀英,310***********")
    with Session(shequyun_kernel.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "resident.exported")
        ).one()
    assert entry.detail["purpose"] == "重阳节慰问名单" and entry.detail["rows"] == 1


def test_the_pages_speak_english_when_asked(cadre, wang):
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    listing = portal.get("/residents").text
    assert (
        "<h1>Residents</h1>" in listing and "1 residents" in listing and "More filters" in listing
    )
    detail = portal.get(f"/residents/{wang}").text
    assert "History" in detail and "Show full details" in detail and "Registered" in detail
    workbench = portal.get("/workbench").text
    assert "Recent changes in my unit" in workbench and "Age structure" in workbench


class TestPluginAttributes:
    class Eldercare:
        MANIFEST = {
            "name": "eldercare",
            "version": "0.1",
            "title": {"zh": "养老顾问", "en": "Eldercare"},
            "description": {"zh": "测试用", "en": "For tests"},
            "sdk": ">=0.1,<0.2",
        }

        @hookimpl
        def register_resident_attributes(self):
            return [
                ResidentAttribute("floor", "楼层", {"type": "integer", "minimum": 1}),
                ResidentAttribute("lift", "有无电梯", {"type": "boolean"}),
                ResidentAttribute("care", "照护等级", {"enum": ["一级", "二级", "三级"]}),
                ResidentAttribute("card", "银行卡号", {"type": "string"}, sensitive=True),
            ]

    @pytest.fixture
    def shequyun_plugins(self):
        return [self.Eldercare()]

    def test_attributes_are_typed_from_the_form_shown_and_kept_when_confidential(
        self, shequyun_kernel, cadre
    ):
        portal = cadre.portal()
        page = portal.get("/residents/new")
        for name in ("floor", "lift", "care", "card"):
            assert f'id="f-attributes-eldercare-{name}"' in page.text, name
        form = form_fields(
            page.text,
            "/residents/new",
            name="吴桂兰",
            id_number=id_number(born="19400506", serial="448"),
            **{"attributes.eldercare.floor": "六"},
        )
        bad = portal.post("/residents/new", data=form)
        assert bad.status_code == 422
        assert 'id="f-attributes-eldercare-floor-error"' in bad.text and "应为整数" in bad.text
        form.update(
            {
                "attributes.eldercare.floor": "6",
                "attributes.eldercare.lift": "false",
                "attributes.eldercare.care": "二级",
                "attributes.eldercare.card": "6222020200112233",
            }
        )
        created = portal.post("/residents/new", data=form, follow_redirects=False)
        assert created.status_code == 303, created.text
        detail = portal.get(created.headers["location"]).text
        facts = detail.split("<h3>扩展属性</h3>")[1].split("</dl>")[0]
        for title, shown in (
            ("楼层", "6"),
            ("有无电梯", "否"),
            ("照护等级", "二级"),
            ("银行卡号", "******"),
        ):
            assert re.search(rf"<dt>{title}</dt><dd>{re.escape(shown)}</dd>", facts), title
        assert "6222020200112233" not in detail
        resident_id = int(created.headers["location"].split("/")[2].split("?")[0])
        edit = portal.get(f"/residents/{resident_id}/edit").text
        assert "已填写（保密，不显示）；留空则不变。" in edit
        saved = portal.post(
            f"/residents/{resident_id}/edit",
            data=edit_form(edit, **{"attributes.eldercare.floor": "7"}),
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
        with Session(shequyun_kernel.engine) as session:
            extra = session.get(Resident, resident_id).extra
        assert extra == {
            "eldercare": {"floor": 7, "lift": False, "care": "二级", "card": "6222020200112233"}
        }


def test_the_list_filtered_by_a_street_counts_and_shows_its_committees(
    shequyun_kernel, shequyun_actors, cadre, wang
):
    li = register(
        shequyun_kernel, shequyun_actors.cadre("310115004002"), name="李建国",
        id_number=id_number(serial="456"), address=None, household_number=None,
    )  # fmt: skip
    from shequyun.residents import tally

    with Session(shequyun_kernel.engine) as session:
        assert tally.fresh(session)  # the street's count below comes from its tally
    portal = shequyun_actors.district_admin("310115000000").portal()
    page = portal.get("/residents", params={"unit": "310115004000"})
    assert page.status_code == 200
    assert "共 2 人" in page.text
    assert f'href="/residents/{wang}"' in page.text and f'href="/residents/{li}"' in page.text
    mine = cadre.portal().get("/residents", params={"unit": "310115004000"})
    assert "共 1 人" in mine.text and f'href="/residents/{li}"' not in mine.text
    bad = portal.get("/residents", params={"unit": "潍坊新村街道"})
    assert bad.status_code == 422 and "unit 应为 12 位单位编码" in bad.text
