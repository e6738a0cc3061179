"""The city operations platform's intake: Open311-like, idempotent by its own id."""

from __future__ import annotations

import threading

import pytest

from .conftest import API, DISTRICT, WANPING


@pytest.fixture
def operations(xuhui):
    """The city operations platform's account, on 徐汇区."""
    return xuhui.actors.make("governance.operations_platform", DISTRICT)


REQUEST = {
    "service_request_id": "SH12345-20261206-0001",
    "service_code": "environment",
    "description": "宛平南路88弄垃圾箱房满溢，气味很大",
    "address_string": "徐汇区宛平南路88弄",
    "lat": 31.19,
    "long": 121.45,
    "unit_code": "310104003000",
}


def test_the_same_external_id_twice_stores_one_case(xuhui, operations):
    first = xuhui.client.post(f"{API}/intake/requests", json=REQUEST, headers=operations.auth)
    assert first.status_code == 201, first.text
    again = xuhui.client.post(f"{API}/intake/requests", json=REQUEST, headers=operations.auth)
    assert again.status_code == 200
    assert again.json()["case_id"] == first.json()["case_id"]
    body = first.json()
    assert body["status"] == "open" and body["service_name"] == "环境卫生"
    assert body["agency_responsible"] == "天平路街道"
    listed = xuhui.call(xuhui.district, "GET", "/cases?source=city").json()
    assert listed["total"] == 1

    # The street handles it; the platform reads the state back by its own id.
    case_id = body["case_id"]
    xuhui.step(xuhui.street, case_id, "accept")
    xuhui.step(xuhui.street, case_id, "report", note="已清运")
    state = xuhui.client.get(
        f"{API}/intake/requests/{REQUEST['service_request_id']}", headers=operations.auth
    ).json()
    assert state["status_detail"] == "reported" and state["status_notes"] == "已清运"


def test_two_sends_racing_still_store_one_case(xuhui, operations):
    body = {**REQUEST, "service_request_id": "SH12345-RACE"}
    start = threading.Barrier(2)
    codes: list[int] = []

    def send():
        start.wait()
        codes.append(
            xuhui.client.post(
                f"{API}/intake/requests", json=body, headers=operations.auth
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 201]
    assert xuhui.call(xuhui.district, "GET", "/cases?source=city").json()["total"] == 1


def test_a_request_is_routed_by_the_building_it_names(xuhui, operations):
    resident = xuhui.resident("王秀英", building="12")
    assert resident
    body = {**REQUEST, "service_request_id": "SH-ROUTE-1", "address_string": "宛平小区12号楼北侧"}
    body.pop("unit_code")
    routed = xuhui.client.post(f"{API}/intake/requests", json=body, headers=operations.auth)
    assert routed.status_code == 201, routed.text
    assert routed.json()["agency_responsible"] == "宛平南路居委会"
    unknown = {**body, "service_request_id": "SH-ROUTE-2", "address_string": "不知道哪里"}
    refused = xuhui.client.post(f"{API}/intake/requests", json=unknown, headers=operations.auth)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "unit_code"


def test_the_intake_needs_its_role_and_good_input(xuhui, operations):
    denied = xuhui.client.post(f"{API}/intake/requests", json=REQUEST, headers=xuhui.street.auth)
    assert denied.status_code == 403
    bad = xuhui.client.post(
        f"{API}/intake/requests",
        json={**REQUEST, "service_request_id": "bad id with spaces"},
        headers=operations.auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "service_request_id"
    services = xuhui.client.get(f"{API}/intake/services", headers=operations.auth).json()
    assert {"service_code": "elevator", "service_name": "加装电梯"}.items() <= services[5].items()
    assert WANPING
