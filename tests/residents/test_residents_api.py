"""The resident information base through /api/v1/residents."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry

from ._data import id_number, resident


def create(client, actor, **overrides):
    response = client.post("/api/v1/residents", json=resident(**overrides), headers=actor.auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_cadre_registers_a_resident_and_sees_it_masked(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    created = create(shequyun_client, cadre)
    assert created["unit"] == {"code": "310115004001", "name": "潍坊一村居委会"}
    assert created["gender"] == "female" and created["birth_date"] == "1945-03-12"
    assert created["id_number"] == "310***********" + id_number()[-4:]
    assert created["phone"] == "138****5678"
    assert created["address"]["label"] == "潍坊一村12号楼3单元402室"
    assert created["tags"] == ["独居老人"]
    assert created["version"] == 1
    fetched = shequyun_client.get(f"/api/v1/residents/{created['id']}", headers=cadre.auth).json()
    assert fetched == created


def test_every_problem_is_reported_at_once_and_nothing_is_written(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    bad = resident(
        name="",
        id_number="310115194503121230",
        phone="12",
        registration="外星",
        tags=["不存在的标签"],
        colour="red",
    )
    response = shequyun_client.post("/api/v1/residents", json=bad, headers=cadre.auth)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"name", "id_number", "phone", "registration", "tags", "colour"}
    checksum = next(d for d in response.json()["error"]["details"] if d["field"] == "id_number")
    assert checksum["message"] == "身份证号校验位不正确"
    assert shequyun_client.get("/api/v1/residents", headers=cadre.auth).json()["items"] == []


def test_the_same_id_number_is_never_registered_twice(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    create(shequyun_client, cadre)
    again = shequyun_client.post(
        "/api/v1/residents", json=resident(name="王秀英2"), headers=cadre.auth
    )
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "id_number"
    elsewhere = shequyun_actors.cadre("310104003001")
    other = shequyun_client.post(
        "/api/v1/residents",
        json=resident(address=None, household_number=None),
        headers=elsewhere.auth,
    )
    assert other.status_code == 409
    assert "潍坊" not in other.text  # the other committee's name does not leak


def test_a_cadre_sees_only_their_committee_and_a_street_sees_its_subtree(
    shequyun_client, shequyun_actors
):
    one = shequyun_actors.cadre("310115004001")
    two = shequyun_actors.cadre("310115004002")
    a = create(shequyun_client, one)
    b = create(
        shequyun_client,
        two,
        id_number=id_number(serial="456"),
        name="李建国",
        address=None,
        household_number=None,
    )

    def ids(actor):
        listed = shequyun_client.get("/api/v1/residents", headers=actor.auth).json()
        return [r["id"] for r in listed["items"]]

    assert ids(one) == [a["id"]]
    assert ids(two) == [b["id"]]
    street = shequyun_actors.street_admin("310115004000")
    assert sorted(ids(street)) == sorted([a["id"], b["id"]])
    assert ids(shequyun_actors.street_admin("310115005000")) == []
    for path in (f"/api/v1/residents/{a['id']}", f"/api/v1/residents/{a['id']}/history"):
        assert shequyun_client.get(path, headers=two.auth).status_code == 404
    patch = shequyun_client.patch(
        f"/api/v1/residents/{a['id']}", json={"version": 1, "name": "x"}, headers=two.auth
    )
    assert patch.status_code == 404


def test_updates_keep_history_and_a_stale_version_gets_the_current_values(
    shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    url = f"/api/v1/residents/{created['id']}"
    updated = shequyun_client.patch(
        url,
        json={"version": 1, "phone": "13900001111", "tags": ["独居老人", "低保"]},
        headers=cadre.auth,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    stale = shequyun_client.patch(url, json={"version": 1, "name": "王秀华"}, headers=cadre.auth)
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale_version"
    assert error["current"]["version"] == 2 and error["current"]["tags"] == ["低保", "独居老人"]
    history = shequyun_client.get(f"{url}/history", headers=cadre.auth).json()["changes"]
    changes = [(c["field"], c["old"], c["new"], c["source"]) for c in history if c["version"] == 2]
    assert ("phone", "138****5678", "139****1111", "api") in changes
    assert ("tags", "独居老人", "低保、独居老人", "api") in changes
    assert all(c["actor"] == cadre.username for c in history)


def test_two_concurrent_writers_one_wins_one_gets_409_and_history_has_one_change(
    shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    url = f"/api/v1/residents/{created['id']}"
    barrier = threading.Barrier(2)
    results = []

    def write(name):
        client = cadre.client()
        barrier.wait()
        results.append(client.patch(url, json={"version": 1, "name": name}).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("王秀华", "王秀兰")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    history = shequyun_client.get(f"{url}/history", headers=cadre.auth).json()["changes"]
    assert [c["field"] for c in history if c["version"] == 2] == ["name"]


def test_a_transfer_moves_the_record_and_the_old_committee_keeps_the_trace(
    shequyun_client, shequyun_actors
):
    one = shequyun_actors.cadre("310115004001")
    created = create(shequyun_client, one)
    moved = shequyun_client.post(
        f"/api/v1/residents/{created['id']}/transfer",
        json={
            "to_unit_code": "310104003001",
            "effective_on": "2026-11-01",
            "reason": "搬家",
            "version": 1,
        },
        headers=one.auth,
    )
    assert moved.status_code == 200, moved.text
    assert (
        shequyun_client.get(f"/api/v1/residents/{created['id']}", headers=one.auth).status_code
        == 404
    )
    out = shequyun_client.get("/api/v1/residents/moved-out", headers=one.auth).json()["items"]
    assert out[0]["name"] == "王秀英" and out[0]["to"] == "宛平南路居委会"
    new = shequyun_actors.cadre("310104003001")
    record = shequyun_client.get(f"/api/v1/residents/{created['id']}", headers=new.auth).json()
    assert record["unit"]["code"] == "310104003001" and record["address"] is None
    history = shequyun_client.get(
        f"/api/v1/residents/{created['id']}/history", headers=new.auth
    ).json()
    assert ("unit", "潍坊一村居委会", "宛平南路居委会") in [
        (c["field"], c["old"], c["new"]) for c in history["changes"]
    ]


def test_revealing_needs_the_permission_and_a_reason_and_is_audited(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    url = f"/api/v1/residents/{created['id']}/reveal"
    no_reason = shequyun_client.post(url, json={"fields": ["id_number"]}, headers=cadre.auth)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    shown = shequyun_client.post(
        url, json={"fields": ["id_number", "phone"], "reason": "上门核实"}, headers=cadre.auth
    )
    assert shown.json() == {"id_number": id_number(), "phone": "13812345678"}
    worker = shequyun_actors.social_worker("310115004001")
    assert (
        shequyun_client.get(f"/api/v1/residents/{created['id']}", headers=worker.auth).status_code
        == 200
    )
    assert (
        shequyun_client.post(
            url, json={"fields": ["phone"], "reason": "想看"}, headers=worker.auth
        ).status_code
        == 403
    )
    with Session(shequyun_kernel.engine) as session:
        actions = [(e.action, e.outcome) for e in session.exec(select(AuditEntry))]
    assert ("resident.revealed", "ok") in actions
    assert ("access.denied", "denied") in actions


def test_id_numbers_are_encrypted_at_rest(shequyun_client, shequyun_actors, shequyun_kernel):
    create(shequyun_client, shequyun_actors.cadre())
    with shequyun_kernel.engine.connect() as connection:
        dump = " ".join(
            str(row) for row in connection.exec_driver_sql("SELECT * FROM kernel_resident")
        )
    assert id_number() not in dump and "13812345678" not in dump


def test_search_by_tag_age_building_and_exact_id(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    old = create(shequyun_client, cadre)
    young = create(
        shequyun_client,
        cadre,
        name="张伟",
        id_number=id_number(born="19900101", serial="111"),
        tags=[],
        address={"compound": "潍坊一村", "building": "7"},
    )

    def find(**params):
        response = shequyun_client.get("/api/v1/residents", params=params, headers=cadre.auth)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert find(tag="独居老人") == [old["id"]]
    assert find(age_min="80") == [old["id"]]
    assert find(age_max="40") == [young["id"]]
    assert find(building="7") == [young["id"]]
    assert find(q="张") == [young["id"]]
    assert find(id_number=id_number()) == [old["id"]]
    assert (
        shequyun_client.get(
            "/api/v1/residents", params={"age_min": "old"}, headers=cadre.auth
        ).json()["error"]["field"]
        == "age_min"
    )


def test_pagination_walks_every_record_without_truncation(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    made = [
        create(
            shequyun_client,
            cadre,
            name=f"居民{i}",
            id_number=id_number(serial=f"{i:03d}"),
            tags=[],
            address=None,
            household_number=None,
        )["id"]
        for i in range(7)
    ]
    seen, after = [], None
    while True:
        params = {"limit": 3, **({"cursor": after} if after else {})}
        page = shequyun_client.get("/api/v1/residents", params=params, headers=cadre.auth).json()
        seen += [r["id"] for r in page["items"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == made


def test_a_cursor_that_is_no_cursor_of_ours_is_a_422_naming_it(shequyun_client, shequyun_actors):
    import base64

    cadre = shequyun_actors.cadre()

    def cursor_of(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for cursor in ("%%%", cursor_of(b"x12"), cursor_of(b"r99999999999")):  # the last past any id
        response = shequyun_client.get(
            "/api/v1/residents", params={"cursor": cursor}, headers=cadre.auth
        )
        assert response.status_code == 422, (cursor, response.text)
        assert response.json()["error"]["field"] == "cursor"


def test_events_reach_subscribers_after_the_commit(
    shequyun_client, shequyun_actors, shequyun_kernel, drain_events
):
    from shequyun_sdk import Subscriber

    received = []
    shequyun_kernel.events.add(
        Subscriber("resident.*", lambda e: received.append((e.type, dict(e.payload))), "probe")
    )
    cadre = shequyun_actors.cadre()
    created = create(shequyun_client, cadre)
    shequyun_client.patch(
        f"/api/v1/residents/{created['id']}",
        json={"version": 1, "name": "王秀华"},
        headers=cadre.auth,
    )
    failed = shequyun_client.patch(
        f"/api/v1/residents/{created['id']}", json={"version": 1, "name": "x"}, headers=cadre.auth
    )
    assert failed.status_code == 409
    drain_events()
    assert [t for t, _ in received] == ["resident.created", "resident.updated"]
    assert received[1][1]["fields"] == ["name"]
    assert "id_number" not in str(received)


def test_two_cadres_registering_one_id_number_at_once_make_one_record(
    shequyun_client, shequyun_actors
):
    one = shequyun_actors.cadre("310115004001")
    two = shequyun_actors.cadre("310115004002")
    barrier = threading.Barrier(2)
    codes = []

    def register(actor, code):
        client = actor.client()
        barrier.wait()
        body = resident(unit_code=code, address=None, household_number=None)
        codes.append(client.post("/api/v1/residents", json=body).status_code)

    threads = [
        threading.Thread(target=register, args=(one, "310115004001")),
        threading.Thread(target=register, args=(two, "310115004002")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409]
    street = shequyun_actors.street_admin("310115004000")
    listed = shequyun_client.get("/api/v1/residents", headers=street.auth).json()["items"]
    assert len(listed) == 1


def test_a_body_that_is_not_an_object_is_named(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    for path in ("/api/v1/residents", "/api/v1/campaigns"):
        response = shequyun_client.post(path, json=["not", "an", "object"], headers=cadre.auth)
        assert response.status_code in (403, 422), path
    refused = shequyun_client.post("/api/v1/residents", json=[1], headers=cadre.auth)
    assert refused.json()["error"] == {
        "code": "validation_failed",
        "message": "请求内容应为 JSON 对象",
        "field": "(body)",
    }


def test_a_unit_filter_naming_a_street_or_district_finds_the_committees_beneath_it(
    shequyun_client, shequyun_actors
):
    """``unit=<street code>`` is the street's committees, within the caller's reach: a district
    administrator narrows to a street, a cadre naming their street still sees only their own
    committee, and another subtree's code finds nobody."""
    one, two = shequyun_actors.cadre("310115004001"), shequyun_actors.cadre("310115004002")
    a = create(shequyun_client, one)["id"]
    b = create(
        shequyun_client, two, id_number=id_number(serial="456"), name="李建国",
        address=None, household_number=None,
    )["id"]  # fmt: skip
    elsewhere = shequyun_actors.cadre("310104003001")
    c = create(
        shequyun_client, elsewhere, id_number=id_number(serial="789"), name="赵丽",
        address=None, household_number=None,
    )["id"]  # fmt: skip

    def ids(actor, unit: str) -> list[int]:
        answer = shequyun_client.get("/api/v1/residents", params={"unit": unit}, headers=actor.auth)
        assert answer.status_code == 200, answer.text
        return sorted(r["id"] for r in answer.json()["items"])

    district = shequyun_actors.district_admin("310115000000")
    assert ids(district, "310115004000") == sorted([a, b])  # the street: both committees
    assert ids(district, "310115000000") == sorted([a, b])  # the district itself
    assert ids(district, "310115004002") == [b]  # one committee, as before
    assert ids(district, "310115005000") == []  # a street of the district with nobody
    assert ids(district, "310104000000") == []  # another district: outside the reach
    street = shequyun_actors.street_admin("310115004000")
    assert ids(street, "310115000000") == sorted([a, b])  # above the reach: the reach
    assert ids(one, "310115004000") == [a]  # a cadre naming their street: still their own
    assert ids(one, "310115000000") == [a]
    assert ids(two, "310115004001") == []  # a neighbouring committee: nobody
    assert ids(elsewhere, "310115004000") == []
    assert c not in ids(shequyun_actors.platform_admin(), "310115000000")
    assert ids(district, "999999999999") == []  # no such unit: nobody, as outside the reach

    for bad in ("潍坊新村街道", "3101150040", "31011500400x"):
        answer = shequyun_client.get(
            "/api/v1/residents", params={"unit": bad}, headers=district.auth
        )
        assert answer.status_code == 422, bad
        assert answer.json()["error"]["field"] == "unit"


def test_moved_out_pages_with_a_cursor_newest_first(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre("310115004001")
    moved = []
    for serial in ("301", "302", "303", "304", "305"):
        made = create(
            shequyun_client, cadre, id_number=id_number(serial=serial), household_number=None
        )
        answer = shequyun_client.post(
            f"/api/v1/residents/{made['id']}/transfer",
            json={"to_unit_code": "310115004002", "effective_on": "2026-11-01", "version": 1},
            headers=cadre.auth,
        )
        assert answer.status_code == 200, answer.text
        moved.append(made["id"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = shequyun_client.get(
            "/api/v1/residents/moved-out", params=params, headers=cadre.auth
        ).json()
        seen += [item["resident_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == moved[::-1] and pages == 3  # every transfer once, newest first
    # The neighbouring committee has had none moved out (they moved in).
    other = shequyun_actors.cadre("310115004002")
    assert shequyun_client.get("/api/v1/residents/moved-out", headers=other.auth).json() == {
        "items": [],
        "next_cursor": None,
    }
    # A cursor of the resident list is not one of this list's.
    listed = shequyun_client.get(
        "/api/v1/residents", params={"limit": 1, "status": "any"}, headers=other.auth
    ).json()
    bad = shequyun_client.get(
        "/api/v1/residents/moved-out",
        params={"cursor": listed["next_cursor"]},
        headers=cadre.auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


def test_the_list_sorts_by_name_update_or_registration_with_a_stable_cursor(
    shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre("310115004001")
    names = ["C王", "A张", "B李", "B李", "D赵"]  # two of one name: the id breaks the tie
    ids = [
        create(
            shequyun_client, cadre, name=name, id_number=id_number(serial=f"{401 + i}"),
            household_number=None,
        )["id"]
        for i, name in enumerate(names)
    ]  # fmt: skip
    for resident_id in (ids[3], ids[0], ids[4]):  # changed in this order, after registering
        answer = shequyun_client.patch(
            f"/api/v1/residents/{resident_id}", json={"version": 1, "phone": None},
            headers=cadre.auth,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text

    def walk(sort: str) -> list[int]:
        seen, cursor = [], None
        while True:
            params = {"limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = shequyun_client.get("/api/v1/residents", params=params, headers=cadre.auth)
            assert page.status_code == 200, page.text
            seen += [r["id"] for r in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen

    by_name = [ids[1], ids[2], ids[3], ids[0], ids[4]]
    assert walk("name") == by_name
    assert walk("-name") == by_name[::-1]
    assert walk("updated") == [ids[1], ids[2], ids[3], ids[0], ids[4]]
    assert walk("-updated")[:3] == [ids[4], ids[0], ids[3]]  # the latest change first
    assert walk("created") == ids and walk("-created") == ids[::-1]

    first = shequyun_client.get(
        "/api/v1/residents", params={"limit": 2, "sort": "name"}, headers=cadre.auth
    ).json()
    for params, field in (
        ({"sort": "age"}, "sort"),
        ({"sort": "updated", "cursor": first["next_cursor"]}, "cursor"),  # another order's
        ({"cursor": first["next_cursor"]}, "cursor"),
    ):
        answer = shequyun_client.get("/api/v1/residents", params=params, headers=cadre.auth)
        assert answer.status_code == 422, params
        assert answer.json()["error"]["field"] == field, (params, answer.text)
