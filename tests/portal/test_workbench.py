"""The workbench: tasks and deadlines, recent changes in scope, age pyramid, tags, plugin cards."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from shequyun_sdk import WorkbenchCard, hookimpl
from sqlmodel import Session

from shequyun.collection.models import Campaign
from shequyun.workbench.pages import age_bands, band_labels, tag_counts

from ..collection._forms import COMMITTEE_COUNT
from ..residents._data import id_number
from .test_residents_pages import actor_of, register


class Eldercare:
    MANIFEST = {
        "name": "eldercare",
        "version": "0.1",
        "title": {"zh": "养老顾问", "en": "Eldercare"},
        "description": {"zh": "测试用", "en": "For tests"},
        "sdk": ">=0.1,<0.2",
        "actor_permissions": ["residents.read", "residents.write"],
    }

    @hookimpl
    def workbench_cards(self, actor):
        return [
            WorkbenchCard(
                "待走访老人",
                ("3 位高龄独居老人本月未走访",),
                value="3",
                href="/plugins/eldercare/",
                order=10,
            )
        ]


@pytest.fixture
def shequyun_plugins():
    return [Eldercare()]


def open_campaign(client, bureau, title, targets, *, days):
    created = client.post(
        "/api/v1/forms", json={"title": title, **COMMITTEE_COUNT}, headers=bureau.auth
    )
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    client.post(f"/api/v1/forms/{form_id}/versions/1/publish", headers=bureau.auth)
    deadline = (datetime.now(UTC) + timedelta(days=max(days, 1))).isoformat()
    opened = client.post(
        "/api/v1/campaigns",
        headers=bureau.auth,
        json={
            "form_id": form_id,
            "version": 1,
            "deadline": deadline,
            "targets": targets,
            "title": title,
        },
    )
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def test_anonymous_visitors_are_sent_to_log_in(shequyun_client):
    response = shequyun_client.get("/workbench", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/workbench"


def test_tasks_with_deadlines_overdue_first_and_highlighted(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    bureau = shequyun_actors.bureau()
    late = open_campaign(shequyun_client, bureau, "加装电梯意愿摸底", ["310115004000"], days=1)
    open_campaign(shequyun_client, bureau, "楼组长名册", ["310115004000"], days=20)
    open_campaign(shequyun_client, bureau, "徐汇的任务", ["310104000000"], days=5)
    with Session(shequyun_kernel.engine) as session:
        row = session.get(Campaign, late)
        row.deadline = datetime.now(UTC) - timedelta(hours=2)
        session.add(row)
        session.commit()
    page = shequyun_actors.cadre("310115004001").portal().get("/workbench")
    assert page.status_code == 200
    tasks = page.text.split('id="wb-tasks"')[1].split("</section>")[0]
    assert "徐汇的任务" not in tasks
    assert tasks.index("加装电梯意愿摸底") < tasks.index("楼组长名册")
    overdue = re.search(
        r'<li class="overdue">\s*<a href="/collection/tasks/(\d+)">加装电梯意愿摸底', tasks
    )
    assert overdue, tasks
    assert "已逾期" in tasks and "未开始" in tasks
    assert re.search(r"截止 <time[^>]*>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d</time>", tasks)


def test_recent_changes_are_those_of_the_actors_scope(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    neighbour = shequyun_actors.cadre("310115004002")
    mine = register(shequyun_kernel, cadre)
    register(shequyun_kernel, neighbour, name="隔壁居民", id_number=id_number(serial="321"))
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.residents.update(
            session,
            actor_of(shequyun_kernel, cadre),
            mine,
            {"phone": "13900001111", "registration": "常住"},
            version=1,
            source="portal",
        )
        session.commit()
    page = cadre.portal().get("/workbench")
    changes = page.text.split('id="wb-changes"')[1].split("</section>")[0]
    assert "隔壁居民" not in changes
    assert f'<a href="/residents/{mine}">王秀英</a>' in changes
    assert "<del>138****5678</del> → <ins>139****1111</ins>" in changes
    assert "<del>户籍</del> → <ins>常住</ins>" in changes
    assert changes.index("电话") < changes.index("新增登记")  # newest first
    street = shequyun_actors.street_admin("310115004000").portal().get("/workbench").text
    assert "隔壁居民" in street.split('id="wb-changes"')[1]


def test_a_change_a_plugin_made_as_itself_is_signed_with_the_plugins_title(
    shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre("310115004001")
    mine = register(shequyun_kernel, cadre)
    platform = shequyun_kernel.platform
    with platform.session() as session:
        platform.update_resident(
            session,
            platform.plugin_actor("eldercare"),
            mine,
            {"phone": "13900001111"},
            version=1,
            source="plugin:eldercare",
        )
    workbench = cadre.portal().get("/workbench").text
    changes = workbench.split('id="wb-changes"')[1].split("</section>")[0]
    assert "养老顾问（插件）" in changes
    history = cadre.portal().get(f"/residents/{mine}").text.split('id="history"')[1]
    assert "养老顾问（插件）" in history
    audit = shequyun_actors.street_admin("310115004000").portal().get("/admin/audit").text
    assert "养老顾问（插件）" in audit  # with its login, plugin:eldercare, beneath as for people
    assert "字段：电话" in audit  # the field by its title, not "phone"
    for page in (changes, history):
        assert "plugin:eldercare" not in page


def test_the_age_pyramid_counts_by_five_year_band_and_gender_in_sql(
    shequyun_kernel, shequyun_actors
):
    cadre = shequyun_actors.cadre("310115004001")
    today = date(2026, 11, 27)
    born = {  # birth date → expected band
        "19450312": "80–84",  # 81
        "19411127": "85+",  # 85 today
        "19411128": "80–84",  # 85 tomorrow
        "20211127": "5–9",  # 5 today
        "20211128": "0–4",
        "19900101": "35–39",
    }
    for serial, birth in enumerate(born, start=101):  # odd serials are men
        register(
            shequyun_kernel,
            cadre,
            name=f"居民{serial}",
            id_number=id_number(born=birth, serial=str(serial)),
            tags=["独居老人"] if serial < 104 else [],
            address=None,
            household_number=None,
        )
    other = shequyun_actors.cadre("310104003001")
    register(
        shequyun_kernel,
        other,
        name="徐汇居民",
        id_number=id_number(born="19450101", serial="555"),
        address=None,
        household_number=None,
    )
    actor = actor_of(shequyun_kernel, cadre)
    with Session(shequyun_kernel.engine) as session:
        bands = {label: (m, f) for label, m, f in age_bands(session, actor, today)}
        tags = tag_counts(session, actor)
    assert list(bands) == band_labels() and len(bands) == 18
    expected: dict[str, list[int]] = {}
    for serial, band in enumerate(born.values(), start=101):
        expected.setdefault(band, [0, 0])[0 if serial % 2 else 1] += 1
    assert {k: v for k, v in bands.items() if v != (0, 0)} == {
        k: tuple(v) for k, v in expected.items()
    }
    assert tags == [("独居老人", 3)]


def test_the_workbench_draws_the_charts_and_shows_plugin_cards(shequyun_kernel, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    register(shequyun_kernel, cadre)
    page = cadre.portal().get("/workbench")
    assert page.status_code == 200
    assert "在册居民 1 人" in page.text
    assert page.text.count("<svg") == 2
    assert "潍坊一村居委会居民年龄结构" in page.text and "潍坊一村居委会居民标签人数" in page.text
    card = page.text.split('class="card plugin-card"')[1]
    assert "待走访老人" in card and "3 位高龄独居老人本月未走访" in card


def test_above_a_committee_each_campaign_is_one_line_with_its_counts(
    shequyun_client, shequyun_actors
):
    bureau = shequyun_actors.bureau()
    open_campaign(shequyun_client, bureau, "楼组长名册", ["310115000000"], days=20)
    page = shequyun_actors.platform_admin().portal().get("/workbench")
    assert page.status_code == 200
    lines = page.text.split('id="wb-campaigns"')[1].split("</section>")[0]
    assert lines.count("楼组长名册") == 1  # not one row per committee
    assert "已提交 0/3" in lines  # 浦东新区's three committees
    assert 'href="/collection/campaigns/' in lines and 'id="wb-tasks"' not in page.text


def test_a_bureau_without_residents_sees_no_resident_sections(shequyun_actors):
    page = shequyun_actors.bureau().portal().get("/workbench")
    assert page.status_code == 200
    assert 'id="wb-changes"' not in page.text and 'id="wb-tasks"' not in page.text
    assert 'href="/residents"' not in page.text


def test_a_bureau_starts_from_the_campaigns_it_opened(shequyun_client, shequyun_actors):
    bureau = shequyun_actors.bureau()
    empty = bureau.portal().get("/workbench").text
    card = empty.split('id="wb-followed"')[1].split("</section>")[0]
    assert "暂无进行中的采集。" in card
    assert 'href="/collection/campaigns/new"' in card

    campaign = open_campaign(shequyun_client, bureau, "楼组长名册", ["310115000000"], days=2)
    page = bureau.portal().get("/workbench").text
    card = page.split('id="wb-followed"')[1].split("</section>")[0]
    assert f'<a href="/collection/campaigns/{campaign}">楼组长名册</a>' in card
    assert "本单位发起" in card and "已提交 0/3" in card and "即将截止" in card
    # A street admin follows their street's part of it; those who fill keep their task list.
    street = shequyun_actors.street_admin("310115004000").portal().get("/workbench").text
    card = street.split('id="wb-followed"')[1].split("</section>")[0]
    assert "楼组长名册" in card and "已提交 0/2" in card and "本单位发起" not in card
    cadre = shequyun_actors.cadre("310115004001").portal().get("/workbench").text
    assert 'id="wb-followed"' not in cadre and 'id="wb-tasks"' in cadre
