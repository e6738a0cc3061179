"""Two records of one person merged in the data-quality review: the 民情日志 entries and cases
about the merged record name the kept one, and go back when the merge is undone."""

from __future__ import annotations

from .conftest import WANPING, id_number


def registered_twice(xuhui, name, serial):
    """One person registered twice in 宛平南路居委会: same name, gender and birth date."""
    ids = []
    for number, building in ((serial, "12"), (serial + 2, "7")):
        created = xuhui.client.post(
            "/api/v1/residents",
            headers=xuhui.cadre.auth,
            json={
                "name": name,
                "id_number": id_number(number),
                "registration": "户籍",
                "address": {"compound": "宛平小区", "building": building, "room": "101"},
                "household_number": f"WP-{building}-101",
            },
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def about(xuhui, who, path, item_id):
    return xuhui.call(who, "GET", f"{path}/{item_id}").json()["subject"]["key"]


def test_field_logs_and_cases_follow_the_kept_record_and_go_back(xuhui, shequyun_kernel):
    first, second = registered_twice(xuhui, "王秀英", 301)
    household = xuhui.call(xuhui.cadre, "GET", "/picks?kind=household").json()["items"][0]
    visit = xuhui.call(
        xuhui.cadre, "POST", "/logs", {"category": "help", "subject": f"resident:{second}"}
    ).json()
    of_household = xuhui.call(
        xuhui.cadre, "POST", "/logs", {"category": "help", "subject": household["key"]}
    ).json()
    case = xuhui.open(xuhui.street, unit_code=WANPING, subject=f"resident:{second}")

    shequyun_kernel.quality.duplicates.find()
    pairs = xuhui.client.get("/api/v1/quality/duplicates", headers=xuhui.street.auth).json()
    [pair] = [p for p in pairs["pairs"] if {r["id"] for r in p["residents"]} == {first, second}]
    merged = xuhui.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge",
        json={"keep": first},
        headers=xuhui.street.auth,
    )
    assert merged.status_code == 201, merged.text
    moved = merged.json()["merge"]["moved"]["plugins"]["governance"]
    assert moved == {"logs": [visit["id"]], "cases": [case["id"]]}
    assert about(xuhui, xuhui.cadre, "/logs", visit["id"]) == f"resident:{first}"
    assert about(xuhui, xuhui.street, "/cases", case["id"]) == f"resident:{first}"
    assert about(xuhui, xuhui.cadre, "/logs", of_household["id"]) == household["key"]

    undone = xuhui.client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=xuhui.street.auth
    )
    assert undone.status_code == 200, undone.text
    assert about(xuhui, xuhui.cadre, "/logs", visit["id"]) == f"resident:{second}"
    assert about(xuhui, xuhui.street, "/cases", case["id"]) == f"resident:{second}"


def test_a_merge_with_nothing_to_move_leaves_no_trace_of_the_plugin(xuhui, shequyun_kernel):
    first, second = registered_twice(xuhui, "李建国", 401)
    shequyun_kernel.quality.duplicates.find()
    pairs = xuhui.client.get("/api/v1/quality/duplicates", headers=xuhui.street.auth).json()
    [pair] = [p for p in pairs["pairs"] if {r["id"] for r in p["residents"]} == {first, second}]
    merged = xuhui.client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge",
        json={"keep": second},
        headers=xuhui.street.auth,
    )
    assert merged.status_code == 201, merged.text
    assert "governance" not in merged.json()["merge"]["moved"]["plugins"]
