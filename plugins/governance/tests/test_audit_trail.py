"""Every state-changing route of 社区治理, API and pages, and the audit entries each one leaves.

Every case step is a decision on a case someone else opened or handles, so each is audited by
the one function both doors call (``cases.record_step``); so are field logs, categories and
knowledge articles. A case step also adds the same actions, in the same order, to the case's
history (its steps), which the API walk checks beside the audit entries. A new POST, PUT, PATCH
or DELETE route fails ``test_every_state_changing_route_has_a_step`` until a step here says
what it leaves.
"""

from __future__ import annotations

import shequyun_governance
from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes

from .conftest import API, DISTRICT, STREET, WANPING
from .test_pages import BASE, csrf

API_ROUTES = [
    f"POST {API}/categories",
    f"POST {API}/cases",
    f"POST {API}/cases/{{case_id}}/steps/{{action}}",
    f"POST {API}/intake/requests",
    f"POST {API}/logs",
    f"POST {API}/logs/{{log_id}}/case",
    f"POST {API}/articles",
    f"PUT {API}/articles/{{article_id}}",
    f"DELETE {API}/articles/{{article_id}}",
]
PAGE_ROUTES = [
    f"POST {BASE}/cases/new",
    f"POST {BASE}/cases/{{case_id:int}}/steps/{{action}}",
    f"POST {BASE}/logs/new",
    f"POST {BASE}/logs/{{log_id:int}}",
    f"POST {BASE}/knowledge/new",
    f"POST {BASE}/knowledge/{{article_id:int}}/edit",
]

#: What every case step's entry holds (the case's number and status after the step) and what
#: each step adds.
_CASE = {"number", "status"}
DETAIL = {
    "governance.category_added": [{"kind", "code", "name"}],
    "governance.log_recorded": [{"kind", "category"}],
    "governance.case_open": [_CASE | {"due_on", "accept_due"}],
    "governance.case_dispatch": [_CASE | {"due_on", "accept_due"}],
    "governance.case_accept": [_CASE | {"late"}],
    "governance.case_handle": [_CASE],
    "governance.case_report": [_CASE],
    "governance.case_return": [_CASE],
    "governance.case_verify": [_CASE | {"passed"}],
    "governance.case_close": [_CASE | {"punctuality"}],
    "governance.case_reject": [_CASE],
    "governance.case_escalate": [_CASE],
    "governance.case_reassign": [_CASE | {"accept_due"}],
    "governance.case_extend": [_CASE | {"days"}],
    "governance.case_extend_grant": [_CASE | {"days", "due_on"}],
    "governance.case_extend_deny": [_CASE | {"days"}],
    "governance.case_supervise": [_CASE | {"times"}],
    "governance.case_revisit": [_CASE | {"satisfaction"}],
    "governance.article_published": [{"version", "title"}],
    "governance.article_revised": [{"version", "title"}],
    "governance.article_withdrawn": [{"version", "title"}],
}
CASE = "governance_case"


def test_every_state_changing_route_has_a_step(shequyun_app):
    assert state_changing_routes(shequyun_app, "governance") == {*API_ROUTES, *PAGE_ROUTES}


def trail_for(xuhui) -> AuditTrail:
    reader = xuhui.actors.platform_admin().auth
    return AuditTrail(xuhui.client, reader, detail=DETAIL, manifest=shequyun_governance.MANIFEST)


def test_the_api_audits_every_write_and_every_case_step(xuhui):
    operations = xuhui.actors.make("governance.operations_platform", DISTRICT)
    admin = xuhui.actors.platform_admin()
    trail = trail_for(xuhui)
    steps = f"POST {API}/cases/{{case_id}}/steps/{{action}}"

    def history(case_id):
        """The case's steps (its history, kept beside the audit log), oldest first."""
        case = xuhui.call(xuhui.district, "GET", f"/cases/{case_id}")
        assert case.status_code == 200, case.text
        return [s["action"] for s in case.json()["history"]]

    def step(who, case_id, action, expected, **body):
        """Take a step: one audit entry and one history row for each action it records."""
        before = history(case_id)
        answer = trail.step(
            steps,
            xuhui.step(who, case_id, action, **body),
            audit=[(f"governance.case_{a}", CASE, values) for a, values in expected],
        )
        assert history(case_id)[len(before) :] == [a for a, _ in expected]
        return answer

    trail.step(
        f"POST {API}/categories",
        xuhui.call(admin, "POST", "/categories", {"kind": "case", "code": "lift", "name": "电梯"}),
        status=201,
        audit=[("governance.category_added", "governance_category", {"code": "lift"})],
    )
    case = trail.step(
        f"POST {API}/cases",
        xuhui.call(
            xuhui.street,
            "POST",
            "/cases",
            {
                "title": "路灯不亮",
                "description": "两盏路灯不亮",
                "category": "facility",
                "unit_code": WANPING,
            },
        ),
        status=201,
        audit=[("governance.case_dispatch", CASE, {"status": "pending"})],
    ).json()
    assert history(case["id"]) == ["dispatch"]
    # The committee takes it, asks for more time, is refused, then granted; reports; the street
    # sends the report back once, then passes it (核查 and 结案 are two entries); 回访.
    step(xuhui.cadre, case["id"], "accept", [("accept", {"status": "handling"})])
    step(xuhui.cadre, case["id"], "extend", [("extend", {"days": 2})], days=2, note="等配件")
    step(xuhui.street, case["id"], "extend_deny", [("extend_deny", {"days": 2})])
    step(xuhui.cadre, case["id"], "extend", [("extend", {"days": 1})], days=1, note="等配件")
    step(xuhui.street, case["id"], "extend_grant", [("extend_grant", {"days": 1})])
    step(xuhui.district, case["id"], "supervise", [("supervise", {"times": 1})], note="抓紧")
    step(xuhui.cadre, case["id"], "handle", [("handle", {"status": "handling"})], note="已报修")
    step(xuhui.cadre, case["id"], "report", [("report", {"status": "reported"})], note="已修好")
    step(
        xuhui.street,
        case["id"],
        "verify",
        [("return", {"status": "handling"})],
        passed=False,
        note="还有一盏不亮",
    )
    step(xuhui.cadre, case["id"], "report", [("report", {"status": "reported"})], note="都修好")
    step(
        xuhui.street,
        case["id"],
        "verify",
        [("verify", {"passed": True}), ("close", {"status": "closed"})],
        passed=True,
    )
    step(
        xuhui.street,
        case["id"],
        "revisit",
        [("revisit", {"satisfaction": "satisfied"})],
        satisfaction="satisfied",
        note="居民满意",
    )
    # Another case: the committee hands it back (退单) and the street closes it itself; a third
    # goes up (上报) and is handed down again (转派).
    second = xuhui.open(xuhui.street, unit_code=WANPING)
    trail.mark()
    step(
        xuhui.cadre, second["id"], "reject", [("reject", {"status": "returned"})], note="不属本居委"
    )
    step(xuhui.street, second["id"], "close", [("close", {"status": "closed"})], note="街道自办")
    third = xuhui.open(xuhui.street, unit_code=WANPING)
    trail.mark()
    step(
        xuhui.cadre,
        third["id"],
        "escalate",
        [("escalate", {"status": "returned"})],
        note="需街道协调",
    )
    step(
        xuhui.street,
        third["id"],
        "reassign",
        [("reassign", {"status": "pending"})],
        unit_code=WANPING,
        note="请居委会办理",
    )
    # A refused step writes nothing.
    refused = xuhui.step(xuhui.sibling, third["id"], "accept")
    assert refused.status_code == 404, refused.text
    assert trail.entries() == []

    trail.step(
        f"POST {API}/intake/requests",
        xuhui.client.post(
            f"{API}/intake/requests",
            headers=operations.auth,
            json={
                "service_request_id": "SH-TRAIL-0001",
                "service_code": "environment",
                "description": "垃圾箱房满溢",
                "unit_code": STREET,
            },
        ),
        status=201,
        audit=[("governance.case_dispatch", CASE, {"status": "pending"})],
    )
    log = trail.step(
        f"POST {API}/logs",
        xuhui.call(xuhui.cadre, "POST", "/logs", {"kind": "visit", "category": "help"}),
        status=201,
        audit=[("governance.log_recorded", "governance_log", {"kind": "visit"})],
    ).json()
    trail.step(
        f"POST {API}/logs/{{log_id}}/case",
        xuhui.call(xuhui.cadre, "POST", f"/logs/{log['id']}/case", {"category": "aid"}),
        status=201,
        audit=[("governance.case_open", CASE, {"status": "handling"})],
    )
    article = trail.step(
        f"POST {API}/articles",
        xuhui.call(
            xuhui.street,
            "POST",
            "/articles",
            {"kind": "answer", "title": "路灯报修", "body": "路灯报修流程。", "categories": []},
        ),
        status=201,
        audit=[("governance.article_published", "governance_article", {"version": 1})],
    ).json()
    trail.step(
        f"PUT {API}/articles/{{article_id}}",
        xuhui.call(
            xuhui.street,
            "PUT",
            f"/articles/{article['id']}",
            {
                "kind": "answer",
                "title": "路灯报修指南",
                "body": "路灯报修流程。",
                "categories": [],
                "version": 1,
            },
        ),
        audit=[("governance.article_revised", "governance_article", {"version": 2})],
    )
    trail.step(
        f"DELETE {API}/articles/{{article_id}}",
        xuhui.call(xuhui.street, "DELETE", f"/articles/{article['id']}"),
        status=(200, 204),
        audit=[("governance.article_withdrawn", "governance_article")],
    )
    trail.check_walked(API_ROUTES)


def test_the_pages_leave_the_same_entries_as_the_api(xuhui):
    street, cadre = xuhui.street.portal(), xuhui.cadre.portal()
    trail = trail_for(xuhui)
    form = street.get(f"{BASE}/cases/new")
    created = trail.step(
        f"POST {BASE}/cases/new",
        street.post(
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
        ),
        status=303,
        audit=[("governance.case_dispatch", CASE, {"status": "pending"})],
    )
    page = cadre.get(created.headers["location"])
    trail.step(
        f"POST {BASE}/cases/{{case_id:int}}/steps/{{action}}",
        cadre.post(
            created.headers["location"] + "/steps/accept",
            data={"csrf_token": csrf(page.text), "version": "1"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("governance.case_accept", CASE, {"status": "handling"})],
    )
    form = cadre.get(f"{BASE}/logs/new")
    saved = trail.step(
        f"POST {BASE}/logs/new",
        cadre.post(
            f"{BASE}/logs/new",
            data={"csrf_token": csrf(form.text), "kind": "visit", "category": "help"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("governance.log_recorded", "governance_log", {"kind": "visit"})],
    )
    entry = saved.headers["location"].split("?")[0]
    trail.step(
        f"POST {BASE}/logs/{{log_id:int}}",
        cadre.post(
            entry,
            data={"csrf_token": csrf(cadre.get(entry).text), "category": "aid"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("governance.case_open", CASE, {"status": "handling"})],
    )
    form = street.get(f"{BASE}/knowledge/new")
    published = trail.step(
        f"POST {BASE}/knowledge/new",
        street.post(
            f"{BASE}/knowledge/new",
            data={
                "csrf_token": csrf(form.text),
                "kind": "answer",
                "title": "停车问答",
                "body": "小区停车常见问题。",
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[("governance.article_published", "governance_article", {"version": 1})],
    )
    article = published.headers["location"].split("?")[0]
    edit = street.get(f"{article}/edit")
    trail.step(
        f"POST {BASE}/knowledge/{{article_id:int}}/edit",
        street.post(
            f"{article}/edit",
            data={
                "csrf_token": csrf(edit.text),
                "kind": "answer",
                "title": "小区停车问答",
                "body": "小区停车常见问题。",
                "version": "1",
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[("governance.article_revised", "governance_article", {"version": 2})],
    )
    trail.check_walked(PAGE_ROUTES)


def test_every_case_step_and_article_action_is_declared():
    """The 审计日志 names an action, and offers it as a filter, from the manifest."""
    from shequyun_governance.cases import ACTIONS

    declared = set(shequyun_governance.MANIFEST["audit_actions"])
    assert {f"governance.case_{action}" for action in ACTIONS} <= declared
    assert set(DETAIL) == declared
