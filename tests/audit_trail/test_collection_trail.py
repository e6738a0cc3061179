"""Collection's writes through both doors: forms, campaigns, reminders, tasks, 退回, exports.

A cadre's draft and submission are the task's history only; a bureau's or a street's steps
(forms, campaigns, reminders, 退回, exports) are audited too, by the service function both doors
call (:mod:`shequyun.collection.forms`, :mod:`~shequyun.collection.campaigns`,
:mod:`~shequyun.collection.follow_up`, :class:`~shequyun.collection.tasks.TaskFlow`).
"""

from __future__ import annotations

import json
import re

from ..collection._forms import COMMITTEE_COUNT, deadline
from ..portal.test_form_builder import inputs, step
from ._trail import Trail, hidden

WEIFANG, W1, W2 = "310115004000", "310115004001", "310115004002"

ROUTES = [
    "POST /api/v1/forms",
    "POST /api/v1/forms/{form_id}/versions",
    "POST /api/v1/forms/xlsx",
    "POST /api/v1/forms/{form_id}/versions/{number}/publish",
    "POST /api/v1/campaigns",
    "POST /api/v1/campaigns/{campaign_id}/remind",
    "GET /api/v1/campaigns/{campaign_id}/export",
    "PUT /api/v1/tasks/{task_id}/draft",
    "POST /api/v1/tasks/{task_id}/submit",
    "POST /api/v1/tasks/{task_id}/return",
    "POST /collection/forms/new",
    "POST /collection/forms/{form_id}/versions",
    "POST /collection/forms/{form_id}/versions/{number}/publish",
    "POST /collection/forms/{form_id}/edit",
    "POST /collection/forms/import",
    "POST /collection/campaigns/new",
    "POST /collection/campaigns/{campaign_id}/remind",
    "POST /collection/tasks/{task_id}",
    "POST /collection/tasks/{task_id}/return",
]


def task_of(client, campaign_id: int) -> int:
    items = client.get("/api/v1/tasks").json()["items"]
    return next(t["id"] for t in items if t["campaign_id"] == campaign_id)


def test_collection_steps_leave_the_same_trail_through_both_doors(shequyun_kernel, shequyun_actors):
    bureau = shequyun_actors.bureau()
    api, portal = bureau.client(), bureau.portal()
    one, two = shequyun_actors.cadre(W1), shequyun_actors.cadre(W2)
    one_api, two_portal = one.client(), two.portal()
    trail = Trail(shequyun_kernel)
    opened = [("collection.campaign_opened", "campaign", {"targets": [WEIFANG], "tasks": 2})]

    form = trail.step(
        "POST /api/v1/forms",
        api.post("/api/v1/forms", json={"title": "住户摸底", **COMMITTEE_COUNT}),
        status=201,
        audit=[("collection.form_created", "form", {"title": "住户摸底"})],
    ).json()["id"]
    trail.step(
        "POST /api/v1/forms/{form_id}/versions",
        api.post(f"/api/v1/forms/{form}/versions", json=COMMITTEE_COUNT),
        status=201,
        audit=[("collection.form_draft_saved", "form", {"version": 1})],
    )
    trail.step(
        "POST /api/v1/forms/xlsx",
        api.post(
            "/api/v1/forms/xlsx?title=走访表",
            files={"file": ("t.xlsx", portal.get("/collection/forms/template.xlsx").content)},
        ),
        status=201,
        audit=[("collection.form_created", "form")],
    )
    trail.step(
        "POST /api/v1/forms/{form_id}/versions/{number}/publish",
        api.post(f"/api/v1/forms/{form}/versions/1/publish"),
        audit=[("collection.form_published", "form", {"version": 1})],
    )
    campaign = trail.step(
        "POST /api/v1/campaigns",
        api.post(
            "/api/v1/campaigns",
            json={"form_id": form, "version": 1, "deadline": deadline(), "targets": [WEIFANG]},
        ),
        status=201,
        audit=opened,
    ).json()["id"]
    trail.step(
        "POST /api/v1/campaigns/{campaign_id}/remind",
        api.post(f"/api/v1/campaigns/{campaign}/remind"),
        audit=[("collection.reminded", "campaign", {"units": 2, "within": None})],
    )
    task = task_of(one_api, campaign)
    trail.step(
        "PUT /api/v1/tasks/{task_id}/draft",
        one_api.put(f"/api/v1/tasks/{task}/draft", json={"data": {"households": 1}, "version": 1}),
        audit=[],
        history={"task": 1},
    )
    trail.step(
        "POST /api/v1/tasks/{task_id}/submit",
        one_api.post(
            f"/api/v1/tasks/{task}/submit",
            json={"data": {"households": 640}, "client_key": "trail-one-1"},
        ),
        status=(200, 201),
        audit=[],
        history={"task": 1},
    )
    trail.step(
        "POST /api/v1/tasks/{task_id}/return",
        api.post(f"/api/v1/tasks/{task}/return", json={"comment": "户数与上月相差太大"}),
        audit=[("collection.returned", "task", {"comment": "户数与上月相差太大"})],
        history={"task": 1},
    )
    trail.step(
        "GET /api/v1/campaigns/{campaign_id}/export",
        api.get(f"/api/v1/campaigns/{campaign}/export"),
        audit=[("collection.exported", "campaign", {"format": "csv"})],
    )

    # The same through the pages.
    created = trail.step(
        "POST /collection/forms/new",
        portal.post(
            "/collection/forms/new",
            data={
                "title": "电梯摸底",
                "description": "",
                "schema": json.dumps(COMMITTEE_COUNT["schema"]),
                "ui": json.dumps(COMMITTEE_COUNT["ui"], ensure_ascii=False),
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[("collection.form_created", "form", {"title": "电梯摸底"})],
    )
    form_url = created.headers["location"].split("?")[0]
    trail.step(
        "POST /collection/forms/{form_id}/versions",
        portal.post(
            f"{form_url}/versions",
            data={
                "schema": json.dumps(COMMITTEE_COUNT["schema"]),
                "ui": json.dumps(COMMITTEE_COUNT["ui"], ensure_ascii=False),
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[("collection.form_draft_saved", "form")],
    )
    trail.step(
        "POST /collection/forms/{form_id}/versions/{number}/publish",
        portal.post(f"{form_url}/versions/1/publish", follow_redirects=False),
        status=303,
        audit=[("collection.form_published", "form")],
    )
    edit = f"{form_url}/edit"
    trail.step(
        "POST /collection/forms/{form_id}/edit",
        step(
            portal, edit, inputs(portal.get(edit).text), "save", **{"q-1-label": "本居委常住户数"}
        ),
        status=303,
        audit=[("collection.form_draft_saved", "form")],
    )
    template = portal.get("/collection/forms/template.xlsx").content
    trail.step(
        "POST /collection/forms/import",
        portal.post(
            "/collection/forms/import",
            data={"title": "走访表"},
            files={"file": ("t.xlsx", template, "application/octet-stream")},
            follow_redirects=False,
        ),
        status=303,
        audit=[("collection.form_created", "form")],
    )
    builder = portal.get("/collection/campaigns/new").text
    choice = re.search(rf'<option value="({form_url.rsplit("/", 1)[1]}:1)"', builder)[1]
    dashboard = trail.step(
        "POST /collection/campaigns/new",
        portal.post(
            "/collection/campaigns/new",
            data={"form_version": choice, "deadline": "2030-12-01T17:00", "targets": [WEIFANG]},
            follow_redirects=False,
        ),
        status=303,
        audit=opened,
    )
    second = int(re.search(r"/collection/campaigns/(\d+)", dashboard.headers["location"])[1])
    trail.step(
        "POST /collection/campaigns/{campaign_id}/remind",
        portal.post(
            f"/collection/campaigns/{second}/remind",
            data={"within": WEIFANG},
            follow_redirects=False,
        ),
        status=303,
        audit=[("collection.reminded", "campaign", {"units": 2, "within": WEIFANG})],
    )
    task = task_of(two.client(), second)
    page = two_portal.get(f"/collection/tasks/{task}").text
    trail.step(
        "POST /collection/tasks/{task_id}",
        two_portal.post(
            f"/collection/tasks/{task}",
            data={
                "households": "320",
                "action": "submit",
                "client_key": hidden(page, "client_key"),
                "version": hidden(page, "version"),
            },
            follow_redirects=False,
        ),
        status=303,
        audit=[],
        history={"task": 1},
    )
    trail.step(
        "POST /collection/tasks/{task_id}/return",
        portal.post(
            f"/collection/tasks/{task}/return",
            data={"comment": "请补充备注"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("collection.returned", "task", {"comment": "请补充备注"})],
        history={"task": 1},
    )
    trail.check_walked(ROUTES)
