"""我的数据质量, the ranking of units, the rules page; in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from babel.messages.pofile import read_po
from jinja2 import nodes

import shequyun.quality
from shequyun.i18n import translations

from .conftest import Town

PACKAGE = Path(shequyun.quality.__file__).parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_a_cadre_works_through_their_to_do_list(town: Town):
    missing = town.add(phone=None)
    elsewhere = town.add("310115004002", phone=None)
    town.kernel.quality.scan()
    portal = town.cadre().portal()

    page = portal.get("/quality", params={"rule": "missing_phone"})
    assert page.status_code == 200
    assert "我的数据质量" in page.text and "质量评分" in page.text
    assert f'href="/residents/{missing}"' in page.text  # one click to the record
    assert f'href="/residents/{elsewhere}"' not in page.text
    assert "户籍、常住居民缺少联系电话" in page.text and "补录" in page.text

    # 核实无误 on a finding whose value is right: it leaves the list.
    done = portal.post(
        f"/quality/residents/{missing}/waive",
        data={"rule": "missing_phone", "note": "老人没有电话", "next": "/quality"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert f'href="/residents/{missing}"' not in portal.get("/quality").text
    # Another committee's unit page does not exist for this cadre.
    assert portal.get("/quality/u/310115004002").status_code == 404


def test_a_street_sees_its_committees_ranked(town: Town):
    town.kernel.quality.scan()
    portal = town.actors.street_admin("310115004000").portal()
    page = portal.get("/quality")
    assert page.status_code == 200
    assert "下级排名" in page.text
    assert 'href="/quality/u/310115004001"' in page.text
    assert 'href="/quality/u/310115004002"' in page.text
    assert "310104003001" not in page.text


def test_only_those_who_may_change_a_record_are_offered_to(town: Town):
    missing = town.add(phone=None)
    town.kernel.quality.scan()
    edit = f'href="/residents/{missing}/edit"'
    cadre = town.cadre().portal()
    assert edit in cadre.get("/quality/u/310115004001").text
    district = town.actors.district_admin("310115000000").portal()
    page = district.get("/quality/u/310115004001").text
    assert f'href="/residents/{missing}"' in page  # the finding and its record are shown
    assert edit not in page  # but not a 去修改 that could only answer 403
    assert district.get(f"/residents/{missing}/edit").status_code == 403
    assert "由居委修改" in page


def test_a_district_adds_a_rule_in_the_portal(town: Town):
    portal = town.actors.district_admin("310115000000").portal()
    refused = portal.post(
        "/quality/rules",
        data={"code": "pd_old", "check": "age_over", "params": "{years: 1}", "level": "warning",
              "title": "年龄超过 100 岁", "fix": "核对出生日期"},
    )  # fmt: skip
    assert refused.status_code == 422 and "参数应为 JSON" in refused.text
    saved = portal.post(
        "/quality/rules",
        data={"code": "pd_old", "check": "age_over", "params": '{"years": 100}',
              "level": "warning", "title": "年龄超过 100 岁", "fix": "核对出生日期"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    listed = portal.get("/quality/rules").text
    assert "pd_old" in listed and "年龄超过 100 岁" in listed
    # A cadre reads the rules but has no form to change them.
    cadre_view = town.cadre().portal().get("/quality/rules").text
    assert "pd_old" in cadre_view and "保存规则" not in cadre_view


def test_the_workbench_shows_the_cadres_score(town: Town):
    town.add(born="19100101")
    town.kernel.quality.scan()
    page = town.cadre().portal().get("/workbench")
    assert "我的数据质量" in page.text and 'href="/quality"' in page.text


def _template_messages() -> set[str]:
    """Every Chinese string constant of the templates: each is shown through ``_()``."""
    env = jinja2.Environment()
    found = set()
    for path in (PACKAGE / "templates" / "quality").glob("*.html"):
        for literal in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Const):
            if isinstance(literal.value, str) and CHINESE.search(literal.value):
                found.add(literal.value)
    return found


def test_every_message_of_the_pages_has_an_english_entry():
    catalog = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "quality.po"
    with catalog.open("rb") as handle:
        ours = {m.id for m in read_po(handle, abort_invalid=True) if m.id and m.string}
    # Words passed to _() from code: levels, kinds, the checks' titles.
    from shequyun.quality.checks import CHECKS, KINDS
    from shequyun.quality.pages import DONE, UNIT_DONE
    from shequyun.quality.rules import LEVELS

    wanted = _template_messages() | set(LEVELS.values()) | set(KINDS.values()) | set(DONE.values())
    wanted |= set(UNIT_DONE.values())
    wanted |= {c.title for c in CHECKS.values()}
    assert len(wanted) > 40
    missing = sorted(m for m in wanted if m not in ours and m not in translations("en"))
    assert missing == []


def test_the_page_in_english(town: Town):
    town.kernel.quality.scan()
    portal = town.cadre().portal()
    portal.cookies.set("shequyun_lang", "en")
    page = portal.get("/quality")
    assert "My data quality" in page.text and "Quality score" in page.text


def test_the_shipped_rules_read_in_english_and_as_written_in_chinese(town: Town):
    import json

    catalog = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "quality.po"
    with catalog.open("rb") as handle:
        ours = {m.id for m in read_po(handle, abort_invalid=True) if m.id and m.string}
    shipped = json.loads((PACKAGE / "rules.json").read_text(encoding="utf-8"))["rules"]
    assert sorted(({r["title"] for r in shipped} | {r["fix"] for r in shipped}) - ours) == []
    portal = town.actors.district_admin("310115000000").portal()
    assert "缺少居住地址" in portal.get("/quality/rules").text
    portal.cookies.set("shequyun_lang", "en")
    english = portal.get("/quality/rules").text
    assert "No home address" in english and "缺少居住地址" not in english
