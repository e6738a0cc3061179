"""English through the plugin's own catalog, and the signed-in resident in the portal's header."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
import shequyun_interaction
from babel.messages.pofile import read_po
from jinja2 import nodes
from shequyun_interaction import deliberation, neighbours, notices, servicedesk
from starlette.requests import Request
from starlette.testclient import TestClient

from .test_pages import BASE, csrf, resident_browser

PACKAGE = Path(shequyun_interaction.__file__).parent
CATALOG = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "interaction.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w*)\}")

#: Labels the plugin's code keeps in dicts and the templates show through ``_(label)``.
CODE_LABELS = [
    *deliberation.RULES.values(),
    *deliberation.SCOPES.values(),
    *deliberation.STANCES.values(),
    *neighbours.DECISIONS.values(),
    *neighbours.TARGET_LABELS.values(),
    *notices.CATEGORIES.values(),
    *servicedesk.CATEGORIES.values(),
    *servicedesk.STATUSES.values(),
]


def template_message_ids() -> dict[str, str]:
    """Every Chinese literal given to ``_()`` in the templates: ``{id: template}``."""
    env = jinja2.Environment()
    found: dict[str, str] = {}
    for path in sorted((PACKAGE / "templates").rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args):
                continue
            first = call.args[0]
            literals = [first] if isinstance(first, nodes.Const) else first.find_all(nodes.Const)
            for literal in literals:
                if isinstance(literal.value, str) and CHINESE.search(literal.value):
                    found.setdefault(literal.value, path.name)
    return found


def english_catalog() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def kernel_english() -> dict[str, str]:
    from shequyun.i18n import translations  # the kernel's catalog, the fallback

    return translations("en")


def in_english(client: TestClient) -> TestClient:
    client.cookies.set("shequyun_lang", "en")
    return client


def account_area(html: str) -> str:
    match = re.search(r'<div class="account">(.*?)</div>', html, re.S)
    assert match, "the page has no account area"
    return match.group(1)


# -- the catalog -------------------------------------------------------------------------------


def test_every_message_of_the_templates_and_labels_has_an_english_entry():
    ids = template_message_ids()
    assert len(ids) > 200
    ours, kernels = english_catalog(), kernel_english()
    missing = sorted(
        f"{where}: {message}"
        for message, where in [*ids.items(), *((label, "code") for label in CODE_LABELS)]
        if message not in ours and message not in kernels
    )
    assert missing == [], "add these to locale/en/LC_MESSAGES/interaction.po"


def test_translations_keep_their_placeholders():
    for message, text in english_catalog().items():
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(text)), message


# -- pages ---------------------------------------------------------------------------------------


def test_resident_pages_are_chinese_by_default_and_english_on_request(town):
    anonymous = TestClient(town.client.app)
    home = anonymous.get(f"{BASE}/").text
    assert "<h1>居社互动</h1>" in home and "注册居民账号" in home
    english = in_english(anonymous).get(f"{BASE}/").text
    assert "<h1>Residents</h1>" in english
    assert "Create a resident account" in english and "注册居民账号" not in english
    assert ">Deliberation hall</a>" in english  # the plugin's tabs
    assert 'aria-current="page">Home</a>' in english  # 首页 from the kernel's catalog


def test_a_verified_residents_topic_page_in_english(town):
    wang = town.resident("王秀英")
    topic = town.topic(title="12号楼加装电梯")
    browser = in_english(resident_browser(town, wang))
    page = browser.get(f"{BASE}/topics/{topic['id']}").text
    assert '<h2 id="h-vote">My vote</h2>' in page
    assert "One resident, one vote" in page  # a label from the plugin's code
    assert "12号楼加装电梯" in page  # what people wrote stays as written


def test_cadre_pages_in_english(town):
    cadre = in_english(town.cadre().portal())
    page = cadre.get(f"{BASE}/manage/topics").text
    assert "<h1>Topics</h1>" in page and "Open a new topic" in page
    assert "Agree\nDisagree" in page  # the default options follow the language
    requests = cadre.get(f"{BASE}/manage/requests").text
    assert "<h1>Service requests</h1>" in requests and "No requests." in requests
    workbench = cadre.get("/").text
    assert "Resident services" in workbench and "0 open" in workbench


def test_the_plugins_catalog_stays_out_of_the_kernels_messages(town):
    platform = town.client.app.state.platform
    request = Request({"type": "http", "headers": [(b"cookie", b"shequyun_lang=en")]})
    ours = platform.translator(request, platform.plugin("interaction"))
    kernels = platform.translator(request)
    assert ours("议事厅") == "Deliberation hall"
    assert kernels("议事厅") == "议事厅"
    assert ours("还没有翻译的一句话") == "还没有翻译的一句话"  # missing: the Chinese id
    assert ours("首页") == "Home"  # the kernel's catalog fills in


# -- the header ----------------------------------------------------------------------------------


def test_the_portal_header_names_a_signed_in_resident_and_keeps_the_staff_login(town):
    browser = resident_browser(town, town.resident("王秀英"))
    for path in ("/", f"{BASE}/topics"):
        header = account_area(browser.get(path).text)
        assert f'<a class="who" href="{BASE}/">王秀英</a>' in header, path
        assert f'action="{BASE}/logout"' in header
        assert '<a class="staff-login" href="/login">工作人员登录</a>' in header
    token = csrf(account_area(browser.get("/").text))
    out = browser.post(f"{BASE}/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert '<a class="staff-login" href="/login">工作人员登录</a>' in account_area(
        browser.get("/").text
    )


def test_the_plugins_pages_name_the_resident_and_offer_退出_once(town):
    """The header names her and signs her out; the plugin's bar adds only her committee."""
    browser = resident_browser(town, town.resident("王秀英"))
    for path in ("/", "/topics", "/requests", "/notifications"):
        page = browser.get(f"{BASE}{path}").text
        assert page.count(f'action="{BASE}/logout"') == 1, path
        assert page.count("王秀英") == 1, path
        bar = page[page.index('class="ix-bar"') : page.index('class="ix-tabs"')]
        assert "王秀英" not in bar and "居委会" in bar, path


def test_a_staff_login_in_the_same_browser_leaves_the_resident_a_labelled_way_out(town):
    browser = resident_browser(town, town.resident("王秀英"))
    staff = town.cadre().portal()
    browser.cookies.update(staff.cookies)
    page = browser.get(f"{BASE}/topics").text
    bar = page[page.index('class="ix-bar"') : page.index('class="ix-tabs"')]
    assert "王秀英" in bar and f'action="{BASE}/logout"' in bar and "退出居民账号" in bar
    assert 'action="/logout"' in account_area(page)  # the staff user's own


def test_an_unverified_account_is_shown_by_its_masked_phone(town):
    wang = town.resident("王秀英", phone="13912345678")
    browser = TestClient(town.client.app)
    page = browser.get(f"{BASE}/signup").text
    browser.post(
        f"{BASE}/signup",
        data={
            "phone": wang.phone,
            "password": "Resident-pass-1",
            "password2": "Resident-pass-1",
            "csrf_token": csrf(page),
        },
    )
    header = account_area(browser.get("/").text)
    assert f'<a class="who" href="{BASE}/verify">139****5678（未核验）</a>' in header
    assert "139****5678 (unverified)" in account_area(in_english(browser).get("/").text)


@pytest.mark.parametrize("cookie", ["", "stale-token"])
def test_without_a_valid_resident_cookie_the_header_offers_the_login(town, cookie):
    browser = TestClient(town.client.app)
    if cookie:
        browser.cookies.set("shequyun_resident", cookie)
    assert '<a class="staff-login" href="/login">工作人员登录</a>' in account_area(
        browser.get("/").text
    )


def test_a_refused_sign_in_is_explained_in_the_residents_language(town):
    wang = town.resident("王秀英", phone="13912345678")
    browser = TestClient(town.client.app)
    page = browser.get(f"{BASE}/login").text
    form = {"phone": wang.phone, "password": "wrong-pass-1", "csrf_token": csrf(page)}
    assert "手机号或密码不正确" in browser.post(f"{BASE}/login", data=form).text
    english = in_english(browser).post(f"{BASE}/login", data=form).text
    assert "Wrong phone number or password" in english and "手机号或密码不正确" not in english
