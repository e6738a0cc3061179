"""GET /api/v1/audit: filters, the reader's subtree, cursor pages, and no way to change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shequyun_sdk import hookimpl, requires
from sqlmodel import Session, select
from starlette.responses import JSONResponse
from starlette.routing import Route

from shequyun.identity.models import AuditEntry

PUDONG, XUHUI, CITY = "310115000000", "310104000000", "310000000000"
WEIFANG_STREET, WEIFANG_1, WEIFANG_2 = "310115004000", "310115004001", "310115004002"
MEIYUAN_1, WANPING = "310115005001", "310104003001"
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def write(kernel, units, action, unit=None, *, at=None, **fields):
    """Add one entry as the platform would have (times and units chosen by the test)."""
    with Session(kernel.engine) as session:
        entry = AuditEntry(
            action=action,
            unit_id=units[unit].id if unit else None,
            at=at or datetime.now(UTC),
            **fields,
        )
        session.add(entry)
        session.commit()
        return entry.id


def listing(client, **params):
    response = client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def actions(client, **params):
    return [item["action"] for item in listing(client, **params)["items"]]


@pytest.fixture
def spread(shequyun_kernel, shequyun_units):
    """One entry at each corner of the test tree, and one belonging to no unit."""
    ids = {}
    for action, unit in [
        ("demo.weifang1", WEIFANG_1),
        ("demo.weifang2", WEIFANG_2),
        ("demo.meiyuan", MEIYUAN_1),
        ("demo.pudong", PUDONG),
        ("demo.wanping", WANPING),
        ("demo.city", CITY),
        ("demo.nowhere", None),
    ]:
        ids[action] = write(shequyun_kernel, shequyun_units, action, unit)
    return ids


# -- who sees what ------------------------------------------------------------------------


def test_a_district_admin_sees_only_their_districts_entries(shequyun_actors, spread):
    pudong = shequyun_actors.district_admin(PUDONG).client()
    xuhui = shequyun_actors.district_admin(XUHUI).client()
    assert sorted(actions(pudong, action="demo.")) == [
        "demo.meiyuan",
        "demo.pudong",
        "demo.weifang1",
        "demo.weifang2",
    ]
    assert actions(xuhui, action="demo.") == ["demo.wanping"]


def test_a_street_admin_sees_only_their_street(shequyun_actors, spread):
    street = shequyun_actors.street_admin(WEIFANG_STREET).client()
    assert sorted(actions(street, action="demo.")) == ["demo.weifang1", "demo.weifang2"]


def test_only_a_city_grant_sees_entries_without_a_unit(shequyun_actors, spread):
    admin = shequyun_actors.platform_admin().client()
    everything = actions(admin, action="demo.")
    assert len(everything) == 7 and "demo.nowhere" in everything
    assert "demo.nowhere" not in actions(shequyun_actors.district_admin(PUDONG).client())


def test_a_failed_login_of_an_unknown_user_is_for_platform_admins_only(
    shequyun_actors, shequyun_client
):
    page = shequyun_client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    shequyun_client.post(
        "/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": csrf}
    )
    admin = listing(shequyun_actors.platform_admin().client(), action="login.failed")
    assert [(e["actor_username"], e["unit"]) for e in admin["items"]] == [("nobody", None)]
    assert actions(shequyun_actors.district_admin(PUDONG).client(), action="login.") == []


def test_reading_without_the_permission_is_refused_and_audited(shequyun_actors, shequyun_client):
    assert shequyun_client.get("/api/v1/audit").status_code == 401
    cadre = shequyun_actors.cadre(WEIFANG_1)
    refused = cadre.client().get("/api/v1/audit")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    seen = listing(shequyun_actors.district_admin(PUDONG).client(), action="access.denied")
    [entry] = seen["items"]
    assert entry["actor_username"] == cadre.username
    assert entry["outcome"] == "denied"
    assert entry["unit"]["code"] == WEIFANG_1
    assert entry["detail"]["permission"] == "identity.audit.read"


@requires("identity.users.manage")
async def add_member(request):
    return JSONResponse({"ok": True}, status_code=201)


class Rollcall:
    """A plugin route guarded by identity.users.manage, as a users API would be."""

    MANIFEST = {
        "name": "rollcall",
        "version": "0.1.0",
        "title": {"zh": "花名册"},
        "description": {"zh": "花名册（测试插件）"},
        "sdk": ">=0.1,<0.2",
    }

    @hookimpl
    def register_api_routes(self, plugin):
        return [Route("/members", add_member, methods=["POST"])]


@pytest.fixture
def shequyun_plugins():
    return [Rollcall()]


def test_a_cadre_calling_a_users_manage_route_leaves_a_denial(shequyun_actors):
    cadre = shequyun_actors.cadre(WEIFANG_2)
    refused = cadre.client().post(
        "/api/v1/plugins/rollcall/members", headers={"X-Request-ID": "rollcall-denied-1"}
    )
    assert refused.status_code == 403
    admin = shequyun_actors.street_admin(WEIFANG_STREET).client()
    [entry] = listing(admin, action="access.denied", request_id="rollcall-denied-1")["items"]
    assert entry["actor_username"] == cadre.username
    assert entry["role"] == "identity.cadre"
    assert entry["grant_id"] == cadre.grant.id
    assert entry["detail"] == {
        "permission": "identity.users.manage",
        "method": "POST",
        "path": "/api/v1/plugins/rollcall/members",
    }
    assert listing(shequyun_actors.district_admin(XUHUI).client(), action="access.")["items"] == []


def test_one_entry_by_id_only_inside_the_subtree(shequyun_actors, spread):
    pudong = shequyun_actors.district_admin(PUDONG).client()
    inside = pudong.get(f"/api/v1/audit/{spread['demo.weifang1']}")
    assert inside.status_code == 200
    assert inside.json()["unit"] == {
        "code": WEIFANG_1,
        "name": "潍坊一村居委会",
        "level": "committee",
    }
    for missing in (spread["demo.wanping"], spread["demo.nowhere"], 999999, 10**20):
        response = pudong.get(f"/api/v1/audit/{missing}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert pudong.get("/api/v1/audit/abc").status_code == 404


# -- filters ------------------------------------------------------------------------------


def test_filters_combine(shequyun_actors, shequyun_kernel, shequyun_units):
    def add(action, unit, **fields):
        return write(shequyun_kernel, shequyun_units, action, unit, **fields)

    add("users.created", WEIFANG_1, actor_username="alice", target_type="user", target_id="7")
    add("users.created", WANPING, actor_username="bob", target_type="user", target_id="8")
    add("users.revoked", WEIFANG_2, actor_username="alice", outcome="denied", request_id="r-1")
    add("usersx.other", MEIYUAN_1, actor_username="carol")
    add("tokens.created", PUDONG, actor_username="alice", target_type="token", target_id="7")
    admin = shequyun_actors.platform_admin().client()

    assert actions(admin, action="users.") == ["users.revoked", "users.created", "users.created"]
    assert actions(admin, action="users.", outcome="denied") == ["users.revoked"]
    assert actions(admin, actor="ALICE") == ["tokens.created", "users.revoked", "users.created"]
    assert actions(admin, unit=WEIFANG_STREET) == ["users.revoked", "users.created"]
    assert actions(admin, unit=PUDONG, actor="carol") == ["usersx.other"]
    assert actions(admin, target_type="user", target_id="7") == ["users.created"]
    assert actions(admin, target_id="7") == ["tokens.created", "users.created"]
    assert actions(admin, request_id="r-1") == ["users.revoked"]


def test_the_action_prefix_is_literal(shequyun_actors, shequyun_kernel, shequyun_units):
    write(shequyun_kernel, shequyun_units, "data_export.done", CITY)
    write(shequyun_kernel, shequyun_units, "dataxexport.done", CITY)
    write(shequyun_kernel, shequyun_units, "100%.done", CITY)
    admin = shequyun_actors.platform_admin().client()
    assert actions(admin, action="data_") == ["data_export.done"]
    assert actions(admin, action="100%") == ["100%.done"]


def test_from_is_inclusive_and_to_exclusive(shequyun_actors, shequyun_kernel, shequyun_units):
    for hours in range(4):
        write(
            shequyun_kernel, shequyun_units, f"tick.{hours}", CITY, at=T0 + timedelta(hours=hours)
        )
    admin = shequyun_actors.platform_admin().client()
    shanghai = "2024-05-01T09:00:00+08:00"  # 01:00 UTC
    assert actions(admin, action="tick.", **{"from": shanghai}) == ["tick.3", "tick.2", "tick.1"]
    assert actions(admin, action="tick.", to="2024-05-01T02:00:00Z") == ["tick.1", "tick.0"]
    between = {"from": "2024-05-01T01:00:00Z", "to": "2024-05-01T03:00:00+00:00"}
    assert actions(admin, action="tick.", **between) == ["tick.2", "tick.1"]
    entry = listing(admin, action="tick.0")["items"][0]
    assert datetime.fromisoformat(entry["at"]) == T0


def test_an_unencoded_plus_in_a_time_is_understood(
    shequyun_actors, shequyun_kernel, shequyun_units
):
    write(shequyun_kernel, shequyun_units, "tick.late", CITY, at=T0 + timedelta(hours=2))
    admin = shequyun_actors.platform_admin().client()
    response = admin.get("/api/v1/audit?action=tick.&from=2024-05-01T09:00:00+08:00")
    assert response.status_code == 200, response.text
    assert [e["action"] for e in response.json()["items"]] == ["tick.late"]


# -- pages --------------------------------------------------------------------------------


def test_cursor_pages_walk_the_log_newest_first(shequyun_actors, shequyun_kernel, shequyun_units):
    written = [write(shequyun_kernel, shequyun_units, f"page.{n}", WEIFANG_1) for n in range(7)]
    write(shequyun_kernel, shequyun_units, "other.thing", WEIFANG_1)
    client = shequyun_actors.district_admin(PUDONG).client()
    seen, cursor, pages = [], None, 0
    while True:
        params = {"action": "page.", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = listing(client, **params)
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(written, reverse=True)


def test_an_exactly_full_last_page_has_no_next_cursor(
    shequyun_actors, shequyun_kernel, shequyun_units
):
    for n in range(4):
        write(shequyun_kernel, shequyun_units, f"even.{n}", CITY)
    admin = shequyun_actors.platform_admin().client()
    first = listing(admin, action="even.", limit=2)
    assert first["next_cursor"] is not None
    second = listing(admin, action="even.", limit=2, cursor=first["next_cursor"])
    assert [i["action"] for i in second["items"]] == ["even.1", "even.0"]
    assert second["next_cursor"] is None


def test_the_page_size_defaults_to_50_and_stops_at_500(
    shequyun_actors, shequyun_kernel, shequyun_units
):
    with Session(shequyun_kernel.engine) as session:
        unit_id = shequyun_units[CITY].id
        session.add_all(AuditEntry(action=f"bulk.{n}", unit_id=unit_id) for n in range(501))
        session.commit()
    admin = shequyun_actors.platform_admin().client()
    assert len(listing(admin, action="bulk.")["items"]) == 50
    full = listing(admin, action="bulk.", limit=500)
    assert len(full["items"]) == 500 and full["next_cursor"] is not None


# -- nothing changes it -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_there_is_no_way_to_change_the_log(method, shequyun_actors, shequyun_kernel, spread):
    admin = shequyun_actors.platform_admin().client()
    entry_id = spread["demo.city"]
    for path in ("/api/v1/audit", f"/api/v1/audit/{entry_id}"):
        response = admin.request(method, path, json={"action": "forged"})
        assert response.status_code == 405, path
        assert response.json()["error"]["code"] == "method_not_allowed"
    with Session(shequyun_kernel.engine) as session:
        assert session.get(AuditEntry, entry_id).action == "demo.city"
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "forged")).all() == []


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=%EF%BC%95", "limit"),  # a full-width digit
        ("cursor=-3", "cursor"),
        ("cursor=abc", "cursor"),
        ("cursor=2147483648", "cursor"),  # beyond any id: PostgreSQL ids are 32-bit
        ("from=yesterday", "from"),
        ("from=2024-05-01T08:00:00", "from"),  # no time zone
        ("to=2024-13-01T00:00:00Z", "to"),
        ("from=0001-01-01T00:00:00%2B01:00", "from"),  # before year 1 in UTC
        ("from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z", "to"),
        ("unit=3101", "unit"),
        ("unit=%EF%BC%93%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90" + "0" * 6, "unit"),
        ("unit=999999999999", "unit"),  # well formed, but no such unit
        ("outcome=DENIED!", "outcome"),
        ("action=", "action"),
        ("action=login%20%20" + "x" * 200, "action"),  # over the length limit
        ("actor=" + "a" * 65, "actor"),
        ("action=a&action=b", "action"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(query, field, shequyun_actors):
    response = shequyun_actors.platform_admin().client().get(f"/api/v1/audit?{query}")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["field"] == field
    assert error["message"]


def test_an_unknown_filter_is_a_400_naming_it(shequyun_actors):
    response = shequyun_actors.platform_admin().client().get("/api/v1/audit?colour=red")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "unknown_parameter"
    assert response.json()["error"]["field"] == "colour"


def test_every_bad_filter_is_listed(shequyun_actors):
    response = (
        shequyun_actors.platform_admin().client().get("/api/v1/audit?limit=0&cursor=x&from=soon")
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == ["from", "cursor", "limit"]
