"""Every built-in role at its level, against its own unit, siblings and another district.

The expected answer comes from this file's table (what each role may do, and that a grant
covers its unit's subtree), never from the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from shequyun.identity.models import ApiToken, Grant

from ..residents._data import id_number, resident

# Where each actor holds their grant.
ACTORS = {
    "platform_admin": ("identity.platform_admin", "310000000000"),
    "bureau_city": ("identity.bureau", "310000000000"),
    "bureau_pudong": ("identity.bureau", "310115000000"),
    "district_admin_pudong": ("identity.district_admin", "310115000000"),
    "street_admin_weifang": ("identity.street_admin", "310115004000"),
    "cadre_weifang1": ("identity.cadre", "310115004001"),
    "social_worker_weifang1": ("identity.social_worker", "310115004001"),
}

# What each role may do (the role definitions).
MAY = {
    "identity.platform_admin": {"org", "read", "write", "publish"},
    "identity.bureau": {"org", "publish"},
    "identity.district_admin": {"org", "read", "publish"},
    "identity.street_admin": {"org", "read", "write", "publish"},
    "identity.cadre": {"org", "read", "write"},
    "identity.social_worker": {"org", "read"},
}

# Committees: own, sibling committee, sibling street, another district.
TARGETS = ["310115004001", "310115004002", "310115005001", "310104003001"]


def expected(actor: str, action: str, target: str) -> str:
    role, unit = ACTORS[actor]
    if action not in MAY[role]:
        return "forbidden"
    return "allowed" if target.startswith(unit.rstrip("0")) or unit == "310000000000" else "hidden"


def within(unit: str, target: str) -> bool:
    return unit == "310000000000" or target.startswith(unit.rstrip("0"))


@pytest.fixture
def world(shequyun_client, shequyun_actors):
    actors = {name: shequyun_actors.make(role, unit) for name, (role, unit) in ACTORS.items()}
    residents = {}
    for i, code in enumerate(TARGETS):
        cadre = shequyun_actors.cadre(code)
        created = shequyun_client.post(
            "/api/v1/residents",
            headers=cadre.auth,
            json=resident(
                id_number=id_number(serial=f"{i + 1}{i + 1}4"),
                address=None,
                household_number=None,
                unit_code=code,
            ),
        )
        assert created.status_code == 201, created.text
        residents[code] = created.json()
    return actors, residents


CASES = [(a, action, t) for a in ACTORS for action in ("org", "read", "write") for t in TARGETS]


@pytest.mark.parametrize(
    ("actor", "action", "target"), CASES, ids=[f"{a}-{x}-{t}" for a, x, t in CASES]
)
def test_matrix(shequyun_client, world, actor, action, target):
    actors, residents = world
    who = actors[actor]
    if action == "org":
        response = shequyun_client.get(f"/api/v1/org-units/{target}", headers=who.auth)
    elif action == "read":
        response = shequyun_client.get(
            f"/api/v1/residents/{residents[target]['id']}", headers=who.auth
        )
    else:
        response = shequyun_client.patch(
            f"/api/v1/residents/{residents[target]['id']}",
            headers=who.auth,
            json={"version": residents[target]["version"], "registration": "常住"},
        )
    outcome = {200: "allowed", 403: "forbidden", 404: "hidden"}.get(
        response.status_code, response.text
    )
    assert outcome == expected(actor, action, target)


@pytest.mark.parametrize("actor", list(ACTORS))
def test_lists_show_exactly_what_single_reads_allow(shequyun_client, world, actor):
    actors, residents = world
    who = actors[actor]
    listed = shequyun_client.get("/api/v1/residents", headers=who.auth)
    visible = (
        {r["id"] for r in listed.json().get("items", [])} if listed.status_code == 200 else set()
    )
    readable = {
        r["id"] for code, r in residents.items() if expected(actor, "read", code) == "allowed"
    }
    assert visible == readable


@pytest.mark.parametrize(
    "actor", ["bureau_city", "bureau_pudong", "district_admin_pudong", "street_admin_weifang"]
)
def test_publishers_target_only_inside_their_grant(shequyun_client, world, actor):
    from ..collection._forms import COMMITTEE_COUNT, deadline

    actors, _ = world
    who = actors[actor]
    form = shequyun_client.post(
        "/api/v1/forms", headers=who.auth, json={"title": "户数统计", **COMMITTEE_COUNT}
    ).json()
    shequyun_client.post(f"/api/v1/forms/{form['id']}/versions/1/publish", headers=who.auth)
    for target in ("310115004000", "310104000000"):
        opened = shequyun_client.post(
            "/api/v1/campaigns",
            headers=who.auth,
            json={"form_id": form["id"], "version": 1, "deadline": deadline(), "targets": [target]},
        )
        allowed = within(ACTORS[actor][1], target)
        assert opened.status_code == (201 if allowed else 422), (target, opened.text)


def test_a_revoked_or_expired_token_is_refused(shequyun_client, world, shequyun_kernel):
    actors, residents = world
    cadre = actors["cadre_weifang1"]
    url = f"/api/v1/residents/{residents['310115004001']['id']}"
    assert shequyun_client.get(url, headers=cadre.auth).status_code == 200
    with Session(shequyun_kernel.engine) as session:
        grant = session.get(Grant, cadre.grant.id)
        grant.revoked_at = datetime.now(UTC)
        session.add(grant)
        session.commit()
    assert shequyun_client.get(url, headers=cadre.auth).status_code == 401
    worker = actors["social_worker_weifang1"]
    with Session(shequyun_kernel.engine) as session:
        token = session.exec(
            __import__("sqlmodel").select(ApiToken).where(ApiToken.grant_id == worker.grant.id)
        ).one()
        token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(token)
        session.commit()
    assert shequyun_client.get(url, headers=worker.auth).status_code == 401
