"""English through the plugin's own catalog: every message of the templates and code has one."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import shequyun_governance
from babel.messages.pofile import read_po
from jinja2 import nodes
from shequyun_governance import cases, fieldlog, flow, knowledge, stats

from .conftest import WANPING

PACKAGE = Path(shequyun_governance.__file__).parent
CATALOG = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "governance.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
CODE_CALL = re.compile(r'\b_\("([^"]+)"')
MIGRATION_LABEL = re.compile(r'\("\w+", "([^"]+)"')

LABELS = [
    *cases.STATUSES.values(),
    *cases.ACTIONS.values(),
    *cases.SOURCES.values(),
    *cases.PRIORITIES.values(),
    *cases.PUNCTUALITY.values(),
    *flow.SATISFACTION.values(),
    *knowledge.KINDS.values(),
    *fieldlog.KINDS.values(),
    *stats.PERIODS.values(),
    # The seeded categories (the templates show them through _()).
    *(
        label
        for path in sorted((PACKAGE / "migrations").glob("0*.py"))
        for label in MIGRATION_LABEL.findall(path.read_text("utf-8"))
    ),
]


def message_ids() -> dict[str, str]:
    env = jinja2.Environment()
    found: dict[str, str] = {}
    for path in sorted((PACKAGE / "templates").glob("*.html")):
        for call in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args):
                continue
            first = call.args[0]
            literals = [first] if isinstance(first, nodes.Const) else first.find_all(nodes.Const)
            for literal in literals:
                if isinstance(literal.value, str) and CHINESE.search(literal.value):
                    found.setdefault(literal.value, path.name)
    for path in sorted(PACKAGE.glob("*.py")):
        for message in CODE_CALL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(message, path.name)
    for label in LABELS:
        if CHINESE.search(label):
            found.setdefault(label, "code")
    return found


def english() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_message_has_an_english_entry():
    ids = message_ids()
    assert len(ids) > 150
    ours = english()
    missing = sorted(f"{where}: {m}" for m, where in ids.items() if m not in ours)
    assert missing == [], "add these to locale/en/LC_MESSAGES/governance.po"


def test_translations_keep_their_placeholders():
    for message, text in english().items():
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(text)), message


def test_pages_in_english(xuhui):
    case = xuhui.open(xuhui.street, unit_code=WANPING)
    browser = xuhui.cadre.portal()
    browser.cookies.set("shequyun_lang", "en")
    page = browser.get(f"/plugins/governance/cases/{case['id']}").text
    assert "To accept" in page and "Handling unit" in page and "Repairs" in page
    assert "宛平南路88弄路灯不亮" in page  # what people wrote stays as written
    home = browser.get("/plugins/governance/").text
    assert "Log a visit" in home and "Open cases of my unit" in home
