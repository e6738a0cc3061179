"""The policy pool in the portal, dated parameters, the questionnaire, advisors and resources."""

from __future__ import annotations

from datetime import date, timedelta

import yaml
from shequyun_advisors.policy.evaluate import Facts, evaluate
from shequyun_advisors.policy.loader import parse, shipped_policies
from shequyun_advisors.pool import compiled
from sqlalchemy import select
from sqlmodel import Session

from .conftest import API, LUJIAZUI1, WEIFANG, WEIFANG1, id_number

DISTRICT_POLICY = """
id: pudong-elderly-meal
name: 浦东新区高龄老人助餐补贴（测试）
issuer: 浦东新区民政局
level: district
category: elderly
documents: [{id: doc, title: 区助餐补贴办法, issuer: 浦东新区民政局}]
document: doc
effective: {from: 2026-01-01}
conditions:
  all:
    - {id: place, place: ["310115000000"]}
    - {id: age, age_min: 80}
parameters:
  daily:
    title: 助餐补贴
    unit: 元/天
    values: [{from: 2026-01-01, document: doc, value: 3}]
benefit: {kind: amount, parameter: daily, per: month, text: 堂食补贴}
receiving: {recorded: true}
cases:
  - name: 85岁
    day: 2026-12-01
    person: {birth_date: 1941-01-01, units: ["310115000000"]}
    expect: {verdict: eligible, amount: 3}
"""


def test_a_district_adds_a_policy_of_its_own_and_a_new_version_replaces_it(
    shequyun_client, shequyun_actors
):
    pudong = shequyun_actors.district_admin()
    response = shequyun_client.post(
        f"{API}/policies", json={"source": DISTRICT_POLICY}, headers=pudong.auth
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"id": "pudong-elderly-meal", "version": 1}
    again = shequyun_client.post(
        f"{API}/policies",
        json={
            "source": DISTRICT_POLICY.replace("value: 3", "value: 4").replace(
                "amount: 3", "amount: 4"
            ),
            "note": "提高标准",
        },
        headers=pudong.auth,
    )
    assert again.json()["version"] == 2
    detail = shequyun_client.get(f"{API}/policies/pudong-elderly-meal", headers=pudong.auth).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["parameters"][0]["values"][0]["value"] == 4
    # a city policy, or one reaching outside the district, belongs to the city level
    city = DISTRICT_POLICY.replace("level: district", "level: city")
    assert (
        shequyun_client.post(
            f"{API}/policies", json={"source": city}, headers=pudong.auth
        ).status_code
        == 403
    )
    xuhui = DISTRICT_POLICY.replace(
        '"310115000000"]}\n    - {id: age', '"310104000000"]}\n    - {id: age'
    )
    assert (
        shequyun_client.post(
            f"{API}/policies", json={"source": xuhui}, headers=pudong.auth
        ).status_code
        == 403
    )


def test_a_bad_policy_is_refused_with_every_problem_and_nothing_saved(
    shequyun_client, shequyun_actors
):
    pudong = shequyun_actors.district_admin()
    bad = DISTRICT_POLICY.replace("age_min: 80", "age_min: old").replace("amount: 3", "amount: 9")
    response = shequyun_client.post(f"{API}/policies", json={"source": bad}, headers=pudong.auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "conditions.all.1.age_min"
    failing_case = DISTRICT_POLICY.replace("amount: 3", "amount: 9")
    response = shequyun_client.post(
        f"{API}/policies", json={"source": failing_case}, headers=pudong.auth
    )
    assert response.status_code == 422 and "amount" in response.json()["error"]["message"]
    ids = [
        p["id"] for p in shequyun_client.get(f"{API}/policies", headers=pudong.auth).json()["items"]
    ]
    assert "pudong-elderly-meal" not in ids
    cadre = shequyun_actors.cadre()
    assert (
        shequyun_client.post(
            f"{API}/policies", json={"source": DISTRICT_POLICY}, headers=cadre.auth
        ).status_code
        == 403
    )


def test_a_parameter_dated_next_month_does_not_change_todays_amounts(
    shequyun_kernel, shequyun_actors, shequyun_client
):
    today = date(2026, 12, 6)
    next_month = date(2027, 1, 1)
    shipped = next(p for p in shipped_policies() if p.id == "sh-elderly-allowance")
    raw = yaml.safe_load(yaml.safe_dump(dict(shipped.source)))
    raw["parameters"]["monthly"]["values"].append(
        {
            "from": next_month.isoformat(),
            "document": raw["documents"][0]["id"],
            "bands": [{"min_age": 65, "max_age": 69, "value": 100}, {"min_age": 70, "value": 200}],
        }
    )
    policy = parse(raw)
    person = Facts(birth_date=date(1955, 1, 1), registration="huji", tags=frozenset())
    assert evaluate(policy, person, today).amount == 150
    assert evaluate(policy, person, next_month - timedelta(days=1)).amount == 150
    assert evaluate(policy, person, next_month).amount == 200
    # and the SQL says the same about a real resident
    cadre = shequyun_actors.cadre(WEIFANG1)
    shequyun_client.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={
            "name": "陈阿婆",
            "id_number": id_number(201, born="19550101"),
            "registration": "户籍",
        },
    )
    platform = shequyun_kernel.platform
    with Session(shequyun_kernel.engine) as session:
        people = platform.resident_population(cadre.actor)
        for day, amount in ((today, 150), (next_month, 200)):
            query = compiled(platform, session, policy, people, day)
            assert session.execute(select(query.columns.amount)).scalar_one() == amount


def test_the_questionnaire_says_needs_information_without_a_birth_date(
    shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    response = shequyun_client.post(
        f"{API}/evaluate",
        json={
            "policy": "sh-elderly-allowance",
            "day": "2026-12-06",
            "person": {"registration": "huji"},
        },
        headers=cadre.auth,
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["verdict"] == "needs_information"
    assert result["conditions"][1]["reason"] == "缺少出生日期，无法判断是否年满65周岁"
    bad = shequyun_client.post(
        f"{API}/evaluate", json={"person": {"birth_date": "昨天"}}, headers=cadre.auth
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "person"


def test_points_advisors_services_and_monthly_figures(shequyun_client, shequyun_actors):
    street = shequyun_actors.street_admin(WEIFANG)
    point = shequyun_client.post(
        f"{API}/points",
        json={
            "name": "潍坊新村街道顾问点",
            "kind": "both",
            "unit": WEIFANG,
            "address": "潍坊路1号",
        },
        headers=street.auth,
    )
    assert point.status_code == 201, point.text
    advisor_user = shequyun_actors.make("advisors.advisor", WEIFANG)
    advisor = shequyun_client.post(
        f"{API}/advisors",
        json={
            "name": "顾问甲",
            "kind": "elderly",
            "point_id": point.json()["id"],
            "user_id": advisor_user.user.id,
        },
        headers=street.auth,
    )
    assert advisor.status_code == 201, advisor.text
    cadre = shequyun_actors.cadre(WEIFANG1)
    resident = shequyun_client.post(
        "/api/v1/residents",
        headers=cadre.auth,
        json={
            "name": "李老伯",
            "id_number": id_number(301, born="19400101"),
            "registration": "户籍",
            "tags": ["独居老人"],
        },
    ).json()
    record = shequyun_client.post(
        f"{API}/services",
        json={
            "kind": "home_visit",
            "channel": "offline",
            "summary": "上门介绍长护险评估",
            "resident_id": resident["id"],
        },
        headers=advisor_user.auth,
    )
    assert record.status_code == 201, record.text
    missing = shequyun_client.post(
        f"{API}/services", json={"kind": "visit"}, headers=advisor_user.auth
    )
    assert missing.status_code == 422
    assert {d["field"] for d in missing.json()["error"]["details"]} == {
        "kind",
        "channel",
        "summary",
    }
    # a resident of another street cannot be named
    other = shequyun_actors.cadre(LUJIAZUI1)
    away = shequyun_client.post(
        "/api/v1/residents",
        headers=other.auth,
        json={"name": "外街道居民", "id_number": id_number(302), "registration": "户籍"},
    ).json()
    refused = shequyun_client.post(
        f"{API}/services",
        json={
            "kind": "consultation",
            "channel": "phone",
            "summary": "咨询",
            "resident_id": away["id"],
        },
        headers=advisor_user.auth,
    )
    assert refused.status_code == 404
    log = shequyun_client.get(f"{API}/services", headers=advisor_user.auth).json()["items"]
    assert [(r["kind"], r["resident"]) for r in log] == [("上门探访", "李老伯")]
    figures = shequyun_client.get(f"{API}/figures/monthly", headers=street.auth).json()
    assert figures["total"] == {"points": 1, "advisors": 1, "services": 1, "people": 1}
    assert [c["unit"]["code"] for c in figures["children"]] == [WEIFANG, WEIFANG1]
    resource = shequyun_client.post(
        f"{API}/resources",
        json={
            "name": "长者食堂",
            "sector": "government",
            "services": ["助餐"],
            "needs": ["独居老人"],
            "provider": "街道",
            "unit": WEIFANG,
            "capacity": 80,
        },
        headers=street.auth,
    )
    assert resource.status_code == 201, resource.text
    matched = shequyun_client.get(
        f"{API}/residents/{resident['id']}/resources", headers=street.auth
    ).json()["items"]
    assert [(m["name"], m["matches"]) for m in matched] == [("长者食堂", ["独居老人"])]


def test_the_desk_names_a_bad_resident_number_by_its_label(shequyun_client, shequyun_actors):
    street = shequyun_actors.street_admin(WEIFANG)
    advisor_user = shequyun_actors.make("advisors.advisor", WEIFANG)
    point = shequyun_client.post(
        f"{API}/points",
        json={"name": "潍坊新村街道顾问点", "kind": "both", "unit": WEIFANG},
        headers=street.auth,
    )
    shequyun_client.post(
        f"{API}/advisors",
        json={
            "name": "顾问丙",
            "kind": "elderly",
            "point_id": point.json()["id"],
            "user_id": advisor_user.user.id,
        },
        headers=street.auth,
    )
    page = advisor_user.portal().post(
        "/plugins/advisors/desk",
        data={"kind": "consultation", "channel": "phone", "summary": "咨询", "resident_id": "12a"},
        follow_redirects=False,
    )
    assert page.status_code == 422
    assert "居民编号：应为 0 到 2147483647 之间的整数" in page.text
    assert "resident_id 应为" not in page.text
    log = shequyun_client.get(f"{API}/services", headers=advisor_user.auth).json()["items"]
    assert log == []
