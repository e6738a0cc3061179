"""The portal pages as cadres and street staff use them, phone first."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from .conftest import PNG, WANPING

BASE = "/plugins/governance"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_a_cadre_logs_a_visit_with_a_photo_in_one_post_and_turns_it_into_a_case(xuhui):
    resident_id = xuhui.resident("王秀英")
    browser = xuhui.cadre.portal()
    home = browser.get(f"{BASE}/")
    assert home.status_code == 200 and "记走访" in home.text
    form = browser.get(f"{BASE}/logs/new?q=王秀英")
    assert f'value="resident:{resident_id}"' in form.text
    saved = browser.post(
        f"{BASE}/logs/new",
        data={"csrf_token": csrf(form.text), "kind": "visit", "category": "help"},
        files={"photos": ("door.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    entry = browser.get(saved.headers["location"])
    assert "已保存" in entry.text and "入户走访" in entry.text and "<img" in entry.text
    turned = browser.post(
        saved.headers["location"].split("?")[0],
        data={"csrf_token": csrf(entry.text), "category": "aid"},
        follow_redirects=False,
    )
    assert turned.status_code == 303
    case = browser.get(turned.headers["location"])
    assert "民生救助" in case.text and "处置中" in case.text and "<img" in case.text


def test_every_page_answers_for_each_level(xuhui):
    case = xuhui.open(xuhui.street, unit_code=WANPING)
    article = xuhui.call(
        xuhui.street,
        "POST",
        "/articles",
        {"kind": "answer", "title": "电梯加装问答", "body": "电梯加装常见问题。", "categories": []},
    ).json()
    pages = [
        "/",
        "/cases",
        "/cases?status=all",
        "/cases?mine=1",
        "/cases/new",
        f"/cases/{case['id']}",
        "/logs",
        "/logs?follow_up=1",
        "/coverage",
        "/knowledge",
        "/knowledge?q=加装电梯",
        f"/knowledge/{article['id']}",
        "/dashboard",
        "/dashboard?period=week",
    ]
    for who in (xuhui.district, xuhui.street, xuhui.cadre):
        browser = who.portal()
        for path in pages:
            if path == "/cases/new" and who is xuhui.cadre:
                pass
            answer = browser.get(BASE + path)
            assert answer.status_code == 200, (who.username, path, answer.text[:300])
    street = xuhui.street.portal()
    assert street.get(f"{BASE}/knowledge/new").status_code == 200
    assert "<mark>" in street.get(f"{BASE}/knowledge?q=加装电梯").text
    # Outside the grant: the sibling cannot open the case page.
    assert xuhui.sibling.portal().get(f"{BASE}/cases/{case['id']}").status_code == 404


def test_a_street_dispatches_and_takes_steps_from_the_case_page(xuhui):
    street = xuhui.street.portal()
    form = street.get(f"{BASE}/cases/new")
    created = street.post(
        f"{BASE}/cases/new",
        data={
            "csrf_token": csrf(form.text),
            "title": "建国西路乱停车",
            "description": "晚高峰占用消防通道",
            "category": "parking",
            "unit_code": WANPING,
            "priority": "normal",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    cadre = xuhui.cadre.portal()
    page = cadre.get(created.headers["location"])
    assert "签收" in page.text and "签收期限" in page.text
    accepted = cadre.post(
        created.headers["location"] + "/steps/accept",
        data={"csrf_token": csrf(page.text), "version": "1"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    stale = cadre.post(
        created.headers["location"] + "/steps/accept",
        data={"csrf_token": csrf(page.text), "version": "1"},
    )
    assert stale.status_code == 409 and "已被他人处理" in stale.text
    # Once accepted, the deadline to accept is history: only the one to finish is shown.
    handling = cadre.get(created.headers["location"]).text
    assert "签收期限" not in handling and "办结期限" in handling
    bad = street.post(
        f"{BASE}/cases/new",
        data={"csrf_token": csrf(form.text), "title": "", "category": "parking"},
    )
    assert bad.status_code == 422 and "请填写案件标题" in bad.text


def test_the_dashboard_counts_and_exports(xuhui):
    for _ in range(2):
        case = xuhui.open(xuhui.street, unit_code=WANPING)
        xuhui.step(xuhui.cadre, case["id"], "accept")
        xuhui.step(xuhui.cadre, case["id"], "report", note="已办")
        xuhui.step(xuhui.street, case["id"], "verify", passed=True)
    xuhui.open(xuhui.street, unit_code="310104003002")
    district = xuhui.district.portal()
    page = district.get(f"{BASE}/dashboard").text
    assert "天平路街道" in page and "<svg" in page and "100%" in page
    street_view = district.get(f"{BASE}/dashboard?unit_code=310104003000").text
    assert "宛平南路居委会" in street_view and "建国西路居委会" in street_view
    csv = district.get(f"{BASE}/dashboard.csv?unit_code=310104003000")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig")
    assert "宛平南路居委会,0,2,0,2,0,100.0%" in text
    xlsx = district.get(f"{BASE}/dashboard.xlsx?unit_code=310104003000")
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = [[c.value for c in row] for row in book["按单位"].iter_rows()]
    assert rows[0][0] == "单位" and rows[-1][0] == "天平路街道（合计）" and rows[-1][2] == 3
    assert xuhui.cadre.portal().get(f"{BASE}/dashboard?unit_code=310104003000").status_code == 404


def test_a_refused_case_marks_its_fields_and_ties_each_error_to_its_control(xuhui):
    """A screen reader on the title says what is wrong with it: the control is marked invalid and
    described by the message printed under it; the fields without a problem are not marked."""
    street = xuhui.street.portal()
    form = street.get(f"{BASE}/cases/new")
    bad = street.post(
        f"{BASE}/cases/new",
        data={"csrf_token": csrf(form.text), "title": "", "description": "", "category": "parking"},
    )
    assert bad.status_code == 422
    for name, message in (("title", "请填写案件标题"), ("description", None)):
        control = re.search(rf'<(?:input|textarea) id="{name}"[^>]*>', bad.text)
        assert control, name
        assert 'aria-invalid="true"' in control.group(0), control.group(0)
        assert f'aria-describedby="err-{name}"' in control.group(0), control.group(0)
        error = re.search(rf'<p class="field-error" id="err-{name}">([^<]+)</p>', bad.text)
        assert error, name
        if message:
            assert error.group(1) == message
    category = re.search(r'<select id="category"[^>]*>', bad.text).group(0)
    assert "aria-invalid" not in category and "aria-describedby" not in category
