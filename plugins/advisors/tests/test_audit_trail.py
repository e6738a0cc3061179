"""Every state-changing route of 民生顾问, API and pages, and the audit entries each one leaves.

Everything staff do here touches residents' data or decides for them (a sync finds candidates,
an outcome or an assignment moves a follow-up, a notice reaches residents, a service record is
about a resident), and the pool's policies and the desk's points, advisors and resources are
the city's reference data: all audited by the one service function both doors call. The
questionnaire (``POST /evaluate``) only evaluates the facts it is sent, reads no resident and
keeps nothing, so it leaves no entry. An assignment and an outcome also add an event to the
follow-up's history, checked beside the entries. A new POST, PUT, PATCH or DELETE route fails
``test_every_state_changing_route_has_a_step`` until a step here says what it leaves.
"""

from __future__ import annotations

import re

import shequyun_advisors
from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes

from .conftest import API, WEIFANG, WEIFANG1, WEIFANG2, id_number
from .test_pool_and_desk import DISTRICT_POLICY

BASE = "/plugins/advisors"
API_ROUTES = [
    f"POST {API}/policies",
    f"POST {API}/evaluate",
    f"POST {API}/outreach/sync",
    f"POST {API}/outreach/cases/{{case_id}}/outcome",
    f"POST {API}/outreach/cases/{{case_id}}/assign",
    f"POST {API}/outreach/notify",
    f"POST {API}/points",
    f"POST {API}/advisors",
    f"POST {API}/services",
    f"POST {API}/resources",
]
PAGE_ROUTES = [
    f"POST {BASE}/sync",
    f"POST {BASE}/cases/{{case_id:int}}",
    f"POST {BASE}/policies/new",
    f"POST {BASE}/desk",
]
DETAIL = {
    "advisors.policy_saved": [{"version"}],
    "advisors.synced": [{"found", "day"}],
    "advisors.outcome_recorded": [{"policy", "from", "to"}],
    "advisors.case_assigned": [{"assignee"}],
    "advisors.notices_sent": [{"policy", "residents"}],
    "advisors.point_created": [set()],
    "advisors.advisor_created": [set()],
    "advisors.service_recorded": [{"kind", "resident_id"}],
    "advisors.resource_created": [set()],
}
CASE = "advisors_case"


def test_every_state_changing_route_has_a_step(shequyun_app):
    assert state_changing_routes(shequyun_app, "advisors") == {*API_ROUTES, *PAGE_ROUTES}


def residents(client, actors) -> dict[str, int]:
    """王秀英 (72, 户籍: 老年综合津贴) in 潍坊一村 and a low-income resident in 潍坊二村."""
    made = {}
    for key, unit, serial, born, tags in (
        ("elder", WEIFANG1, 401, "19540301", []),
        ("poor", WEIFANG2, 402, "19700301", ["低收入"]),
    ):
        created = client.post(
            "/api/v1/residents",
            headers=actors.cadre(unit).auth,
            json={
                "name": f"居民{serial}",
                "id_number": id_number(serial, born=born),
                "registration": "户籍",
                "household_number": f"H{serial}",
                "tags": tags,
            },
        )
        assert created.status_code == 201, created.text
        made[key] = created.json()["id"]
    return made


def register(client, street, advisor_user) -> None:
    """A point of 潍坊新村街道 with ``advisor_user`` as its registered advisor."""
    point = client.post(
        f"{API}/points",
        json={"name": "潍坊新村街道顾问点", "kind": "both", "unit": WEIFANG},
        headers=street.auth,
    )
    assert point.status_code == 201, point.text
    advisor = client.post(
        f"{API}/advisors",
        json={
            "name": "顾问乙",
            "kind": "elderly",
            "point_id": point.json()["id"],
            "user_id": advisor_user.user.id,
        },
        headers=street.auth,
    )
    assert advisor.status_code == 201, advisor.text


def trail_for(client, actors) -> AuditTrail:
    reader = actors.platform_admin().auth
    return AuditTrail(client, reader, detail=DETAIL, manifest=shequyun_advisors.MANIFEST)


def test_the_api_audits_every_write_but_the_questionnaire(shequyun_client, shequyun_actors):
    client = shequyun_client
    made = residents(client, shequyun_actors)
    street = shequyun_actors.street_admin(WEIFANG)
    pudong = shequyun_actors.district_admin()
    cadre = shequyun_actors.cadre(WEIFANG1)
    advisor_user = shequyun_actors.make("advisors.advisor", WEIFANG)
    trail = trail_for(client, shequyun_actors)

    trail.step(
        f"POST {API}/policies",
        client.post(f"{API}/policies", json={"source": DISTRICT_POLICY}, headers=pudong.auth),
        status=201,
        audit=[("advisors.policy_saved", "advisors_policy", {"version": 1})],
    )
    trail.step(
        f"POST {API}/evaluate",
        client.post(
            f"{API}/evaluate",
            json={"policy": "sh-elderly-allowance", "person": {"registration": "huji"}},
            headers=cadre.auth,
        ),
        audit=[],
    )
    trail.step(
        f"POST {API}/outreach/sync",
        client.post(f"{API}/outreach/sync", json={}, headers=street.auth),
        audit=[("advisors.synced", "unit")],
    )
    listed = client.get(
        f"{API}/outreach/candidates", params={"policy": "sh-minimum-living"}, headers=street.auth
    )
    assert listed.status_code == 200, listed.text
    case = next(i for i in listed.json()["items"] if i["resident"]["id"] == made["poor"])
    trail.mark()

    def history():
        """The follow-up's events (its history beside the audit log); reading it is audited as
        ``advisors.case_viewed``, a read, so the trail starts again after it."""
        read = client.get(f"{API}/outreach/cases/{case['id']}", headers=street.auth)
        assert read.status_code == 200, read.text
        trail.mark()
        return [e["action"] for e in read.json()["history"]]

    before = history()
    trail.step(
        f"POST {API}/outreach/cases/{{case_id}}/assign",
        client.post(
            f"{API}/outreach/cases/{case['id']}/assign",
            json={"assignee": "顾问甲"},
            headers=street.auth,
        ),
        audit=[("advisors.case_assigned", CASE, {"assignee": "顾问甲"})],
    )
    trail.step(
        f"POST {API}/outreach/cases/{{case_id}}/outcome",
        client.post(
            f"{API}/outreach/cases/{case['id']}/outcome",
            json={"outcome": "contacted", "note": "电话联系"},
            headers=street.auth,
        ),
        audit=[("advisors.outcome_recorded", CASE, {"to": "contacted"})],
    )
    assert history()[len(before) :] == ["assigned", "contacted"]
    trail.step(
        f"POST {API}/outreach/notify",
        client.post(
            f"{API}/outreach/notify", json={"policy": "sh-elderly-allowance"}, headers=street.auth
        ),
        status=202,
        audit=[("advisors.notices_sent", "unit", {"policy": "sh-elderly-allowance"})],
    )
    point = trail.step(
        f"POST {API}/points",
        client.post(
            f"{API}/points",
            json={"name": "潍坊新村街道顾问点", "kind": "both", "unit": WEIFANG},
            headers=street.auth,
        ),
        status=201,
        audit=[("advisors.point_created", "advisors_point")],
    ).json()
    trail.step(
        f"POST {API}/advisors",
        client.post(
            f"{API}/advisors",
            json={
                "name": "顾问甲",
                "kind": "elderly",
                "point_id": point["id"],
                "user_id": advisor_user.user.id,
            },
            headers=street.auth,
        ),
        status=201,
        audit=[("advisors.advisor_created", "advisors_advisor")],
    )
    trail.step(
        f"POST {API}/services",
        client.post(
            f"{API}/services",
            json={
                "kind": "home_visit",
                "channel": "offline",
                "summary": "上门介绍长护险评估",
                "resident_id": made["elder"],
            },
            headers=advisor_user.auth,
        ),
        status=201,
        audit=[("advisors.service_recorded", "advisors_service", {"kind": "home_visit"})],
    )
    trail.step(
        f"POST {API}/resources",
        client.post(
            f"{API}/resources",
            json={
                "name": "长者食堂",
                "sector": "government",
                "services": ["助餐"],
                "provider": "街道",
                "unit": WEIFANG,
            },
            headers=street.auth,
        ),
        status=201,
        audit=[("advisors.resource_created", "advisors_resource")],
    )
    # Refused writes leave nothing either.
    refused = client.post(f"{API}/policies", json={"source": DISTRICT_POLICY}, headers=cadre.auth)
    assert refused.status_code == 403
    assert [e["action"] for e in trail.entries()] == ["access.denied"]
    trail.check_walked(API_ROUTES)


def test_the_pages_leave_the_same_entries_as_the_api(shequyun_client, shequyun_actors):
    made = residents(shequyun_client, shequyun_actors)
    street = shequyun_actors.street_admin(WEIFANG).portal()
    district = shequyun_actors.district_admin().portal()
    advisor_user = shequyun_actors.make("advisors.advisor", WEIFANG)
    register(shequyun_client, shequyun_actors.street_admin(WEIFANG), advisor_user)
    advisor = advisor_user.portal()
    trail = trail_for(shequyun_client, shequyun_actors)

    trail.step(
        f"POST {BASE}/sync",
        street.post(f"{BASE}/sync", data={"unit": WEIFANG}, follow_redirects=False),
        status=303,
        audit=[("advisors.synced", "unit")],
    )
    home = street.get(f"{BASE}/")
    trail.mark()
    case_id = re.search(rf"{BASE}/cases/(\d+)", home.text).group(1)
    trail.step(
        f"POST {BASE}/cases/{{case_id:int}}",
        street.post(f"{BASE}/cases/{case_id}", data={"assign": "me"}, follow_redirects=False),
        status=303,
        audit=[("advisors.case_assigned", CASE)],
    )
    trail.step(
        f"POST {BASE}/cases/{{case_id:int}}",
        street.post(
            f"{BASE}/cases/{case_id}",
            data={"outcome": "contacted", "note": "上门", "version": "2"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("advisors.outcome_recorded", CASE, {"to": "contacted"})],
    )
    trail.step(
        f"POST {BASE}/policies/new",
        district.post(
            f"{BASE}/policies/new",
            data={"source": DISTRICT_POLICY, "note": "新增"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("advisors.policy_saved", "advisors_policy", {"version": 1})],
    )
    trail.step(
        f"POST {BASE}/desk",
        advisor.post(
            f"{BASE}/desk",
            data={
                "kind": "consultation",
                "channel": "phone",
                "summary": "电话咨询助餐",
                "resident_id": str(made["elder"]),
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[("advisors.service_recorded", "advisors_service", {"kind": "consultation"})],
    )
    trail.check_walked(PAGE_ROUTES)
