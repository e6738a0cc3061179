"""``/api/v1/org-units``: tree browsing, subtree search, changes, and who may reach what."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from shequyun.identity.models import AuditEntry, OrgUnit, OrgUnitChange

API = "/api/v1/org-units"
CITY, PUDONG, XUHUI = "310000000000", "310115000000", "310104000000"
WEIFANG, LUJIAZUI, TIANPING = "310115004000", "310115005000", "310104003000"
WEIFANG_1, WEIFANG_2, MEIYUAN_1 = "310115004001", "310115004002", "310115005001"
WANPING = "310104003001"


def count_units(kernel) -> int:
    with Session(kernel.engine) as session:
        return session.exec(select(func.count()).select_from(OrgUnit)).one()


def count_changes(kernel) -> int:
    with Session(kernel.engine) as session:
        return session.exec(select(func.count()).select_from(OrgUnitChange)).one()


def unit(kernel, code) -> OrgUnit:
    with Session(kernel.engine) as session:
        return session.exec(select(OrgUnit).where(OrgUnit.code == code)).one()


def error(response, status) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


# -- reading ----------------------------------------------------------------------------------


def test_a_unit_shows_its_breadcrumb_children_and_counts(shequyun_actors):
    admin = shequyun_actors.platform_admin().client()
    body = admin.get(f"{API}/{WEIFANG}").json()
    assert body["name"] == "潍坊新村街道"
    assert body["level"] == "street" and body["level_name"] == "街镇"
    assert [c["name"] for c in body["breadcrumb"]] == ["上海市", "浦东新区"]
    assert body["parent"]["code"] == PUDONG
    assert body["children"] == {"open": 2, "closed": 0}
    assert body["open_descendants"] == {"committee": 2}
    assert body["version"] == 1
    city = admin.get(f"{API}/{CITY}").json()
    assert city["parent"] is None and city["breadcrumb"] == []
    assert city["open_descendants"] == {"district": 2, "street": 3, "committee": 5}


def test_the_breadcrumb_stops_at_the_actors_own_unit(shequyun_actors):
    street_admin = shequyun_actors.street_admin(WEIFANG).client()
    body = street_admin.get(f"{API}/{WEIFANG_1}").json()
    assert [c["code"] for c in body["breadcrumb"]] == [WEIFANG]
    own = street_admin.get(f"{API}/{WEIFANG}").json()
    assert own["breadcrumb"] == [] and own["parent"] is None


def test_browsing_lists_the_children_of_the_actors_own_unit_by_default(shequyun_actors):
    district = shequyun_actors.district_admin(PUDONG).client()
    listed = district.get(API).json()
    assert [u["name"] for u in listed["items"]] == ["潍坊新村街道", "陆家嘴街道"]
    assert listed["items"][0]["open_children"] == 2
    assert listed["items"][0]["parent"] == {"code": PUDONG, "name": "浦东新区"}
    assert listed["next_cursor"] is None
    children = district.get(API, params={"parent": WEIFANG}).json()["items"]
    assert [u["code"] for u in children] == [WEIFANG_1, WEIFANG_2]


def test_subtree_search_by_name_level_and_code_prefix(shequyun_actors):
    admin = shequyun_actors.platform_admin().client()
    found = admin.get(API, params={"within": PUDONG, "q": "潍坊"}).json()["items"]
    assert [u["code"] for u in found] == [WEIFANG, WEIFANG_1, WEIFANG_2]
    committees = admin.get(API, params={"within": PUDONG, "level": "committee"}).json()["items"]
    assert [u["code"] for u in committees] == [WEIFANG_1, WEIFANG_2, MEIYUAN_1]
    by_code = admin.get(API, params={"q": "3101040030"}).json()["items"]
    assert [u["code"] for u in by_code] == [TIANPING, WANPING, "310104003002"]
    # Wildcards in q are taken literally.
    assert admin.get(API, params={"q": "%"}).json()["items"] == []


def test_search_pages_by_cursor_and_never_truncates_silently(shequyun_actors):
    admin = shequyun_actors.platform_admin().client()
    seen, cursor = [], None
    while True:
        params = {"within": CITY, "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = admin.get(API, params=params).json()
        assert len(page["items"]) <= 3
        seen += [u["code"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10 and seen == sorted(seen)
    too_many = error(admin.get(API, params={"limit": "501"}), 422)
    assert too_many["field"] == "limit"
    assert error(admin.get(API, params={"cursor": "garbage!"}), 422)["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"parent": "12"}, "parent"),
        ({"parent": PUDONG, "within": PUDONG}, "within"),
        ({"level": "village"}, "level"),
        ({"status": "gone"}, "status"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_list_parameters_name_the_parameter(shequyun_actors, params, field):
    admin = shequyun_actors.platform_admin().client()
    assert error(admin.get(API, params=params), 422)["field"] == field


def test_an_unknown_list_parameter_is_a_400_naming_it(shequyun_actors):
    admin = shequyun_actors.platform_admin().client()
    assert error(admin.get(API, params={"sort": "name"}), 400)["field"] == "sort"


def test_closed_units_are_listed_on_request(shequyun_actors):
    admin = shequyun_actors.platform_admin().client()
    closing = admin.post(f"{API}/{WEIFANG_2}/close", json={"closed_on": "2024-01-01"})
    assert closing.status_code == 200, closing.text
    open_now = admin.get(API, params={"parent": WEIFANG}).json()["items"]
    assert [u["code"] for u in open_now] == [WEIFANG_1]
    closed = admin.get(API, params={"parent": WEIFANG, "status": "closed"}).json()["items"]
    assert [(u["code"], u["closed_on"]) for u in closed] == [(WEIFANG_2, "2024-01-01")]
    everything = admin.get(API, params={"parent": WEIFANG, "status": "all"}).json()["items"]
    assert len(everything) == 2


# -- scope ------------------------------------------------------------------------------------


def test_a_district_admin_of_pudong_cannot_see_or_touch_xuhui(shequyun_actors, shequyun_kernel):
    pudong = shequyun_actors.district_admin(PUDONG).client()
    assert pudong.get(f"{API}/{WEIFANG_1}").status_code == 200
    for code in (XUHUI, TIANPING, WANPING, CITY):
        assert error(pudong.get(f"{API}/{code}"), 404)["message"] == f"找不到组织 {code}"
        assert pudong.get(f"{API}/{code}/history").status_code == 404
        assert pudong.patch(f"{API}/{code}", json={"name": "改名", "version": 1}).status_code == 404
    assert pudong.get(API, params={"parent": XUHUI}).status_code == 422
    assert pudong.get(API, params={"within": CITY}).status_code == 422
    searched = pudong.get(API, params={"q": "路"}).json()["items"]
    assert all(u["code"].startswith("310115") for u in searched)
    # Creating in or moving into 徐汇 is refused like an unknown unit.
    refused = pudong.post(
        API, json={"code": "310104003009", "name": "新居委会", "parent": TIANPING}
    )
    assert error(refused, 422)["field"] == "parent"
    moved = pudong.post(f"{API}/{WEIFANG_1}/move", json={"parent": TIANPING})
    assert error(moved, 422)["field"] == "parent"
    assert unit(shequyun_kernel, XUHUI).name == "徐汇区"
    with Session(shequyun_kernel.engine) as session:
        denials = session.exec(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
    assert any(d.target_id == XUHUI for d in denials)


def test_a_street_admin_sees_their_street_not_the_sibling_street(shequyun_actors):
    weifang = shequyun_actors.street_admin(WEIFANG).client()
    assert weifang.get(f"{API}/{WEIFANG_2}").status_code == 200
    assert weifang.get(f"{API}/{LUJIAZUI}").status_code == 404
    assert weifang.get(f"{API}/{MEIYUAN_1}").status_code == 404
    assert weifang.get(f"{API}/{PUDONG}").status_code == 404
    # Street admins may look but not reorganise (no identity.org.manage).
    assert error(weifang.post(f"{API}/{WEIFANG_1}/close", json={"closed_on": "2025-01-01"}), 403)


def test_a_cadre_reads_their_committee_only_and_changes_nothing(shequyun_actors, shequyun_kernel):
    cadre = shequyun_actors.cadre(WEIFANG_1).client()
    assert cadre.get(f"{API}/{WEIFANG_1}").json()["children"] == {"open": 0, "closed": 0}
    assert cadre.get(API).json()["items"] == []
    assert cadre.get(f"{API}/{WEIFANG_2}").status_code == 404
    before = count_changes(shequyun_kernel)
    for method, path, body in [
        ("PATCH", f"{API}/{WEIFANG_1}", {"name": "改名", "version": 1}),
        ("POST", API, {"code": "310115004009", "name": "新居委会", "parent": WEIFANG}),
        ("POST", f"{API}/{WEIFANG_1}/close", {"closed_on": "2025-01-01"}),
        ("POST", f"{API}/merge", {"units": [WEIFANG_1, WEIFANG_2], "into": WEIFANG_1}),
    ]:
        assert cadre.request(method, path, json=body).status_code == 403
    assert count_changes(shequyun_kernel) == before


def test_anonymous_requests_are_refused(shequyun_client, shequyun_units):
    assert error(shequyun_client.get(f"{API}/{CITY}"), 401)["code"] == "not_authenticated"


def test_a_city_bureau_reads_everywhere_but_cannot_change(shequyun_actors):
    bureau = shequyun_actors.bureau(CITY).client()
    assert bureau.get(f"{API}/{WANPING}").status_code == 200
    assert bureau.get(f"{API}/{WEIFANG_1}").status_code == 200
    assert bureau.patch(f"{API}/{WANPING}", json={"name": "x", "version": 1}).status_code == 403


def test_a_move_carries_scope_with_it(shequyun_actors, shequyun_kernel):
    """A committee moved from 潍坊新村 to 陆家嘴 leaves the 潍坊 admin's reach."""
    weifang = shequyun_actors.street_admin(WEIFANG).client()
    lujiazui = shequyun_actors.street_admin(LUJIAZUI).client()
    district = shequyun_actors.district_admin(PUDONG).client()
    assert weifang.get(f"{API}/{WEIFANG_2}").status_code == 200
    assert lujiazui.get(f"{API}/{WEIFANG_2}").status_code == 404
    moved = district.post(f"{API}/{WEIFANG_2}/move", json={"parent": LUJIAZUI, "version": 1})
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved"] == 1
    assert moved.json()["unit"]["breadcrumb"][-1]["code"] == LUJIAZUI
    assert moved.json()["unit"]["version"] == 2
    assert weifang.get(f"{API}/{WEIFANG_2}").status_code == 404
    assert lujiazui.get(f"{API}/{WEIFANG_2}").status_code == 200
    assert WEIFANG_2 in [u["code"] for u in lujiazui.get(API).json()["items"]]


# -- changing ---------------------------------------------------------------------------------


def test_create_a_committee_and_see_it_in_its_history(shequyun_actors):
    district = shequyun_actors.district_admin(PUDONG)
    client = district.client()
    created = client.post(
        API,
        json={
            "code": "310115004003",
            "name": "潍坊三村居委会",
            "parent": WEIFANG,
            "opened_on": "2025-03-01",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["level"], body["opened_on"], body["parent"]["code"]) == (
        "committee",
        "2025-03-01",
        WEIFANG,
    )
    history = client.get(f"{API}/310115004003/history").json()
    assert history["unit"]["name"] == "潍坊三村居委会"
    assert [(h["action"], h["actor"]) for h in history["items"]] == [("created", district.username)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"code": "31011500400", "name": "短编码", "parent": WEIFANG}, 422, "code"),
        ({"code": WEIFANG_1, "name": "重复", "parent": WEIFANG}, 409, "code"),
        ({"code": "310115004003", "name": "  ", "parent": WEIFANG}, 422, "name"),
        ({"code": "310115004003", "name": "无上级"}, 422, "parent"),
        ({"code": "310115004003", "name": "未知上级", "parent": "310115999000"}, 422, "parent"),
        (
            {"code": "310115004003", "name": "错层级", "parent": WEIFANG, "level": "street"},
            422,
            "level",
        ),
        ({"code": "310115004003", "name": "叶子下", "parent": WEIFANG_1}, 422, "parent"),
        (
            {"code": "310115004003", "name": "日期", "parent": WEIFANG, "opened_on": "2025-02-30"},
            422,
            "opened_on",
        ),
        (
            {"code": "310115004003", "name": "多余", "parent": WEIFANG, "colour": "红"},
            422,
            "colour",
        ),
        ({"code": 310115004003, "name": "数字编码", "parent": WEIFANG}, 422, "code"),
        ({"code": "310115004003\n", "name": "换行", "parent": WEIFANG}, 422, "code"),
        ({"code": "３１０１１５００４００３", "name": "全角数字", "parent": WEIFANG}, 422, "code"),
    ],
)
def test_bad_creations_name_the_field_and_write_nothing(
    shequyun_actors, shequyun_kernel, body, status, field
):
    client = shequyun_actors.district_admin(PUDONG).client()
    before = count_units(shequyun_kernel), count_changes(shequyun_kernel)
    assert error(client.post(API, json=body), status)["field"] == field
    assert (count_units(shequyun_kernel), count_changes(shequyun_kernel)) == before


def test_a_body_that_is_not_a_json_object_is_refused(shequyun_actors):
    client = shequyun_actors.district_admin(PUDONG).client()
    assert error(client.post(API, content=b"{nope"), 400)["code"] == "invalid_json"
    assert error(client.post(API, json=[1, 2]), 422)["field"] == "body"


def test_rename_needs_the_current_version_and_a_stale_one_gets_409_with_current_values(
    shequyun_actors, shequyun_kernel
):
    first = shequyun_actors.district_admin(PUDONG).client()
    second = shequyun_actors.district_admin(PUDONG).client()
    version = first.get(f"{API}/{WEIFANG_1}").json()["version"]
    assert second.get(f"{API}/{WEIFANG_1}").json()["version"] == version
    renamed = first.patch(
        f"{API}/{WEIFANG_1}", json={"name": "潍坊一村第一居委会", "version": version}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == version + 1
    stale = error(
        second.patch(f"{API}/{WEIFANG_1}", json={"name": "别的名字", "version": version}), 409
    )
    assert stale["field"] == "version"
    assert stale["current"]["name"] == "潍坊一村第一居委会"
    assert stale["current"]["version"] == version + 1
    assert unit(shequyun_kernel, WEIFANG_1).name == "潍坊一村第一居委会"
    missing = error(first.patch(f"{API}/{WEIFANG_1}", json={"name": "x"}), 422)
    assert missing["field"] == "version"
    history = first.get(f"{API}/{WEIFANG_1}/history").json()["items"]
    assert history[-1]["action"] == "renamed"
    assert history[-1]["detail"] == {"from": "潍坊一村居委会", "to": "潍坊一村第一居委会"}


def test_a_move_under_its_own_descendant_is_refused_as_a_cycle(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.platform_admin().client()
    path = unit(shequyun_kernel, WEIFANG).path
    cycle = error(admin.post(f"{API}/{WEIFANG}/move", json={"parent": WEIFANG_1}), 422)
    assert cycle["field"] == "parent" and "循环" in cycle["message"]
    itself = error(admin.post(f"{API}/{WEIFANG}/move", json={"parent": WEIFANG}), 422)
    assert "循环" in itself["message"]
    level = error(admin.post(f"{API}/{WEIFANG_1}/move", json={"parent": PUDONG}), 422)
    assert level["field"] == "parent" and "上级应为街镇" in level["message"]
    assert unit(shequyun_kernel, WEIFANG).path == path


def test_a_street_moves_to_another_district_with_its_committees(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.platform_admin().client()
    moved = admin.post(f"{API}/{LUJIAZUI}/move", json={"parent": XUHUI, "on": "2025-01-01"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved"] == 2
    xuhui_admin = shequyun_actors.district_admin(XUHUI).client()
    assert xuhui_admin.get(f"{API}/{MEIYUAN_1}").json()["breadcrumb"][-1]["code"] == LUJIAZUI
    street = unit(shequyun_kernel, LUJIAZUI)
    assert (
        unit(shequyun_kernel, MEIYUAN_1).path
        == f"{street.path}{unit(shequyun_kernel, MEIYUAN_1).id}/"
    )
    assert unit(shequyun_kernel, LUJIAZUI).path.startswith(unit(shequyun_kernel, XUHUI).path)


def test_closing_needs_the_children_closed_first(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.district_admin(PUDONG).client()
    refused = error(admin.post(f"{API}/{WEIFANG}/close", json={"closed_on": "2025-06-30"}), 422)
    assert refused["field"] == "closed_on"
    assert "仍有 2 个下级" in refused["message"]
    assert {d["message"] for d in refused["details"]} == {
        f"{WEIFANG_1} 潍坊一村居委会",
        f"{WEIFANG_2} 潍坊二村居委会",
    }
    assert unit(shequyun_kernel, WEIFANG).closed_on is None
    for code in (WEIFANG_1, WEIFANG_2):
        assert (
            admin.post(f"{API}/{code}/close", json={"closed_on": "2025-06-30"}).status_code == 200
        )
    closed = admin.post(f"{API}/{WEIFANG}/close", json={"closed_on": "2025-06-30", "version": 1})
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_on"] == "2025-06-30"
    again = error(admin.post(f"{API}/{WEIFANG}/close", json={"closed_on": "2025-07-01"}), 422)
    assert "已于 2025-06-30 撤销" in again["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "closed_on"),
        ({"closed_on": "30/06/2025"}, "closed_on"),
        ({"closed_on": "2025-06-30", "successor": WEIFANG}, "successor"),
        ({"closed_on": "2025-06-30", "successor": "310115999999"}, "successor"),
        ({"closed_on": "2025-06-30", "version": "1"}, "version"),
    ],
)
def test_bad_closes_name_the_field(shequyun_actors, shequyun_kernel, body, field):
    admin = shequyun_actors.district_admin(PUDONG).client()
    assert error(admin.post(f"{API}/{WEIFANG_1}/close", json=body), 422)["field"] == field
    assert unit(shequyun_kernel, WEIFANG_1).closed_on is None


def test_split_a_street_and_hand_its_committees_to_the_new_streets(
    shequyun_actors, shequyun_kernel
):
    admin = shequyun_actors.district_admin(PUDONG).client()
    body = {
        "on": "2025-07-01",
        "into": [
            {"code": "310115004100", "name": "潍坊东街道", "children": [WEIFANG_1]},
            {"code": "310115004200", "name": "潍坊西街道", "children": [WEIFANG_2]},
        ],
    }
    split = admin.post(f"{API}/{WEIFANG}/split", json=body)
    assert split.status_code == 200, split.text
    result = split.json()
    assert result["closed"]["closed_on"] == "2025-07-01"
    assert [s["code"] for s in result["closed"]["successors"]] == ["310115004100", "310115004200"]
    assert [c["opened_on"] for c in result["created"]] == ["2025-07-01", "2025-07-01"]
    assert admin.get(f"{API}/{WEIFANG_1}").json()["parent"]["code"] == "310115004100"
    assert admin.get(f"{API}/{WEIFANG_2}").json()["parent"]["code"] == "310115004200"
    history = admin.get(f"{API}/{WEIFANG}/history").json()["items"]
    assert history[-1]["action"] == "split"
    assert history[-1]["detail"] == {"into": ["310115004100", "310115004200"]}
    new_history = admin.get(f"{API}/310115004100/history").json()["items"]
    assert [h["action"] for h in new_history] == ["created", "split_from"]
    moved = admin.get(f"{API}/{WEIFANG_1}/history").json()["items"][-1]
    assert moved["action"] == "moved" and moved["detail"]["to"]["code"] == "310115004100"


@pytest.mark.parametrize(
    ("into", "field"),
    [
        (
            [{"code": "310115004100", "name": "只有一个", "children": [WEIFANG_1, WEIFANG_2]}],
            "into",
        ),
        (
            [
                {"code": "310115004100", "name": "东", "children": [WEIFANG_1]},
                {"code": "310115004200", "name": "西"},
            ],
            "into",
        ),
        (
            [
                {"code": "310115004100", "name": "东", "children": [WEIFANG_1, MEIYUAN_1]},
                {"code": "310115004200", "name": "西", "children": [WEIFANG_2]},
            ],
            "into[0].children[1]",
        ),
        (
            [
                {"code": LUJIAZUI, "name": "东", "children": [WEIFANG_1]},
                {"code": "310115004200", "name": "西", "children": [WEIFANG_2]},
            ],
            "into[0].code",
        ),
        (
            [
                {"code": "310115004100", "name": "东", "children": [WEIFANG_1]},
                {"code": "310115004100", "name": "西", "children": [WEIFANG_2]},
            ],
            "into[1].code",
        ),
        (
            [
                {"code": "310115004100", "name": "", "children": [WEIFANG_1]},
                {"code": "310115004200", "name": "西", "children": [WEIFANG_2]},
            ],
            "into[0].name",
        ),
    ],
)
def test_bad_splits_name_the_field_and_write_nothing(shequyun_actors, shequyun_kernel, into, field):
    admin = shequyun_actors.district_admin(PUDONG).client()
    before = count_units(shequyun_kernel), count_changes(shequyun_kernel)
    response = admin.post(f"{API}/{WEIFANG}/split", json={"on": "2025-07-01", "into": into})
    assert response.status_code in (409, 422), response.text
    assert response.json()["error"]["field"] == field
    assert (count_units(shequyun_kernel), count_changes(shequyun_kernel)) == before
    assert unit(shequyun_kernel, WEIFANG).closed_on is None


def test_merge_committees_into_a_new_one(shequyun_actors, shequyun_kernel):
    admin = shequyun_actors.street_admin(WEIFANG)
    district = shequyun_actors.district_admin(PUDONG).client()
    merged = district.post(
        f"{API}/merge",
        json={
            "units": [WEIFANG_1, WEIFANG_2],
            "into": {"code": "310115004010", "name": "潍坊联合居委会"},
            "on": "2025-09-01",
        },
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["into"]["parent"]["code"] == WEIFANG
    assert [u["successor"]["code"] for u in body["closed"]] == ["310115004010"] * 2
    listed = admin.client().get(API).json()["items"]
    assert [u["code"] for u in listed] == ["310115004010"]
    history = district.get(f"{API}/310115004010/history").json()["items"]
    assert history[-1]["action"] == "merged_from"
    assert [u["code"] for u in history[-1]["detail"]["from"]] == [WEIFANG_1, WEIFANG_2]


def test_merge_streets_into_an_existing_one_moves_their_committees(
    shequyun_actors, shequyun_kernel
):
    district = shequyun_actors.district_admin(PUDONG).client()
    merged = district.post(
        f"{API}/merge", json={"units": [WEIFANG, LUJIAZUI], "into": LUJIAZUI, "on": "2025-09-01"}
    )
    assert error(merged, 422)["field"] == "into"
    extra = district.post(API, json={"code": "310115006000", "name": "新街道", "parent": PUDONG})
    assert extra.status_code == 201
    merged = district.post(
        f"{API}/merge",
        json={"units": [WEIFANG, "310115006000"], "into": LUJIAZUI, "on": "2025-09-01"},
    )
    assert merged.status_code == 200, merged.text
    committees = district.get(API, params={"parent": LUJIAZUI}).json()["items"]
    assert [u["code"] for u in committees] == [WEIFANG_1, WEIFANG_2, MEIYUAN_1]
    street = unit(shequyun_kernel, LUJIAZUI)
    assert unit(shequyun_kernel, WEIFANG_1).path.startswith(street.path)
    assert unit(shequyun_kernel, WEIFANG).successor_id == street.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"units": [WEIFANG_1], "into": WEIFANG_2, "on": "2025-09-01"}, "units"),
        ({"units": [WEIFANG_1, WEIFANG_1], "into": MEIYUAN_1, "on": "2025-09-01"}, "units[1]"),
        ({"units": [WEIFANG_1, WEIFANG], "into": MEIYUAN_1, "on": "2025-09-01"}, "units[1]"),
        ({"units": [WEIFANG_1, "310115004099"], "into": MEIYUAN_1, "on": "2025-09-01"}, "units[1]"),
        ({"units": [WEIFANG_1, WEIFANG_2], "into": LUJIAZUI, "on": "2025-09-01"}, "into"),
        ({"units": [WEIFANG_1, WEIFANG_2], "on": "2025-09-01"}, "into"),
        ({"units": [WEIFANG_1, WEIFANG_2], "into": MEIYUAN_1}, "on"),
        (
            {
                "units": [WEIFANG_1, MEIYUAN_1],
                "into": {"code": "310115004010", "name": "新"},
                "on": "2025-09-01",
            },
            "parent",
        ),
        (
            {"units": [WEIFANG_1, WEIFANG_2], "into": {"code": "310115004010"}, "on": "2025-09-01"},
            "into.name",
        ),
    ],
)
def test_bad_merges_name_the_field_and_write_nothing(shequyun_actors, shequyun_kernel, body, field):
    district = shequyun_actors.district_admin(PUDONG).client()
    before = count_units(shequyun_kernel), count_changes(shequyun_kernel)
    assert error(district.post(f"{API}/merge", json=body), 422)["field"] == field
    assert (count_units(shequyun_kernel), count_changes(shequyun_kernel)) == before


def test_every_change_is_audited_with_the_unit(shequyun_actors, shequyun_kernel):
    district = shequyun_actors.district_admin(PUDONG)
    client = district.client()
    client.patch(f"{API}/{WEIFANG_1}", json={"name": "潍坊一村新居委会", "version": 1})
    client.post(f"{API}/{WEIFANG_2}/close", json={"closed_on": "2025-01-01"})
    with Session(shequyun_kernel.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action.startswith("org.unit."))
        ).all()
    assert [(e.action, e.target_id, e.actor_username) for e in entries] == [
        ("org.unit.renamed", WEIFANG_1, district.username),
        ("org.unit.closed", WEIFANG_2, district.username),
    ]
    assert entries[0].unit_id == unit(shequyun_kernel, WEIFANG_1).id


def test_the_openapi_document_describes_the_org_routes(shequyun_app):
    from shequyun.openapi import build_document

    paths = build_document(shequyun_app)["paths"]
    assert set(paths["/api/v1/org-units"]) == {"get", "post"}
    assert set(paths["/api/v1/org-units/{code}"]) == {"get", "patch"}
    for suffix in ("history", "move", "close", "split"):
        assert f"/api/v1/org-units/{{code}}/{suffix}" in paths
    assert "/api/v1/org-units/merge" in paths
