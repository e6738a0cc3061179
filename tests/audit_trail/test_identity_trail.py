"""Identity's writes through both doors: users, grants, tokens, org units, plugin enablement.

Each step is one request; the trail checks the audit entries and history rows it left, which
are the service function's (:mod:`shequyun.identity.user_admin`, :mod:`~shequyun.identity.orgunits`,
:meth:`~shequyun.enablement.Enablement.change`), whichever door was used.
"""

from __future__ import annotations

import re

import pytest
from shequyun_sdk import hookimpl

from ._trail import Trail, hidden

PUDONG, WEIFANG = "310115000000", "310115004000"
WEIFANG_1, WEIFANG_2, LUJIAZUI = "310115004001", "310115004002", "310115005000"
USERS_CSV = "username,display_name,phone,home_unit_code,role,unit_code\n"
SOCIAL_WORKER_AT_2 = {"role": "identity.social_worker", "unit_code": WEIFANG_2}

ROUTES = [
    "POST /api/v1/users",
    "PATCH /api/v1/users/{user_id:int}",
    "POST /api/v1/users/{user_id:int}/unlock",
    "POST /api/v1/users/{user_id:int}/reset-password",
    "POST /api/v1/users/import",
    "POST /api/v1/grants",
    "DELETE /api/v1/grants/{grant_id:int}",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{token_id:int}",
    "POST /admin/users/new",
    "POST /admin/users/{user_id:int}/grants",
    "POST /admin/users/{user_id:int}/grants/{grant_id:int}/revoke",
    "POST /admin/users/{user_id:int}/unlock",
    "POST /admin/users/{user_id:int}/reset-password",
    "POST /admin/users/import",
    "POST /admin/users/import/confirm",
    "POST /admin/tokens/new",
    "POST /admin/tokens/{token_id:int}/revoke",
]
ORG_ROUTES = [
    "POST /api/v1/org-units",
    "PATCH /api/v1/org-units/{code}",
    "POST /api/v1/org-units/{code}/move",
    "POST /api/v1/org-units/{code}/close",
    "POST /api/v1/org-units/{code}/split",
    "POST /api/v1/org-units/merge",
    "POST /admin/org/{code}/{action:str}",
    "POST /admin/org/import",
    "POST /admin/org/import/confirm",
]
PLUGIN_ROUTES = [
    "PUT /api/v1/plugin-enablement/{name}",
    "POST /admin/plugins/{name}/enablement",
]


class Lanes:
    """A district app, off unless switched on somewhere."""

    MANIFEST = {
        "name": "lanes",
        "version": "0.1",
        "title": {"zh": "弄堂议事"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "enabled_by_default": False,
    }

    @hookimpl
    def register_permissions(self, plugin):
        return []


@pytest.fixture
def shequyun_plugins():
    return [Lanes()]


def test_users_grants_and_tokens_leave_the_same_trail_through_both_doors(
    shequyun_kernel, shequyun_actors
):
    district = shequyun_actors.district_admin(PUDONG)
    api, portal = district.client(), district.portal()
    trail = Trail(shequyun_kernel)

    made = trail.step(
        "POST /api/v1/users",
        api.post(
            "/api/v1/users",
            json={
                "username": "wangfang",
                "display_name": "王芳",
                "home_unit_code": WEIFANG_1,
                "role": "identity.cadre",
            },
        ),
        status=201,
        audit=[
            ("user.created", "user", {"username": "wangfang"}),
            ("grant.created", "grant", {"role": "identity.cadre", "unit_code": WEIFANG_1}),
        ],
    ).json()
    user = made["id"]
    trail.step(
        "PATCH /api/v1/users/{user_id:int}",
        api.patch(
            f"/api/v1/users/{user}", json={"version": made["version"], "phone": "13800000001"}
        ),
        audit=[("user.updated", "user")],
    )
    trail.step(
        "POST /api/v1/users/{user_id:int}/unlock",
        api.post(f"/api/v1/users/{user}/unlock"),
        audit=[("user.unlocked", "user")],
    )
    trail.step(
        "POST /api/v1/users/{user_id:int}/reset-password",
        api.post(f"/api/v1/users/{user}/reset-password"),
        audit=[("user.password_reset", "user")],
    )
    grant = trail.step(
        "POST /api/v1/grants",
        api.post(
            "/api/v1/grants",
            json={"user_id": user, "role": "identity.social_worker", "unit_code": WEIFANG_2},
        ),
        status=201,
        audit=[("grant.created", "grant", SOCIAL_WORKER_AT_2)],
    ).json()["id"]
    token = trail.step(
        "POST /api/v1/tokens",
        api.post("/api/v1/tokens", json={"grant_id": grant, "name": "对接", "expires_in_days": 30}),
        status=201,
        audit=[("token.created", "token", {"grant_id": grant, "name": "对接"})],
    ).json()["id"]
    trail.step(
        "DELETE /api/v1/tokens/{token_id:int}",
        api.delete(f"/api/v1/tokens/{token}"),
        audit=[("token.revoked", "token")],
    )
    trail.step(
        "DELETE /api/v1/grants/{grant_id:int}",
        api.delete(f"/api/v1/grants/{grant}"),
        audit=[("grant.revoked", "grant", SOCIAL_WORKER_AT_2)],
    )
    trail.step(
        "POST /api/v1/users/import",
        api.post(
            "/api/v1/users/import",
            params={"dry_run": "false"},
            files={"file": ("u.csv", f"{USERS_CSV}lijun,李军,,{WEIFANG_2},居村干部,\n".encode())},
        ),
        status=201,
        audit=[
            ("user.created", "user", {"username": "lijun", "via": "import", "row": 2}),
            (
                "grant.created",
                "grant",
                {"username": "lijun", "role": "identity.cadre", "unit_code": WEIFANG_2},
            ),
            ("users.imported", None, {"filename": "u.csv", "users": 1, "grants": 1}),
        ],
    )

    # The same writes from the admin pages.
    created = trail.step(
        "POST /admin/users/new",
        portal.post(
            "/admin/users/new",
            data={
                "username": "zhaomin",
                "display_name": "赵敏",
                "home_unit_code": WEIFANG_1,
                "role": "identity.cadre",
            },
        ),
        audit=[
            ("user.created", "user", {"username": "zhaomin"}),
            ("grant.created", "grant", {"role": "identity.cadre", "unit_code": WEIFANG_1}),
        ],
    )
    assert "赵敏" in created.text
    other = api.get("/api/v1/users", params={"q": "zhaomin"}).json()["items"][0]["id"]
    trail.step(
        "POST /admin/users/{user_id:int}/grants",
        portal.post(
            f"/admin/users/{other}/grants",
            data={"role": "identity.social_worker", "unit_code": WEIFANG_2},
        ),
        audit=[("grant.created", "grant", SOCIAL_WORKER_AT_2)],
    )
    page = portal.get(f"/admin/users/{other}").text
    second = re.findall(rf'action="/admin/users/{other}/grants/(\d+)/revoke"', page)[-1]
    issued = trail.step(
        "POST /admin/tokens/new",
        portal.post(
            "/admin/tokens/new", data={"grant_id": second, "name": "填报", "expires_in_days": "7"}
        ),
        audit=[("token.created", "token", {"grant_id": int(second), "name": "填报"})],
    )
    assert "填报" in issued.text
    tokens = api.get("/api/v1/tokens", params={"grant_id": second}).json()["items"]
    trail.step(
        "POST /admin/tokens/{token_id:int}/revoke",
        portal.post(f"/admin/tokens/{tokens[0]['id']}/revoke", data={}),
        audit=[("token.revoked", "token")],
    )
    trail.step(
        "POST /admin/users/{user_id:int}/grants/{grant_id:int}/revoke",
        portal.post(f"/admin/users/{other}/grants/{second}/revoke"),
        audit=[("grant.revoked", "grant", SOCIAL_WORKER_AT_2)],
    )
    trail.step(
        "POST /admin/users/{user_id:int}/unlock",
        portal.post(f"/admin/users/{other}/unlock"),
        audit=[("user.unlocked", "user")],
    )
    trail.step(
        "POST /admin/users/{user_id:int}/reset-password",
        portal.post(f"/admin/users/{other}/reset-password"),
        audit=[("user.password_reset", "user")],
    )
    checked = trail.step(
        "POST /admin/users/import",
        portal.post(
            "/admin/users/import",
            files={
                "file": ("u.csv", f"{USERS_CSV}chenxi,陈曦,,{WEIFANG},,\n".encode(), "text/csv")
            },
        ),
        audit=[],  # a check writes nothing
    )
    trail.step(
        "POST /admin/users/import/confirm",
        portal.post("/admin/users/import/confirm", data={"token": hidden(checked.text, "token")}),
        audit=[
            ("user.created", "user", {"username": "chenxi", "via": "import", "row": 2}),
            ("users.imported", None, {"filename": "u.csv", "users": 1, "grants": 0}),
        ],
    )
    trail.check_walked(ROUTES)


def test_org_unit_changes_leave_history_and_audit_through_both_doors(
    shequyun_kernel, shequyun_actors
):
    district = shequyun_actors.district_admin(PUDONG)
    api, portal = district.client(), district.portal()
    trail = Trail(shequyun_kernel)
    unit = [("org.unit.created", "org_unit")]

    trail.step(
        "POST /api/v1/org-units",
        api.post(
            "/api/v1/org-units",
            json={"code": "310115004003", "name": "潍坊三村", "parent": WEIFANG},
        ),
        status=201,
        audit=unit,
        history={"org_unit": 1},
    )
    trail.step(
        "PATCH /api/v1/org-units/{code}",
        api.patch("/api/v1/org-units/310115004003", json={"name": "潍坊三村居委会", "version": 1}),
        audit=[("org.unit.renamed", "org_unit")],
        history={"org_unit": 1},
    )
    trail.step(
        "POST /api/v1/org-units/{code}/move",
        api.post("/api/v1/org-units/310115004003/move", json={"parent": LUJIAZUI}),
        audit=[("org.unit.moved", "org_unit")],
        history={"org_unit": 1},
    )
    trail.step(
        "POST /api/v1/org-units/{code}/close",
        api.post("/api/v1/org-units/310115004003/close", json={"closed_on": "2025-01-01"}),
        audit=[("org.unit.closed", "org_unit")],
        history={"org_unit": 1},
    )
    trail.step(
        "POST /api/v1/org-units/merge",
        api.post(
            "/api/v1/org-units/merge",
            json={
                "units": [WEIFANG_1, WEIFANG_2],
                "into": {"code": "310115004010", "name": "潍坊联合居委会"},
                "on": "2025-09-01",
            },
        ),
        status=(200, 201),
        audit=[("org.unit.merged", "org_unit")],
        history={"org_unit": 4},  # one for the new unit, and one for each merged and closed
    )
    split = trail.step(
        "POST /api/v1/org-units/{code}/split",
        api.post(
            f"/api/v1/org-units/{WEIFANG}/split",
            json={
                "on": "2025-10-01",
                "into": [
                    {"code": "310115004100", "name": "潍坊东街道", "children": ["310115004010"]},
                    {"code": "310115004200", "name": "潍坊西街道", "children": []},
                ],
            },
        ),
        audit=[("org.unit.split", "org_unit")],
        history={"org_unit": 6},
    )
    assert split.json()["closed"]["code"] == WEIFANG
    trail.step(
        "POST /admin/org/{code}/{action:str}",
        portal.post(
            f"/admin/org/{LUJIAZUI}/new",
            data={"code": "310115005009", "name": "梅园九村居委会"},
            follow_redirects=False,
        ),
        status=303,
        audit=unit,
        history={"org_unit": 1},
    )
    checked = trail.step(
        "POST /admin/org/import",
        portal.post(
            "/admin/org/import",
            files={
                "file": (
                    "roster.csv",
                    "编码,名称,层级,上级编码\n310115006000,花木街道,街道,310115000000\n".encode(),
                    "text/csv",
                )
            },
        ),
        audit=[],
    )
    trail.step(
        "POST /admin/org/import/confirm",
        portal.post(
            "/admin/org/import/confirm",
            data={"token": hidden(checked.text, "token")},
            follow_redirects=False,
        ),
        status=303,
        audit=[("org.units.imported", "org_import")],
        history={"org_unit": 1},
    )
    trail.check_walked(ORG_ROUTES)


def test_switching_a_plugin_is_audited_through_both_doors(shequyun_kernel, shequyun_actors):
    admin = shequyun_actors.platform_admin()
    api, portal = admin.client(), admin.portal()
    trail = Trail(shequyun_kernel)
    trail.step(
        "PUT /api/v1/plugin-enablement/{name}",
        api.put("/api/v1/plugin-enablement/lanes", json={"unit_code": PUDONG, "enabled": True}),
        audit=[("plugin.enablement_changed", "plugin", {"unit": PUDONG, "enabled": True})],
    )
    trail.step(
        "POST /admin/plugins/{name}/enablement",
        portal.post(
            "/admin/plugins/lanes/enablement",
            data={"unit_code": WEIFANG, "enabled": "off"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("plugin.enablement_changed", "plugin", {"unit": WEIFANG, "enabled": False})],
    )
    trail.check_walked(PLUGIN_ROUTES)


HOLDER_ROUTES = [
    "POST /api/v1/users/{user_id:int}/confirm-holder",
    "POST /account/colleagues/{user_id:int}/confirm",
]


def _held_cadre(shequyun_kernel, shequyun_actors):
    """A cadre whose password a street admin reset and who has chosen their own since."""
    from sqlmodel import Session

    from shequyun.identity.models import User

    cadre = shequyun_actors.cadre(WEIFANG_1)
    admin = shequyun_actors.street_admin(WEIFANG)
    assert admin.client().post(f"/api/v1/users/{cadre.user.id}/reset-password").is_success
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, cadre.user.id)
        user.must_change_password = False  # as after the password page
        session.add(user)
        session.commit()
    return cadre.user.id


def test_confirming_a_holder_leaves_one_entry_through_both_doors(shequyun_kernel, shequyun_actors):
    colleague = shequyun_actors.cadre(WEIFANG_1)
    api, portal = colleague.client(), colleague.portal()
    first, second = (_held_cadre(shequyun_kernel, shequyun_actors) for _ in range(2))
    trail = Trail(shequyun_kernel)
    trail.step(
        "POST /api/v1/users/{user_id:int}/confirm-holder",
        api.post(f"/api/v1/users/{first}/confirm-holder"),
        audit=[("user.holder_confirmed", "user")],
    )
    trail.step(
        "POST /account/colleagues/{user_id:int}/confirm",
        portal.post(f"/account/colleagues/{second}/confirm", follow_redirects=False),
        status=303,
        audit=[("user.holder_confirmed", "user")],
    )
    assert "目前没有需要您确认的同事" in portal.get("/account/colleagues").text
    trail.check_walked(HOLDER_ROUTES)
