"""The API's list page is encoded in one pass (``ResidentReader.page_document``): the same
document, byte for byte, as :meth:`~shequyun.residents.reading.ResidentReader.search`'s page
encoded as the API encoded it before, and the same view of each resident as its own page."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from shequyun_sdk import ResidentAttribute
from sqlalchemy import update

from shequyun.residents.models import Resident
from shequyun.residents.reading import ResidentFilters

from ._data import Eldercare, id_number, resident


@pytest.fixture
def shequyun_plugins():
    return [
        Eldercare(
            ResidentAttribute("care_level", "照护等级", {"type": "integer"}),
            ResidentAttribute("diagnosis", "诊断", {"type": "string"}, sensitive=True),
        )
    ]


def _registered(client, cadre):
    """Residents with and without address, household, tags and attributes."""
    bodies = [
        resident(
            tags=["独居老人", "低保"],  # the view sorts them
            attributes={"eldercare.care_level": 3, "eldercare.diagnosis": "糖尿病"},
        ),
        resident(
            name="张伟",
            id_number=id_number(born="19900101", serial="111"),
            tags=[],
            address=None,
            household_number=None,
        ),
        resident(
            name="李娜",
            id_number=id_number(born="20000229", serial="222"),
            address={"compound": "潍坊一村", "building": "7"},
            household_number=None,
            attributes={"eldercare.care_level": 0},
        ),
    ]
    made = []
    for body in bodies:
        response = client.post("/api/v1/residents", json=body, headers=cadre.auth)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    return made


def test_the_page_document_is_the_search_page_as_the_api_encoded_it(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    test_cadre = shequyun_actors.cadre("310115004001")
    made = _registered(shequyun_client, test_cadre)
    with shequyun_kernel.engine.begin() as connection:  # a time on a whole second, as isoformat
        connection.execute(  # writes it without the microseconds
            update(Resident)
            .where(Resident.id == made[1])
            .values(updated_at=datetime(2026, 12, 7, 6, 30, tzinfo=UTC))
        )
    cadre = shequyun_kernel.authenticator.actor_for(
        test_cadre.user, test_cadre.grant, test_cadre.unit, "test"
    )
    service = shequyun_kernel.residents
    pages = 0
    for filters in (ResidentFilters(), ResidentFilters(tags=("独居老人",))):  # both statements
        after = None
        while True:
            with shequyun_kernel.engine.connect() as connection:
                page = service.search(connection, cadre, filters, after=after, limit=2)
                document = service.page_document(connection, cadre, filters, after=after, limit=2)
            # what list_residents answered before: search's page through the orjson response
            assert document == orjson.dumps({"items": page.items, "next_cursor": page.next_cursor})
            pages += 1
            after = page.next_cursor
            if after is None:
                break
    assert pages == 3

    answer = shequyun_client.get("/api/v1/residents", headers=test_cadre.auth)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    items = answer.json()["items"]
    assert [item["id"] for item in items] == made
    first = items[0]
    assert first["tags"] == ["低保", "独居老人"]
    assert first["attributes"] == {"eldercare.care_level": 3, "eldercare.diagnosis": "******"}
    assert first["birth_date"] == "1945-03-12"
    assert items[1]["updated_at"] == "2026-12-07T06:30:00+00:00"
    assert items[1]["address"] is None and items[1]["household"] is None
    for item in items:  # the list shows each resident as its own page does
        one = shequyun_client.get(f"/api/v1/residents/{item['id']}", headers=test_cadre.auth)
        assert one.json() == item
