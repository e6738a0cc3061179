"""The indicator pages in English: every message of the templates has an entry."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from babel.messages.pofile import read_po
from jinja2 import nodes

import shequyun.indicators
from shequyun.i18n import translations
from shequyun.indicators import builtin_collection, builtin_residents
from shequyun.indicators.service import beijing_today

PACKAGE = Path(shequyun.indicators.__file__).parent
CATALOG = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "indicators.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
#: Words the templates pass to ``_()`` from variables: the period kinds and table headings.
CODE_LABELS = ["按月", "按周", "按季度", "单位", "编码", "层级", "分子", "分母", "时段", "说明"]


def template_message_ids() -> dict[str, str]:
    env = jinja2.Environment()
    found: dict[str, str] = {}
    for path in sorted((PACKAGE / "templates" / "indicators").glob("*.html")):
        for call in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args:
                first = call.args[0]
                literals = (
                    [first] if isinstance(first, nodes.Const) else first.find_all(nodes.Const)
                )
                for literal in literals:
                    if isinstance(literal.value, str) and CHINESE.search(literal.value):
                        found.setdefault(literal.value, path.name)
    return found


def english() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_message_has_an_english_entry():
    ids = template_message_ids()
    assert len(ids) > 30
    ours, kernels = english(), translations("en")
    missing = sorted(
        f"{where}: {message}"
        for message, where in [*ids.items(), *((label, "code") for label in CODE_LABELS)]
        if message not in ours and message not in kernels
    )
    assert missing == []


def test_translations_keep_their_placeholders():
    for message, text in english().items():
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(text)), message


def test_the_kernels_indicators_have_english_titles():
    for indicator in (*builtin_residents.INDICATORS, *builtin_collection.INDICATORS):
        assert indicator.title_en, indicator.name
        assert indicator.description and indicator.description_en, indicator.name


def test_the_dashboard_in_english(town):
    portal = town.actors.street_admin("310115004000").portal()
    portal.cookies.set("shequyun_lang", "en")
    html = portal.get("/indicators/u/310115004000").text
    assert "Share aged 60 and over" in html and "60岁及以上居民占比" not in html
    assert "Units below, side by side" in html
    assert ">Indicators</a>" in html  # the navigation entry


def test_periods_breakdowns_and_dates_read_in_english_and_stay_chinese_in_chinese(town):
    portal = town.actors.street_admin("310115004000").portal()
    chinese = portal.get("/indicators/u/310115004000/residents.population").text
    assert "0–17岁" in chinese and "（本级合计）" in chinese and "年" in chinese
    portal.cookies.set("shequyun_lang", "en")
    english = portal.get("/indicators/u/310115004000/residents.population").text
    assert "0–17岁" not in english and "80 and over" in english  # the age bands
    assert "（本级合计）" not in english and "(own total)" in english
    assert "Registered residents trend" in english
    visible = re.sub(r"<[^>]+>", " ", english.split("<main", 1)[1])
    today = beijing_today()
    assert f"{today.year}年{today.month}月" not in visible  # the periods and today's date
    assert f"{today.year}" in visible
