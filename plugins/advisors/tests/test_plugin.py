"""The plugin as a whole: SDK only, tables match the migration, demo data, pages, catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import shequyun_advisors
from sqlmodel import Session, select

from .conftest import API, WEIFANG, WEIFANG1, id_number

SOURCE = Path(shequyun_advisors.__file__).parent


def test_the_plugin_imports_the_sdk_never_the_kernel():
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            assert not any(n == "shequyun" or n.startswith("shequyun.") for n in names), path


def test_it_loads_through_its_entry_point(shequyun_kernel):
    record = shequyun_kernel.host.records["advisors"]
    assert record.active, record.reason


def test_the_models_match_the_migration(shequyun_kernel):
    from shequyun.models import model_drift

    assert model_drift(shequyun_kernel.engine, shequyun_kernel.tables) == []


def test_the_demo_data_is_idempotent(
    shequyun_kernel, shequyun_units, shequyun_client, shequyun_actors
):
    from shequyun_advisors.models import AdvisorPoint

    cadre = shequyun_actors.cadre("310104003001")
    for serial, born, tags in ((401, "19500101", []), (402, "19600101", ["残疾", "低保"])):
        shequyun_client.post(
            "/api/v1/residents",
            headers=cadre.auth,
            json={
                "name": f"天平居民{serial}",
                "id_number": id_number(serial, born=born),
                "registration": "户籍",
                "tags": tags,
            },
        )
    record = shequyun_kernel.host.records["advisors"]
    first = shequyun_kernel.host.call(
        record,
        "load_demo_data",
        platform=shequyun_kernel.platform,
        actor=shequyun_kernel.platform.plugin_actor("advisors"),
    )
    assert "顾问点 1 个" in first, first
    again = shequyun_kernel.host.call(
        record,
        "load_demo_data",
        platform=shequyun_kernel.platform,
        actor=shequyun_kernel.platform.plugin_actor("advisors"),
    )
    assert "未重复创建" in again
    with Session(shequyun_kernel.engine) as session:
        assert len(session.exec(select(AdvisorPoint)).all()) == 1


def test_every_page_renders_for_its_users(shequyun_client, shequyun_actors):
    street = shequyun_actors.street_admin(WEIFANG).portal()
    cadre = shequyun_actors.cadre(WEIFANG1)
    shequyun_client.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={
            "name": "王秀英",
            "id_number": id_number(501, born="19500101"),
            "registration": "户籍",
        },
    )
    refreshed = street.post("/plugins/advisors/sync", data={"unit": WEIFANG}, follow_redirects=True)
    assert refreshed.status_code == 200 and "新发现 " in refreshed.text
    page = street.get("/plugins/advisors/")
    assert page.status_code == 200 and "王秀英" in page.text and "<svg" in page.text
    case_id = re.search(r"/plugins/advisors/cases/(\d+)", page.text).group(1)
    assert street.get(f"/plugins/advisors/cases/{case_id}").status_code == 200
    for path in (
        "/plugins/advisors/policies",
        "/plugins/advisors/policies/sh-minimum-living",
        "/plugins/advisors/figures",
    ):
        response = street.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    district = shequyun_actors.district_admin().portal()
    assert district.get("/plugins/advisors/policies/new").status_code == 200
    assert district.get("/plugins/advisors/").status_code == 403  # no outreach at district level
    advisor = shequyun_actors.make("advisors.advisor", WEIFANG).portal()
    assert advisor.get("/plugins/advisors/desk").status_code == 200
    other = shequyun_actors.make("advisors.advisor", "310115005000").portal()
    assert other.get(f"/plugins/advisors/cases/{case_id}").status_code == 404


def test_the_english_catalog_covers_every_message():
    catalog = (SOURCE / "locale/en/LC_MESSAGES/advisors.po").read_text(encoding="utf-8")
    translated = set(re.findall(r'^msgid "(.+)"$', catalog, re.MULTILINE))
    wanted = set()
    for template in (SOURCE / "templates").glob("*.html"):
        wanted |= set(re.findall(r'_\("([^"]+)"\)', template.read_text(encoding="utf-8")))
        wanted |= set(re.findall(r"_\('([^']+)'\)", template.read_text(encoding="utf-8")))
    for path in SOURCE.glob("*.py"):
        wanted |= set(re.findall(r'_\("([^"]+)"', path.read_text(encoding="utf-8")))
    from shequyun_advisors import core, desk, policies
    from shequyun_advisors.policy.model import VERDICT_TITLES

    wanted |= {title for title, _ in core.STATUSES.values()} | {t for _, t in core.STAGES}
    wanted |= set(VERDICT_TITLES.values()) | set(policies.CATEGORIES.values())
    wanted |= set(policies.LEVELS.values()) | set(desk.KINDS.values())
    wanted |= set(desk.CHANNELS.values()) | set(desk.SECTORS.values())
    missing = sorted(wanted - translated)
    assert missing == [], missing


def test_notices_reach_residents_with_an_account_through_the_interaction_plugin(
    shequyun_client, shequyun_actors, drain_events
):
    cadre = shequyun_actors.cadre(WEIFANG1)
    resident = shequyun_client.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={
            "name": "周阿姨",
            "id_number": id_number(601, born="19500101"),
            "registration": "户籍",
            "phone": "13900000601",
        },
    ).json()
    code = shequyun_client.post(
        "/api/v1/plugins/interaction/manage/codes",
        json={"resident_id": resident["id"]},
        headers=cadre.auth,
    )
    assert code.status_code in (200, 201), code.text
    shequyun_client.post(
        "/api/v1/plugins/interaction/auth/signup",
        json={"phone": "13900000601", "password": "Resident-pass-1"},
    )
    login = shequyun_client.post(
        "/api/v1/plugins/interaction/auth/login",
        json={"phone": "13900000601", "password": "Resident-pass-1"},
    )
    headers = {"X-Resident-Token": login.json()["token"]}
    verified = shequyun_client.post(
        "/api/v1/plugins/interaction/me/verify",
        json={"code": code.json()["code"], "name": "周阿姨"},
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    street = shequyun_actors.street_admin(WEIFANG)
    shequyun_client.post(f"{API}/outreach/sync", json={}, headers=street.auth)
    sent = shequyun_client.post(
        f"{API}/outreach/notify", json={"policy": "sh-elderly-allowance"}, headers=street.auth
    )
    assert sent.status_code == 202 and sent.json()["residents"] == 1
    drain_events()
    drain_events()
    notes = shequyun_client.get("/api/v1/plugins/interaction/notifications", headers=headers)
    titles = [n["title"] for n in notes.json()["items"]]
    assert titles.count("您可能符合「上海市老年综合津贴」") == 1
