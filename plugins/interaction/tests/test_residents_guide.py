"""docs/residents.md (居民使用指南) stays true to the pages it describes.

Each section of the guide names the pages it is about in a comment,
``<!-- pages: VIEWER /path /path?unit={committee} … -->``, where VIEWER is who looks at them:
``visitor`` (no account), ``account`` (signed up, not verified), ``resident`` (verified), or
``large`` (a visitor in 大字模式). The test below builds a committee where every label can show
(a pinned announcement, a disclosure in its second version, open, voted, closed and
out-of-scope topics, a neighbour's post and comment, a request the committee answered), renders
those pages through the app, and fails for each label the section quotes in bold that none of
them shows.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from starlette.testclient import TestClient

from .conftest import API, PASSWORD, WEIFANG1
from .test_pages import BASE, resident_browser, submit

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "residents.md"
PAGES = re.compile(r"<!-- pages: (\w+) ([^>]*?) -->")
BOLD = re.compile(r"\*\*(.+?)\*\*")


def sections() -> list[tuple[str, str]]:
    """(heading, text) of each ``## `` section; the lead before the first is ``""``."""
    parts = re.split(r"^## (.+)$", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    return [("", parts[0]), *zip(parts[1::2], parts[2::2], strict=True)]


def shown(page: str) -> str:
    """What a reader sees of a page: its text, and the hints written inside empty fields."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    hints = " ".join(re.findall(r'placeholder="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + hints)


def test_every_section_that_quotes_labels_names_its_pages():
    for heading, text in sections():
        assert not BOLD.search(text) or PAGES.search(text), (
            f"section {heading!r} quotes labels in bold but names no pages to check them on"
        )


def test_every_label_the_guide_quotes_is_on_the_pages_it_names(town):
    cadre = town.cadre(WEIFANG1).auth
    places = {"district": "310115000000", "street": "310115004000", "committee": WEIFANG1}

    # What residents find: the committee's content, a neighbour who has posted and commented.
    announcement = town.client.post(
        f"{API}/manage/announcements",
        headers=cadre,
        json={"title": "周三停水通知", "body": "周三 9:00–15:00 停水。", "pinned": True},
    ).json()["id"]
    disclosure = town.client.post(
        f"{API}/manage/disclosures",
        headers=cadre,
        json={"category": "finance", "title": "三季度经费收支", "body": "收入 3 万元"},
    ).json()["id"]
    revised = town.client.patch(
        f"{API}/manage/disclosures/{disclosure}",
        headers=cadre,
        json={
            "category": "finance",
            "title": "三季度经费收支",
            "body": "收入 3.2 万元",
            "note": "更正",
        },
    )
    assert revised.status_code == 200, revised.text
    topic = town.topic(title="12号楼加装电梯意见征询", allow_abstain=True)["id"]
    voted = town.topic(title="小区停车收费调整")["id"]
    closed = town.topic(title="垃圾箱房选址")["id"]
    town.resident("孙丽", building="3")
    town.topic(
        title="3号楼外墙修缮",
        rule="household",
        scope_kind="buildings",
        buildings=[["潍坊一村", "3"]],
    )
    li = town.verified(town.resident("李建国", room="903"))
    assert (
        li.post(f"/topics/{topic}/comments", {"stance": "for", "body": "早该装了"}).status_code
        == 201
    )
    assert li.put(f"/topics/{closed}/ballot", {"option": 0}).status_code == 200
    post = li.post("/posts", {"body": "周六上午小区义诊，大家可以去看看。"}).json()["id"]
    assert li.post(f"/posts/{post}/comments", {"body": "谢谢提醒"}).status_code == 201
    shut = town.client.post(f"{API}/manage/topics/{closed}/close", headers=cadre)
    assert shut.status_code == 200, shut.text

    # The guide's readers: a visitor, one who only signed up, 王秀英 verified, one in 大字模式.
    resident = resident_browser(town, town.resident("王秀英", room="402"))
    voting = submit(resident, f"{BASE}/topics/{voted}", {"action": "vote", "option": "0"})
    assert voting.status_code == 303, voting.text
    sent = submit(
        resident,
        f"{BASE}/requests",
        {"category": "repair", "title": "楼道灯不亮", "body": "1单元5楼楼道灯坏了一周"},
    )
    assert sent.status_code == 303, sent.text
    request = int(sent.headers["location"].rsplit("/", 1)[1])
    answered = town.client.post(
        f"{API}/manage/requests/{request}/replies",
        headers=cadre,
        json={"body": "已安排电工明天上门。", "status": "accepted"},
    )
    assert answered.status_code in (200, 201), answered.text
    account = TestClient(town.client.app)
    phone = town.resident("赵敏", room="501").phone
    signed = submit(
        account, f"{BASE}/signup", {"phone": phone, "password": PASSWORD, "password2": PASSWORD}
    )
    assert signed.status_code == 303, signed.text
    large = TestClient(town.client.app)
    large.get("/display/large")
    viewers = {
        "visitor": TestClient(town.client.app),
        "account": account,
        "resident": resident,
        "large": large,
    }
    ids = {
        **places,
        "announcement": announcement,
        "disclosure": disclosure,
        "topic": topic,
        "voted_topic": voted,
        "closed_topic": closed,
        "request": request,
    }

    missing = []
    for heading, text in sections():
        seen = []
        for who, paths in PAGES.findall(text):
            for path in paths.split():
                response = viewers[who].get(BASE + path.format(**ids))
                assert response.status_code == 200, (heading, who, path, response.status_code)
                seen.append(shown(response.text))
        missing += [
            f"{heading or '(lead)'}: {label}"
            for label in BOLD.findall(text)
            if not any(label in page for page in seen)
        ]
    assert missing == []
