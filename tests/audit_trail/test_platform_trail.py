"""The rest of the platform's state-changing routes: signing in and out, external apps, OAuth,
the calendar, attachments, indicator pins and notices.

Apps, the calendar and the account steps are audited by their services. A pin and a notice read
are the user's own business, and an upload is recorded by the task or record that claims it, so
these leave nothing in the audit log: the steps say so, and fail if that changes.
"""

from __future__ import annotations

import json
import re

from sqlmodel import Session, select

from shequyun.apps.models import WebhookDelivery

from ..apps.conftest import XUHUI_COMMITTEE, manifest, resident_in
from ..attachments._files import png
from ._trail import Trail, hidden

XUHUI, WEIFANG = "310104000000", "310115004000"

ROUTES = [
    "POST /login",
    "POST /account/password",
    "POST /account/grant",
    "POST /logout",
    "POST /api/v1/apps",
    "PUT /api/v1/apps/{app_id:int}",
    "PUT /api/v1/apps/{app_id:int}/units",
    "POST /api/v1/apps/{app_id:int}/{which:str}",
    "POST /api/v1/apps/{app_id:int}/webhooks/pause",
    "POST /api/v1/apps/{app_id:int}/webhooks/resume",
    "POST /api/v1/apps/{app_id:int}/deliveries/{delivery_id:int}/replay",
    "PUT /api/v1/apps/{app_id:int}/state",
    "POST /oauth/token",
    "POST /oauth/userinfo",
    "POST /admin/apps/new",
    "POST /admin/apps/{app_id:int}/units",
    "POST /admin/apps/{app_id:int}/secret/{which:str}",
    "POST /admin/apps/{app_id:int}/webhooks/{action:str}",
    "POST /admin/apps/{app_id:int}/deliveries/{delivery_id:int}/replay",
    "PUT /api/v1/calendar/days/{day}",
    "DELETE /api/v1/calendar/days/{day}",
    "POST /api/v1/attachments",
    "PUT /api/v1/indicators/pins/{name}",
    "DELETE /api/v1/indicators/pins/{name}",
    "POST /indicators/pins",
    "POST /notices/{notice_id}/read",
    "POST /display/{mode}",
]


def gave_up(kernel, app_id: int) -> int:
    """Deliver the app's pending webhooks and mark one as given up (as after its last retry)."""
    kernel.events.drain()
    kernel.openness.webhooks.deliver_due()
    with Session(kernel.engine) as session:
        query = select(WebhookDelivery).where(WebhookDelivery.app_id == app_id)
        delivery = session.exec(query).first()
        delivery.status = "dead"
        session.add(delivery)
        session.commit()
        return delivery.id


def test_signing_in_switching_grants_and_signing_out(
    shequyun_kernel, shequyun_actors, shequyun_app
):
    from starlette.testclient import TestClient

    street = shequyun_actors.street_admin(WEIFANG)
    trail = Trail(shequyun_kernel)
    browser = TestClient(shequyun_app)
    token = hidden(browser.get("/login").text, "csrf_token")
    landed = trail.step(
        "POST /login",
        browser.post(
            "/login",
            data={"username": street.username, "password": street.password, "csrf_token": token},
            follow_redirects=False,
        ),
        status=303,
        audit=[("login.succeeded", "user")],
    )
    browser.headers["X-CSRF-Token"] = hidden(
        browser.get(landed.headers["location"]).text, "csrf_token"
    )
    trail.step(
        "POST /account/password",
        browser.post(
            "/account/password",
            data={
                "current": street.password,
                "new": "Lingyige-mima-2026",
                "repeat": "Lingyige-mima-2026",
            },
            follow_redirects=False,
        ),
        status=(200, 303),
        audit=[("password.changed", "user")],
    )
    trail.step(
        "POST /account/grant",
        browser.post(
            "/account/grant", data={"grant_id": str(street.grant.id)}, follow_redirects=False
        ),
        status=303,
        audit=[("grant.switched", "grant")],
    )
    trail.step(
        "POST /logout",
        browser.post("/logout", follow_redirects=False),
        status=303,
        audit=[("logout", None)],
    )
    trail.check_walked(ROUTES[:4])


def test_external_apps_through_both_doors(shequyun_kernel, shequyun_actors, shequyun_app):
    admin = shequyun_actors.platform_admin()
    api, portal = admin.client(), admin.portal()
    cadre = shequyun_actors.cadre(XUHUI_COMMITTEE)
    trail = Trail(shequyun_kernel)

    registered = trail.step(
        "POST /api/v1/apps",
        api.post("/api/v1/apps", json=manifest()),
        status=201,
        audit=[("app.registered", "app")],
    ).json()
    app = registered["id"]
    trail.step(
        "PUT /api/v1/apps/{app_id:int}",
        api.put(f"/api/v1/apps/{app}", json=manifest(name="徐汇垃圾分类")),
        audit=[("app.updated", "app")],
    )
    trail.step(
        "PUT /api/v1/apps/{app_id:int}/units",
        api.put(f"/api/v1/apps/{app}/units", json={"units": [XUHUI, WEIFANG]}),
        audit=[("app.units_changed", "app")],
    )
    trail.step(
        "POST /api/v1/apps/{app_id:int}/{which:str}",
        api.post(f"/api/v1/apps/{app}/client-secret"),
        audit=[("app.secret_rotated", "app")],
    )
    secret = api.post(f"/api/v1/apps/{app}/client-secret").json()["secret"]
    trail.mark()  # a second rotation, to know the secret: audited the same way
    trail.step(
        "POST /oauth/token",
        api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "unit": XUHUI},
            auth=(registered["client_id"], secret),
        ),
        audit=[],
    )
    trail.step(
        "POST /oauth/userinfo",
        api.post("/oauth/userinfo", headers={"Authorization": "Bearer not-a-token"}),
        status=401,
        audit=[],
    )
    trail.step(
        "POST /api/v1/apps/{app_id:int}/webhooks/pause",
        api.post(f"/api/v1/apps/{app}/webhooks/pause"),
        audit=[("app.webhooks_paused", "app")],
    )
    trail.step(
        "POST /api/v1/apps/{app_id:int}/webhooks/resume",
        api.post(f"/api/v1/apps/{app}/webhooks/resume"),
        audit=[("app.webhooks_resumed", "app")],
    )
    resident_in(api, cadre, serial="311")
    trail.mark()
    delivery = gave_up(shequyun_kernel, app)
    trail.mark()
    trail.step(
        "POST /api/v1/apps/{app_id:int}/deliveries/{delivery_id:int}/replay",
        api.post(f"/api/v1/apps/{app}/deliveries/{delivery}/replay"),
        status=202,
        audit=[("app.webhook_replayed", "webhook_delivery")],
    )
    trail.step(
        "PUT /api/v1/apps/{app_id:int}/state",
        api.put(f"/api/v1/apps/{app}/state", json={"disabled": True}),
        audit=[("app.disabled", "app")],
    )

    # The same through the admin pages.
    shown = trail.step(
        "POST /admin/apps/new",
        portal.post("/admin/apps/new", data={"manifest": json.dumps(manifest("pudong-lifts"))}),
        audit=[("app.registered", "app")],
    )
    second = int(re.search(r"/admin/apps/(\d+)", shown.text)[1])
    trail.step(
        "POST /admin/apps/{app_id:int}/units",
        portal.post(f"/admin/apps/{second}/units", data={"units": XUHUI}, follow_redirects=False),
        status=303,
        audit=[("app.units_changed", "app")],
    )
    trail.step(
        "POST /admin/apps/{app_id:int}/secret/{which:str}",
        portal.post(f"/admin/apps/{second}/secret/webhook"),
        audit=[("app.webhook_secret_rotated", "app")],
    )
    trail.step(
        "POST /admin/apps/{app_id:int}/webhooks/{action:str}",
        portal.post(f"/admin/apps/{second}/webhooks/pause", follow_redirects=False),
        status=303,
        audit=[("app.webhooks_paused", "app")],
    )
    assert gave_up(shequyun_kernel, app) == delivery
    trail.mark()
    trail.step(
        "POST /admin/apps/{app_id:int}/deliveries/{delivery_id:int}/replay",
        portal.post(f"/admin/apps/{app}/deliveries/{delivery}/replay", follow_redirects=False),
        status=303,
        audit=[("app.webhook_replayed", "webhook_delivery")],
    )
    trail.check_walked(ROUTES[4:19])


def test_calendar_attachments_and_pins(shequyun_kernel, shequyun_actors):
    admin = shequyun_actors.platform_admin()
    street = shequyun_actors.street_admin(WEIFANG)
    api, own, portal = admin.client(), street.client(), street.portal()
    trail = Trail(shequyun_kernel)
    trail.step(
        "PUT /api/v1/calendar/days/{day}",
        api.put("/api/v1/calendar/days/2027-02-20", json={"kind": "workday", "name": "春节"}),
        audit=[("calendar.day_set", "calendar_day")],
    )
    trail.step(
        "DELETE /api/v1/calendar/days/{day}",
        api.delete("/api/v1/calendar/days/2027-02-20"),
        audit=[("calendar.day_cleared", "calendar_day")],
    )
    trail.step(
        "POST /api/v1/attachments",
        own.post("/api/v1/attachments", files={"file": ("门牌.png", png(), "image/png")}),
        status=201,
        audit=[],  # recorded when a task or a record claims it
    )
    trail.step(
        "PUT /api/v1/indicators/pins/{name}",
        own.put("/api/v1/indicators/pins/residents.tags"),
        audit=[],  # a user's own preference
    )
    trail.step(
        "DELETE /api/v1/indicators/pins/{name}",
        own.delete("/api/v1/indicators/pins/residents.tags"),
        audit=[],
    )
    trail.step(
        "POST /indicators/pins",
        portal.post(
            "/indicators/pins",
            data={"indicator": "residents.households", "action": "pin", "next": "/indicators"},
            follow_redirects=False,
        ),
        status=303,
        audit=[],
    )
    trail.step(
        "POST /notices/{notice_id}/read",
        portal.post("/notices/all/read", follow_redirects=False),
        status=303,
        audit=[],  # one's own notices
    )
    trail.step(
        "POST /display/{mode}",
        portal.post("/display/large", data={"next": "/workbench"}, follow_redirects=False),
        status=303,
        audit=[],  # one's own display setting
    )
    trail.check_walked(ROUTES[19:])
