"""/api/v1/grants and /users/{id}/grants: granting inside the admin's subtree, no escalation,
and revocation ending the sessions and tokens that acted under the grant."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from shequyun.identity.models import ApiToken, AuditEntry, Grant, WebSession

CITY, PUDONG, XUHUI = "310000000000", "310115000000", "310104000000"
WEIFANG, LUJIAZUI, TIANPING = "310115004000", "310115005000", "310104003000"
WEIFANG_1, WEIFANG_2, MEIYUAN = "310115004001", "310115004002", "310115005001"


class Hr:
    """Plugin roles to test escalation: an administrative one and a data one."""

    MANIFEST = {
        "name": "hr",
        "version": "0.1",
        "title": {"zh": "人事"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "permissions": [{"name": "hr.files", "title": {"zh": "查阅人事档案"}}],
        "roles": [
            {
                "name": "hr.keymaster",
                "title": {"zh": "令牌管理员"},
                "permissions": ["identity.org.view", "identity.tokens.manage"],
                "levels": ["committee"],
            },
            {
                "name": "hr.clerk",
                "title": {"zh": "人事专员"},
                "permissions": ["hr.files"],
                "levels": ["street", "committee"],
            },
        ],
    }


def grant(client, user_id, role, unit_code):
    return client.post(
        "/api/v1/grants", json={"user_id": user_id, "role": role, "unit_code": unit_code}
    )


def grants_in_db(kernel, user_id):
    with Session(kernel.engine) as session:
        return session.exec(select(Grant).where(Grant.user_id == user_id).order_by(Grant.id)).all()


def test_a_street_admin_grants_a_committee_role_and_it_is_audited(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    response = grant(admin.client(), cadre.user.id, "identity.social_worker", WEIFANG_2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["role"], body["role_title"], body["unit"]["code"]) == (
        "identity.social_worker",
        "社工",
        WEIFANG_2,
    )
    assert body["granted_by"] == admin.user.id and body["revoked_at"] is None
    listed = admin.client().get(f"/api/v1/users/{cadre.user.id}/grants").json()["items"]
    assert [g["role"] for g in listed] == ["identity.cadre", "identity.social_worker"]
    with Session(shequyun_kernel.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "grant.created")).one()
    assert (entry.actor_user_id, entry.target_type, entry.target_id) == (
        admin.user.id,
        "grant",
        str(body["id"]),
    )
    assert entry.detail["unit_code"] == WEIFANG_2


def test_the_platform_admin_makes_district_admins_but_nobody_below_can(shequyun_actors):
    platform = shequyun_actors.platform_admin()
    district = shequyun_actors.district_admin(PUDONG)
    street = shequyun_actors.street_admin(WEIFANG)
    newcomer = shequyun_actors.cadre(WEIFANG_1)
    assert (
        grant(street.client(), newcomer.user.id, "identity.district_admin", PUDONG).status_code
        == 404
    )
    assert (
        grant(street.client(), newcomer.user.id, "identity.platform_admin", CITY).status_code == 404
    )
    assert (
        grant(district.client(), newcomer.user.id, "identity.platform_admin", CITY).status_code
        == 404
    )
    assert (
        grant(district.client(), newcomer.user.id, "identity.street_admin", WEIFANG).status_code
        == 201
    )
    made = grant(platform.client(), newcomer.user.id, "identity.district_admin", PUDONG)
    assert made.status_code == 201


def test_users_and_units_of_a_sibling_street_are_not_found(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    own = shequyun_actors.cadre(WEIFANG_1)
    sibling = shequyun_actors.cadre(MEIYUAN)
    client = admin.client()
    other_user = grant(client, sibling.user.id, "identity.social_worker", WEIFANG_1)
    assert other_user.status_code == 404 and other_user.json()["error"]["field"] == "user_id"
    other_unit = grant(client, own.user.id, "identity.social_worker", MEIYUAN)
    assert other_unit.status_code == 404 and other_unit.json()["error"]["field"] == "unit_code"
    unknown = grant(client, own.user.id, "identity.social_worker", "319999999999")
    assert unknown.status_code == 404
    assert client.get(f"/api/v1/users/{sibling.user.id}/grants").status_code == 404
    assert len(grants_in_db(shequyun_kernel, own.user.id)) == 1
    assert len(grants_in_db(shequyun_kernel, sibling.user.id)) == 1


@pytest.mark.parametrize(
    ("role", "unit", "status", "field"),
    [
        ("identity.nobody", WEIFANG_1, 422, "role"),
        ("identity.cadre", WEIFANG, 422, "unit"),
        ("identity.street_admin", WEIFANG_1, 422, "unit"),
        ("identity.cadre", WEIFANG_1, 409, "role"),
    ],
)
def test_bad_grants_are_refused_and_write_nothing(
    shequyun_actors, shequyun_kernel, role, unit, status, field
):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    response = grant(admin.client(), cadre.user.id, role, unit)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert len(grants_in_db(shequyun_kernel, cadre.user.id)) == 1


def test_malformed_grant_bodies_are_refused(shequyun_actors):
    client = shequyun_actors.street_admin(WEIFANG).client()
    for body, field in [
        ({"role": "identity.cadre", "unit_code": WEIFANG_1}, "user_id"),
        ({"user_id": "1", "role": "identity.cadre", "unit_code": WEIFANG_1}, "user_id"),
        ({"user_id": 1, "unit_code": WEIFANG_1}, "role"),
        ({"user_id": 1, "role": "identity.cadre"}, "unit_code"),
        ({"user_id": 1, "role": "identity.cadre", "unit_code": WEIFANG_1, "x": 1}, "x"),
    ]:
        response = client.post("/api/v1/grants", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == field


def test_nobody_grants_themselves_a_role(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    response = grant(admin.client(), admin.user.id, "identity.cadre", WEIFANG_1)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "user_id"


def test_cadres_cannot_grant(shequyun_actors):
    cadre = shequyun_actors.cadre(WEIFANG_1)
    other = shequyun_actors.cadre(WEIFANG_1)
    assert grant(cadre.client(), other.user.id, "identity.cadre", WEIFANG_1).status_code == 403


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_no_escalation_administrative_permissions_only_from_those_who_hold_them(
    shequyun_actors, shequyun_kernel
):
    street = shequyun_actors.street_admin(WEIFANG)
    district = shequyun_actors.district_admin(PUDONG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    refused = grant(street.client(), cadre.user.id, "hr.keymaster", WEIFANG_1)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["field"] == "role"
    assert "令牌管理员" in refused.json()["error"]["message"]
    assert len(grants_in_db(shequyun_kernel, cadre.user.id)) == 1
    assert grant(district.client(), cadre.user.id, "hr.keymaster", WEIFANG_1).status_code == 201


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_data_permissions_are_delegated_downwards_only(shequyun_actors):
    """A street admin lacks hr.files: they may give it to a committee, not to their street."""
    street = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    client = street.client()
    assert grant(client, cadre.user.id, "hr.clerk", WEIFANG).status_code == 403
    assert grant(client, cadre.user.id, "hr.clerk", WEIFANG_1).status_code == 201
    # Built-in roles work the same way: cadres may reveal ID numbers, their street admin not.
    assert grant(client, cadre.user.id, "identity.cadre", WEIFANG_2).status_code == 201


# -- revoking -------------------------------------------------------------------------------


def test_revoking_a_grant_ends_its_sessions_and_revokes_its_tokens(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    portal = cadre.portal()
    assert portal.get("/api/v1/me").json()["grant"]["id"] == cadre.grant.id
    response = admin.client().delete(f"/api/v1/grants/{cadre.grant.id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revoked_at"] is not None
    assert (body["sessions_ended"], body["tokens_revoked"]) == (1, 1)
    assert portal.get("/api/v1/me").status_code == 401
    assert cadre.client().get("/api/v1/me").status_code == 401
    with Session(shequyun_kernel.engine) as session:
        assert (
            session.exec(select(WebSession).where(WebSession.grant_id == cadre.grant.id)).all()
            == []
        )
        token = session.exec(select(ApiToken).where(ApiToken.grant_id == cadre.grant.id)).one()
        assert token.revoked_at is not None
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "grant.revoked")).one()
    assert entry.detail["tokens_revoked"] == 1 and entry.target_id == str(cadre.grant.id)
    again = admin.client().delete(f"/api/v1/grants/{cadre.grant.id}")
    assert again.status_code == 409
    listed = admin.client().get(f"/api/v1/users/{cadre.user.id}/grants").json()["items"]
    assert listed == []
    history = (
        admin.client()
        .get(f"/api/v1/users/{cadre.user.id}/grants", params={"include_revoked": "true"})
        .json()["items"]
    )
    assert [g["id"] for g in history] == [cadre.grant.id]


def test_revoking_another_grant_leaves_the_session_alone(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    second = grant(admin.client(), cadre.user.id, "identity.cadre", WEIFANG_2).json()
    portal = cadre.portal()  # acts under the first grant
    assert admin.client().delete(f"/api/v1/grants/{second['id']}").json()["sessions_ended"] == 0
    assert portal.get("/api/v1/me").status_code == 200


def test_revocation_is_refused_outside_the_subtree_and_for_ones_own_grant(shequyun_actors):
    admin = shequyun_actors.street_admin(WEIFANG)
    sibling = shequyun_actors.street_admin(LUJIAZUI)
    district = shequyun_actors.district_admin(PUDONG)
    client = admin.client()
    assert client.delete(f"/api/v1/grants/{sibling.grant.id}").status_code == 404
    assert client.delete(f"/api/v1/grants/{district.grant.id}").status_code == 404
    assert client.delete("/api/v1/grants/999999").status_code == 404
    own = client.delete(f"/api/v1/grants/{admin.grant.id}")
    assert own.status_code == 409
    assert district.client().delete(f"/api/v1/grants/{sibling.grant.id}").status_code == 200


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_a_grant_one_could_not_give_cannot_be_revoked_either(shequyun_actors):
    street = shequyun_actors.street_admin(WEIFANG)
    clerk = shequyun_actors.make("hr.clerk", WEIFANG)
    assert street.client().delete(f"/api/v1/grants/{clerk.grant.id}").status_code == 403
    assert clerk.client().get("/api/v1/me").status_code == 200
