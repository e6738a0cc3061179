"""resident_merge_undone: undoing a merge gives the plugin back what it moved."""

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


def test_undoing_a_merge_puts_the_plugins_references_back(town: Town, visits):  # noqa: F811
    district = town.actors.district_admin("310115000000")
    pair_id, kept, merged = merge_pair(town, district)
    visits.visits.update({1: merged, 2: kept})
    done = town.client.post(
        f"/api/v1/quality/duplicates/{pair_id}/merge", json={"keep": kept}, headers=district.auth
    )
    assert visits.visits == {1: kept, 2: kept}
    undone = town.client.post(
        f"/api/v1/quality/merges/{done.json()['merge']['id']}/undo", headers=district.auth
    )
    assert undone.status_code == 200, undone.text
    assert visits.visits == {1: merged, 2: kept}
