"""Every state-changing route of the garbage-sorting app, and the audit entry each leaves.

A check-in is a committee's report of its own work, which the street and the district then read
as an indicator: audited by ``checkins.record``, the one function the page and the API call.
"""

from __future__ import annotations

import shequyun_garbage
from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes

ROUTES = ["POST /api/v1/plugins/garbage/checkins", "POST /plugins/garbage/"]
DETAIL = {"garbage.checked_in": [{"day"}]}
CHECKIN = "garbage_checkin"


def test_every_state_changing_route_has_a_step(shequyun_app):
    assert state_changing_routes(shequyun_app, "garbage") == set(ROUTES)


def test_both_doors_audit_a_check_in(shequyun_client, shequyun_actors):
    admin = shequyun_actors.platform_admin()
    switched = shequyun_client.put(
        "/api/v1/plugin-enablement/garbage",
        headers=admin.auth,
        json={"unit_code": "310104000000", "enabled": True},
    )
    assert switched.status_code == 200, switched.text
    api_cadre = shequyun_actors.cadre("310104003001")
    page_cadre = shequyun_actors.cadre("310104003002").portal()
    trail = AuditTrail(
        shequyun_client, admin.auth, detail=DETAIL, manifest=shequyun_garbage.MANIFEST
    )
    trail.step(
        "POST /api/v1/plugins/garbage/checkins",
        shequyun_client.post(
            "/api/v1/plugins/garbage/checkins",
            headers=api_cadre.auth,
            json={"households": 312, "correct_rate": 87},
        ),
        status=201,
        audit=[("garbage.checked_in", CHECKIN)],
    )
    trail.step(
        "POST /plugins/garbage/",
        page_cadre.post(
            "/plugins/garbage/",
            data={"households": "120", "correct_rate": "90"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("garbage.checked_in", CHECKIN)],
    )
    # A second check-in the same day is refused and leaves nothing.
    again = shequyun_client.post(
        "/api/v1/plugins/garbage/checkins",
        headers=api_cadre.auth,
        json={"households": 1, "correct_rate": 1},
    )
    assert again.status_code == 409
    assert trail.entries() == []
    trail.check_walked(ROUTES)
