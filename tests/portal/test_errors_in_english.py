"""What goes wrong reads in the visitor's language: a form's field errors and the error page
are English for a visitor who chose English and Chinese for everyone else, while the API keeps
answering in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

import shequyun.residents.idnumber
import shequyun.residents.validation
from shequyun.i18n import translations
from shequyun.residents.models import Resident

from ..residents._data import id_number, resident

BAD_CHECK_DIGIT = "310115194503121230"


@pytest.fixture
def cadre(shequyun_actors):
    return shequyun_actors.cadre("310115004001")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', html)[1]


def register_badly(portal) -> str:
    """Post the new-resident form with an empty name, a wrong check digit, an overlong
    household number and an unknown tag; the page that comes back."""
    token = csrf_of(portal.get("/residents/new").text)
    refused = portal.post(
        "/residents/new",
        data={
            "csrf_token": token,
            "name": "",
            "id_number": BAD_CHECK_DIGIT,
            "registration": "huji",
            "address.compound": "潍坊一村",
            "household_number": "9" * 41,
        },
    )
    assert refused.status_code == 422
    return refused.text


def field_error(page: str, name: str) -> str:
    return re.search(rf'<p class="field-error" id="f-{name}-error">([^<]*)</p>', page)[1]


def test_an_english_visitor_reads_the_field_errors_in_english(shequyun_kernel, cadre):
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    page = register_badly(portal)
    assert field_error(page, "name") == "is required"
    assert field_error(page, "id_number") == "the check digit is wrong"
    assert "ID number: the check digit is wrong" in page
    assert field_error(page, "household_number") == "must be at most 40 characters"
    assert "Name: is required" in page  # the summary names the field in English too
    assert "不能为空" not in page and "校验位" not in page
    with Session(shequyun_kernel.engine) as session:
        assert session.exec(select(Resident)).first() is None


def test_a_chinese_visitor_reads_them_as_before(cadre):
    page = register_badly(cadre.portal())
    assert field_error(page, "name") == "不能为空"
    assert field_error(page, "id_number") == "身份证号校验位不正确"
    assert field_error(page, "household_number") == "不能超过 40 个字"
    assert "姓名：不能为空" in page


def test_a_duplicate_is_refused_in_english_naming_the_committee(cadre):
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    token = csrf_of(portal.get("/residents/new").text)
    person = {
        "csrf_token": token,
        "name": "陈美华",
        "id_number": id_number(born="19520708"),
        "registration": "huji",
        "address.compound": "潍坊一村",
    }
    assert portal.post("/residents/new", data=person, follow_redirects=False).status_code == 303
    twice = portal.post("/residents/new", data={**person, "name": "陈美华2"})
    assert twice.status_code == 409
    assert (
        "This ID number is already registered (潍坊一村居委会); do not register the person twice"
        in twice.text
    )


def test_the_api_answers_in_chinese_whatever_the_cookie(shequyun_client, cadre):
    shequyun_client.cookies.set("shequyun_lang", "en")
    refused = shequyun_client.post(
        "/api/v1/residents",
        json=resident(name="", id_number=BAD_CHECK_DIGIT),
        headers=cadre.auth,
    )
    assert refused.status_code == 422
    details = {d["field"]: d["message"] for d in refused.json()["error"]["details"]}
    assert details["name"] == "不能为空"
    assert details["id_number"] == "身份证号校验位不正确"
    assert refused.json()["error"]["message"].startswith("姓名：不能为空")


def test_the_error_page_speaks_the_visitors_language(shequyun_client):
    chinese = shequyun_client.get("/no-such-page")
    assert chinese.status_code == 404
    assert '<html lang="zh-CN">' in chinese.text
    assert "<h1>404 出错了</h1>" in chinese.text and "找不到您要的页面或数据" in chinese.text
    assert "返回首页" in chinese.text

    shequyun_client.cookies.set("shequyun_lang", "en")
    english = shequyun_client.get("/no-such-page")
    assert english.status_code == 404
    assert '<html lang="en">' in english.text
    assert "<h1>404 Error</h1>" in english.text
    assert "The page or data you asked for was not found" in english.text
    assert "Back to home" in english.text and "Request id" in english.text
    assert not re.search(r"[\u4e00-\u9fff]", english.text)
    api = shequyun_client.get("/api/v1/no-such-thing")  # the API stays Chinese
    assert api.json()["error"]["message"] == "找不到您要的页面或数据"


def test_a_refused_form_token_is_explained_in_english(shequyun_client, cadre):
    portal = cadre.portal()
    portal.cookies.set("shequyun_lang", "en")
    portal.headers["X-CSRF-Token"] = "stale"  # as a page left open past its session would
    refused = portal.post("/residents/new", data={"csrf_token": "stale", "name": "陈美华"})
    assert refused.status_code == 403
    assert "<h1>403 Error</h1>" in refused.text
    assert "This page has expired or its origin is unknown" in refused.text


def _message_ids(module) -> set[str]:
    source = Path(module.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'Message\(\s*"([^"]+)"', source))


def test_every_resident_field_error_has_an_english_entry():
    ids = _message_ids(shequyun.residents.validation) | _message_ids(shequyun.residents.idnumber)
    ids.add(shequyun.residents.validation.DATE_REFUSAL.msgid)
    assert len(ids) > 20
    english = translations("en")
    assert sorted(ids - set(english)) == []
    for message in ids:  # a translation keeps the values it is filled with
        assert sorted(re.findall(r"\{(\w+)\}", message)) == sorted(
            re.findall(r"\{(\w+)\}", english[message])
        ), message


def test_a_form_sent_back_says_so_first_in_its_title(cadre):
    """A screen reader reads the title before anything else: a refused form's begins 错误：
    (Error: in English), as GOV.UK's do; the same page asked for afresh does not."""
    portal = cadre.portal()

    def title(html: str) -> str:
        return re.search(r"<title>([^<]*)</title>", html)[1]

    assert not title(portal.get("/residents/new").text).startswith("错误：")
    assert title(register_badly(portal)).startswith("错误：")
    portal.cookies.set("shequyun_lang", "en")
    assert title(register_badly(portal)).startswith("Error: ")
    assert not title(portal.get("/residents/new").text).startswith("Error")
