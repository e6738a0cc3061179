"""民情日志 over the API: what a visit is linked to, who reads it, coverage, the managed list."""

from __future__ import annotations

from .conftest import STREET, WANPING


def log(xuhui, who, **body):
    created = xuhui.call(who, "POST", "/logs", {"kind": "visit", "category": "help", **body})
    assert created.status_code == 201, created.text
    return created.json()


def test_a_visit_names_a_resident_a_household_a_building_or_just_the_committee(xuhui):
    resident_id = xuhui.resident("王秀英", building="12", room="402")
    xuhui.resident("李建国", building="7", room="101")
    households = xuhui.call(xuhui.cadre, "GET", "/picks?kind=household").json()["items"]
    buildings = xuhui.call(xuhui.cadre, "GET", "/picks?kind=building").json()["items"]
    assert len(households) == 2 and len(buildings) == 2
    household = next(h for h in households if h["label"].startswith("宛平小区7号楼101室"))

    by_resident = log(xuhui, xuhui.cadre, subject=f"resident:{resident_id}", follow_up=True)
    assert by_resident["subject"]["label"].startswith("王秀英")
    assert by_resident["body"] == "入户走访" and by_resident["follow_up"] is True
    by_household = log(xuhui, xuhui.cadre, subject=household["key"], category="policy")
    assert by_household["subject"]["key"] == household["key"]
    by_building = log(
        xuhui,
        xuhui.cadre,
        kind="observation",
        category="safety",
        subject=buildings[0]["key"],
        body="楼道堆放纸箱，影响消防通道",
    )
    assert by_building["kind_label"] == "发现" and by_building["category"] == "安全隐患"
    committee_only = log(xuhui, xuhui.cadre, kind="observation", body="小区门口积水")
    assert committee_only["subject"] is None
    assert committee_only["unit"]["name"] == "宛平南路居委会"

    follow = xuhui.call(xuhui.cadre, "GET", "/logs?follow_up=1").json()["items"]
    assert [e["id"] for e in follow] == [by_resident["id"]]
    # The street and the district read the committee's log; the sibling committee does not.
    listed = xuhui.call(xuhui.district, "GET", f"/logs?unit_code={WANPING}").json()["items"]
    assert len(listed) == 4
    assert xuhui.call(xuhui.street, "GET", f"/logs/{by_building['id']}").status_code == 200
    assert xuhui.call(xuhui.sibling, "GET", f"/logs/{by_building['id']}").status_code == 404
    assert xuhui.call(xuhui.sibling, "GET", "/logs").json()["items"] == []


def test_bad_visits_name_the_field_and_only_committees_log(xuhui):
    bad = xuhui.call(
        xuhui.cadre,
        "POST",
        "/logs",
        {"kind": "party", "category": "nope", "occurred_on": "2099-01-01"},
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"kind", "category", "body", "occurred_on"}
    # An observation says what was seen; a resident of another committee is not to be found.
    resident_id = xuhui.resident("王秀英")
    empty = xuhui.call(xuhui.cadre, "POST", "/logs", {"kind": "observation", "category": "help"})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "body"
    foreign = xuhui.call(
        xuhui.sibling, "POST", "/logs", {"category": "help", "subject": f"resident:{resident_id}"}
    )
    assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "subject"
    street = xuhui.call(xuhui.street, "POST", "/logs", {"category": "help"})
    assert street.status_code == 403
    assert xuhui.call(xuhui.district, "GET", "/logs").json()["items"] == []  # nothing written


def test_coverage_counts_households_visited_and_lists_the_others(xuhui):
    first = xuhui.resident("王秀英", building="12", room="402")
    xuhui.resident("王小明", building="12", room="402")  # the same household
    xuhui.resident("李建国", building="7", room="101")
    xuhui.resident("赵敏", building="3", room="202")
    xuhui.resident("孙丽", building="3", room="301")
    before = xuhui.call(xuhui.cadre, "GET", f"/coverage?unit_code={WANPING}").json()
    assert (before["households"], before["visited"]) == (4, 0)
    assert len(before["not_visited"]) == 4

    log(xuhui, xuhui.cadre, subject=f"resident:{first}")
    log(xuhui, xuhui.cadre, subject=f"resident:{first}")  # twice: still one household
    log(xuhui, xuhui.cadre, kind="observation", body="路灯不亮")  # not a visit to anyone
    after = xuhui.call(xuhui.cadre, "GET", f"/coverage?unit_code={WANPING}").json()
    assert (after["households"], after["visited"]) == (4, 1)
    assert after["committees"] == [
        {
            "unit_id": after["committees"][0]["unit_id"],
            "name": "宛平南路居委会",
            "households": 4,
            "visited": 1,
            "share": 0.25,
        }
    ]
    labels = sorted(h["label"] for h in after["not_visited"])
    assert len(labels) == 3 and not any("12号楼402" in label for label in labels)

    # The street sees each committee's figure; the sibling has no households yet.
    street = xuhui.call(xuhui.street, "GET", f"/coverage?unit_code={STREET}").json()
    assert "not_visited" not in street
    assert {c["name"]: c["visited"] for c in street["committees"]}.get("宛平南路居委会") == 1
    hidden = xuhui.call(xuhui.sibling, "GET", f"/coverage?unit_code={WANPING}")
    assert hidden.status_code == 422 and hidden.json()["error"]["field"] == "unit_code"
    assert xuhui.call(xuhui.cadre, "GET", "/coverage?months=99").status_code == 422
    page = xuhui.cadre.portal().get("/plugins/governance/coverage").text
    assert "<b>1</b>/4 户已走访" in page and "未走访的家庭户（3 户）" in page
    assert "subject=household%3A" in page and "宛平小区12号楼402室" not in page


def test_a_log_becomes_a_case_once_through_the_api(xuhui):
    entry = log(xuhui, xuhui.cadre, kind="observation", category="safety", body="3号楼电梯异响")
    made = xuhui.call(xuhui.cadre, "POST", f"/logs/{entry['id']}/case", {"category": "facility"})
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["source"] == "fieldlog" and case["status"] == "handling"
    assert case["title"] == "设施维修：3号楼电梯异响"
    again = xuhui.call(xuhui.cadre, "POST", f"/logs/{entry['id']}/case", {"category": "facility"})
    assert again.status_code == 409
    assert xuhui.call(xuhui.cadre, "GET", f"/logs/{entry['id']}").json()["case_id"] == case["id"]
    # A visit written down without text is titled by whom it was to.
    resident_id = xuhui.resident("王秀英", building="12", room="402")
    visit = log(xuhui, xuhui.cadre, subject=f"resident:{resident_id}")
    aid = xuhui.call(xuhui.cadre, "POST", f"/logs/{visit['id']}/case", {"category": "aid"})
    assert aid.json()["title"] == "民生救助：王秀英 · 宛平小区12号楼402室"
    other = log(xuhui, xuhui.cadre, kind="observation", body="垃圾满溢")
    assert xuhui.call(xuhui.cadre, "POST", f"/logs/{other['id']}/case", {}).status_code == 422
    # The street reads the log but the case is the committee's to open.
    refused = xuhui.call(xuhui.street, "POST", f"/logs/{other['id']}/case", {"category": "other"})
    assert refused.status_code == 403
    sibling = xuhui.call(xuhui.sibling, "POST", f"/logs/{other['id']}/case", {"category": "other"})
    assert sibling.status_code == 404


def test_the_platform_admin_extends_the_managed_list(xuhui):
    admin = xuhui.actors.platform_admin()
    added = xuhui.call(
        admin, "POST", "/categories", {"kind": "log", "code": "elderly", "name": "为老服务"}
    )
    assert added.status_code == 201, added.text
    names = [
        c["name"] for c in xuhui.call(xuhui.cadre, "GET", "/categories?kind=log").json()["items"]
    ]
    assert "为老服务" in names
    # A routine visit logged in three taps keeps the first category: 日常走访, not 困难帮扶.
    assert names[:2] == ["日常走访", "困难帮扶"]
    form = xuhui.cadre.portal().get("/plugins/governance/logs/new").text
    first = form[form.index('<select id="category"') :].split("</option>")[0]
    assert first.endswith(">日常走访")
    assert log(xuhui, xuhui.cadre, category="elderly")["category"] == "为老服务"
    twice = xuhui.call(
        admin, "POST", "/categories", {"kind": "log", "code": "elderly", "name": "x"}
    )
    assert twice.status_code == 409 and twice.json()["error"]["field"] == "code"
    denied = xuhui.call(
        xuhui.district, "POST", "/categories", {"kind": "log", "code": "noise", "name": "噪音"}
    )
    assert denied.status_code == 403
