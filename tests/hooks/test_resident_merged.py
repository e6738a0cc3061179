"""resident_merged: a plugin moves its own references when two records are merged; a plugin
that raises stops the merge."""

from __future__ import annotations

import pytest

from ..quality.conftest import Town, town  # noqa: F401 (the fixture)
from ._visits import Visits, merge_pair


@pytest.fixture
def visits() -> Visits:
    return Visits()


@pytest.fixture
def shequyun_plugins(visits):
    return [visits]


def test_a_plugins_references_follow_the_merge(town: Town, visits):  # noqa: F811
    district = town.actors.district_admin("310115000000")
    pair_id, kept, merged = merge_pair(town, district)
    visits.visits.update({1: merged, 2: kept, 3: merged})
    done = town.client.post(
        f"/api/v1/quality/duplicates/{pair_id}/merge", json={"keep": kept}, headers=district.auth
    )
    assert done.status_code == 201, done.text
    assert visits.visits == {1: kept, 2: kept, 3: kept}
    assert done.json()["merge"]["moved"]["plugins"] == {"visits": {"visits": [1, 3]}}


def test_a_plugin_that_raises_stops_the_merge(town: Town, visits):  # noqa: F811
    visits.refuse = True
    district = town.actors.district_admin("310115000000")
    pair_id, kept, _ = merge_pair(town, district)
    refused = town.client.post(
        f"/api/v1/quality/duplicates/{pair_id}/merge", json={"keep": kept}, headers=district.auth
    )
    assert refused.status_code == 409
    assert "visits" in refused.json()["error"]["message"]
    pairs = town.client.get("/api/v1/quality/duplicates", headers=district.auth).json()["pairs"]
    assert any(p["id"] == pair_id for p in pairs)  # still open: nothing was merged
