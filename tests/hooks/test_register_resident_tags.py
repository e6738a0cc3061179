"""register_resident_tags: the managed vocabulary grows with plugins, and only it is accepted."""

from __future__ import annotations

import pytest
from shequyun_sdk import TagDefinition, hookimpl

from ..residents._data import resident
from ._plugins import manifest, plugin_listing


class Dementia:
    MANIFEST = manifest("dementia", "认知症关爱")

    @hookimpl
    def register_resident_tags(self, plugin):
        return [TagDefinition("失智老人", "经评估存在认知障碍的老人")]


class Clash:
    MANIFEST = manifest("clash", "重名标签")

    @hookimpl
    def register_resident_tags(self, plugin):
        return [TagDefinition("低保")]


@pytest.fixture
def shequyun_plugins():
    return [Dementia(), Clash()]


def test_a_plugin_tag_can_be_set_and_searched(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    vocabulary = shequyun_client.get("/api/v1/residents/vocabulary", headers=cadre.auth).json()
    names = [t["name"] for t in vocabulary["tags"]]
    assert "失智老人" in names and "独居老人" in names
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(tags=["失智老人"]), headers=cadre.auth
    ).json()
    found = shequyun_client.get("/api/v1/residents", params={"tag": "失智老人"}, headers=cadre.auth)
    assert [r["id"] for r in found.json()["items"]] == [created["id"]]


def test_a_tag_defined_twice_fails_the_second_plugin(shequyun_client):
    clash = plugin_listing(shequyun_client)["clash"]
    assert clash["state"] == "failed"
    assert "already defined by residents" in clash["reason"]
