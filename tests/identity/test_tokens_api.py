"""/api/v1/tokens: tokens are made for a grant inside the admin's subtree, always expire, are
shown once and stored hashed, and stop working when revoked or expired."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from shequyun.identity.models import ApiToken, AuditEntry, Grant, User

CITY, PUDONG, XUHUI = "310000000000", "310115000000", "310104000000"
WEIFANG, TIANPING = "310115004000", "310104003000"
WEIFANG_1, WANPING = "310115004001", "310104003001"


class Hr:
    MANIFEST = {
        "name": "hr",
        "version": "0.1",
        "title": {"zh": "人事"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<0.2",
        "roles": [
            {
                "name": "hr.root",
                "title": {"zh": "插件管理员"},
                "permissions": ["identity.plugins.manage"],
                "levels": ["district"],
            }
        ],
    }


def new_token(client, grant_id, days=30, name="民政局数据同步"):
    return client.post(
        "/api/v1/tokens", json={"grant_id": grant_id, "name": name, "expires_in_days": days}
    )


def test_a_token_is_shown_once_stored_hashed_and_works(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin(PUDONG)
    bureau = shequyun_actors.bureau(PUDONG)
    response = new_token(admin.client(), bureau.grant.id, days=90)
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("sqy_") and body["prefix"] == secret[:12]
    assert body["status"] == "active"
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    with Session(shequyun_kernel.engine) as session:
        stored = session.get(ApiToken, body["id"])
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (stored.token_hash, stored.prefix, stored.name)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "token.created")).one()
    assert secret not in str(entry.detail) and entry.target_id == str(body["id"])
    me = admin.client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert (me["via"], me["grant"]["id"]) == ("token", bureau.grant.id)
    listed = admin.client().get("/api/v1/tokens").json()["items"]
    assert body["id"] in [t["id"] for t in listed]
    assert all("secret" not in t for t in listed)
    assert secret not in str(listed)


def test_revoked_and_expired_tokens_are_refused(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin(PUDONG)
    bureau = shequyun_actors.bureau(PUDONG)
    client = admin.client()
    made = [new_token(client, bureau.grant.id).json() for _ in range(2)]
    revoked, expiring = made
    assert client.delete(f"/api/v1/tokens/{revoked['id']}").json()["status"] == "revoked"
    assert client.delete(f"/api/v1/tokens/{revoked['id']}").status_code == 409
    with Session(shequyun_kernel.engine) as session:
        row = session.get(ApiToken, expiring["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
        session.commit()
    for token in made:
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['secret']}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_token"
    statuses = {t["id"]: t["status"] for t in client.get("/api/v1/tokens").json()["items"]}
    assert (statuses[revoked["id"]], statuses[expiring["id"]]) == ("revoked", "expired")
    with Session(shequyun_kernel.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert actions.count("token.revoked") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "expires_in_days": 30}, "grant_id"),
        ({"grant_id": 1, "expires_in_days": 30}, "name"),
        ({"grant_id": 1, "name": " ", "expires_in_days": 30}, "name"),
        ({"grant_id": 1, "name": "x"}, "expires_in_days"),
        ({"grant_id": 1, "name": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"grant_id": 1, "name": "x", "expires_in_days": 367}, "expires_in_days"),
        ({"grant_id": 1, "name": "x", "expires_in_days": True}, "expires_in_days"),
        ({"grant_id": 1, "name": "x", "expires_in_days": None}, "expires_in_days"),
        ({"grant_id": 1, "name": "x", "expires_in_days": 30, "scope": "all"}, "scope"),
    ],
)
def test_every_token_must_expire_and_bad_bodies_are_refused(
    shequyun_actors, shequyun_kernel, body, field
):
    admin = shequyun_actors.platform_admin()
    response = admin.client().post("/api/v1/tokens", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    with Session(shequyun_kernel.engine) as session:
        assert len(session.exec(select(ApiToken)).all()) == 1  # the admin's own


def test_tokens_outside_the_subtree_are_not_found_nor_listed(shequyun_actors):
    pudong = shequyun_actors.district_admin(PUDONG)
    xuhui_bureau = shequyun_actors.bureau(XUHUI)
    city_bureau = shequyun_actors.bureau(CITY)
    client = pudong.client()
    assert new_token(client, xuhui_bureau.grant.id).status_code == 404
    assert new_token(client, city_bureau.grant.id).status_code == 404
    assert new_token(client, 999999).json()["error"]["field"] == "grant_id"
    other = new_token(shequyun_actors.district_admin(XUHUI).client(), xuhui_bureau.grant.id)
    assert client.delete(f"/api/v1/tokens/{other.json()['id']}").status_code == 404
    assert client.delete("/api/v1/tokens/999999").status_code == 404
    listed = client.get("/api/v1/tokens").json()["items"]
    assert {t["grant"]["unit"]["code"] for t in listed} == {PUDONG}
    assert xuhui_bureau.grant.id not in {t["grant"]["id"] for t in listed}


def test_tokens_list_in_pages_and_filters(shequyun_actors):
    admin = shequyun_actors.platform_admin()
    bureau = shequyun_actors.bureau(PUDONG)
    client = admin.client()
    for _ in range(3):
        new_token(client, bureau.grant.id)
    first = client.get("/api/v1/tokens", params={"limit": 2}).json()
    second = client.get(
        "/api/v1/tokens", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = client.get(
        "/api/v1/tokens", params={"limit": 2, "cursor": second["next_cursor"]}
    ).json()
    ids = [t["id"] for page in (first, second, third) for t in page["items"]]
    assert len(ids) == len(set(ids)) == 5 and third["next_cursor"] is None
    mine = client.get("/api/v1/tokens", params={"grant_id": bureau.grant.id}).json()["items"]
    assert len(mine) == 4
    assert (
        len(client.get("/api/v1/tokens", params={"user_id": bureau.user.id}).json()["items"]) == 4
    )
    assert client.get("/api/v1/tokens", params={"limit": 501}).status_code == 422


def test_street_admins_and_cadres_may_not_manage_tokens(shequyun_actors):
    for actor in (shequyun_actors.street_admin(WEIFANG), shequyun_actors.cadre(WEIFANG_1)):
        client = actor.client()
        assert client.get("/api/v1/tokens").status_code == 403
        assert new_token(client, actor.grant.id).status_code == 403


def test_no_token_for_a_revoked_grant_or_an_inactive_user(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin(PUDONG)
    revoked = shequyun_actors.bureau(PUDONG)
    inactive = shequyun_actors.bureau(PUDONG)
    with Session(shequyun_kernel.engine) as session:
        grant = session.get(Grant, revoked.grant.id)
        grant.revoked_at = datetime.now(UTC)
        user = session.get(User, inactive.user.id)
        user.is_active = False
        session.add_all([grant, user])
        session.commit()
    for actor in (revoked, inactive):
        response = new_token(admin.client(), actor.grant.id)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "grant_id"


@pytest.mark.parametrize("shequyun_plugins", [[Hr()]])
def test_no_token_for_a_grant_with_more_administrative_power(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin(PUDONG)
    root = shequyun_actors.make("hr.root", PUDONG)
    response = new_token(admin.client(), root.grant.id)
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "grant_id"
    with Session(shequyun_kernel.engine) as session:
        tokens = session.exec(select(ApiToken).where(ApiToken.grant_id == root.grant.id)).all()
    assert len(tokens) == 1  # only the harness's own
    assert admin.client().delete(f"/api/v1/tokens/{tokens[0].id}").status_code == 403
    assert root.client().get("/api/v1/me").status_code == 200


def test_an_admin_cannot_reach_full_personal_data_through_a_token_for_a_cadre(
    shequyun_actors, shequyun_client
):
    """Delegation must not reach reveal: a district admin may make cadres, who see full ID
    numbers, but a token minted for a cadre's grant would let the admin see them too."""
    admin = shequyun_actors.district_admin(PUDONG)
    cadre = shequyun_actors.cadre(WEIFANG_1)
    refused = new_token(admin.client(), cadre.grant.id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "该授权可查看或导出居民的完整个人信息，令牌只能由持有人本人创建",
        "field": "grant_id",
    }
    # Grants without personal data are the admin's to automate; the platform admin holds it all.
    assert new_token(admin.client(), shequyun_actors.bureau(PUDONG).grant.id).status_code == 201
    city = shequyun_actors.platform_admin()
    assert new_token(city.client(), cadre.grant.id).status_code == 201
