"""register_resident_attributes: plugin attributes on every resident, validated on every write."""

from __future__ import annotations

import pytest
from shequyun_sdk import ResidentAttribute, hookimpl

from ..residents._data import resident
from ._plugins import manifest, plugin_listing


class Eldercare:
    MANIFEST = manifest("eldercare", "养老顾问")

    @hookimpl
    def register_resident_attributes(self, plugin):
        return [
            ResidentAttribute(
                "care_level", "照护等级", {"type": "integer", "minimum": 0, "maximum": 6}
            ),
            ResidentAttribute("guardian_phone", "监护人电话", {"type": "string"}, sensitive=True),
        ]


class BrokenSchema:
    MANIFEST = manifest("broken", "坏模式")

    @hookimpl
    def register_resident_attributes(self, plugin):
        return [ResidentAttribute("x", "某属性", {"type": "not-a-type"})]


@pytest.fixture
def shequyun_plugins():
    return [Eldercare(), BrokenSchema()]


def test_attributes_are_validated_stored_and_shown(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    bad = shequyun_client.post(
        "/api/v1/residents",
        json=resident(attributes={"eldercare.care_level": 9}),
        headers=cadre.auth,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "attributes.eldercare.care_level"
    created = shequyun_client.post(
        "/api/v1/residents",
        json=resident(
            attributes={"eldercare.care_level": 3, "eldercare.guardian_phone": "13700001111"}
        ),
        headers=cadre.auth,
    ).json()
    assert created["attributes"] == {
        "eldercare.care_level": 3,
        "eldercare.guardian_phone": "******",
    }
    updated = shequyun_client.patch(
        f"/api/v1/residents/{created['id']}",
        json={"version": 1, "attributes": {"eldercare.care_level": 4}},
        headers=cadre.auth,
    ).json()
    assert updated["attributes"]["eldercare.care_level"] == 4
    history = shequyun_client.get(f"/api/v1/residents/{created['id']}/history", headers=cadre.auth)
    assert ("attributes.eldercare.care_level", "3", "4") in [
        (c["field"], c["old"], c["new"]) for c in history.json()["changes"]
    ]


def test_an_invalid_schema_fails_its_plugin_only(shequyun_client, shequyun_actors):
    listing = plugin_listing(shequyun_client)
    assert listing["broken"]["state"] == "failed"
    assert "register_resident_attributes" in listing["broken"]["reason"]
    assert listing["eldercare"]["state"] == "active"
    unknown = shequyun_client.post(
        "/api/v1/residents",
        json=resident(attributes={"broken.x": 1}),
        headers=shequyun_actors.cadre().auth,
    )
    assert unknown.json()["error"]["field"] == "attributes.broken.x"
