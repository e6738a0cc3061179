"""The hello plugin's one state-changing route, and what it leaves in the audit log: nothing.

A message on the board is the poster's own words, public to everyone, and no one else's data:
like a resident's own comment, it is not audited. The step says so, and fails if that changes.
"""

from __future__ import annotations

import shequyun_hello
from shequyun_sdk.testing.trail import AuditTrail, state_changing_routes

ROUTES = ["POST /api/v1/plugins/hello/messages"]


def test_every_state_changing_route_has_a_step(shequyun_app):
    assert state_changing_routes(shequyun_app, "hello") == set(ROUTES)


def test_posting_a_message_leaves_no_audit_entry(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    trail = AuditTrail(
        shequyun_client,
        shequyun_actors.platform_admin().auth,
        detail={},
        manifest=shequyun_hello.MANIFEST,
    )
    trail.step(
        "POST /api/v1/plugins/hello/messages",
        shequyun_client.post(
            "/api/v1/plugins/hello/messages", json={"text": "你好"}, headers=cadre.auth
        ),
        status=201,
        audit=[],
    )
    trail.check_walked(ROUTES)
