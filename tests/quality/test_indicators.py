"""Per-unit quality scores on the decision-support dashboards (the SDK's indicator hook)."""

from __future__ import annotations

import pytest

from .conftest import Town


def test_the_dashboards_show_the_same_scores_as_the_quality_pages(town: Town):
    town.add(born="19100101")
    town.add(phone=None)
    town.kernel.quality.scan()
    district = town.actors.district_admin("310115000000")
    scores = town.client.get(
        "/api/v1/quality/units/310115004000/scores", headers=district.auth
    ).json()
    figures = town.client.get("/api/v1/indicators/units/310115004000", headers=district.auth).json()
    by_name = {i["indicator"]: i for i in figures["indicators"]}
    assert {"quality.score", "quality.completeness", "quality.freshness",
            "quality.open_errors"} <= set(by_name)  # fmt: skip

    street = by_name["quality.score"]["unit"]
    assert street["figure"] == pytest.approx(scores["score"], abs=0.05)
    assert street["base"] == scores["residents"]
    assert by_name["quality.completeness"]["unit"]["figure"] == pytest.approx(
        100 * scores["completeness"], abs=0.01
    )
    assert by_name["quality.open_errors"]["unit"]["value"] == scores["errors"]
    children = {c["unit"]["code"]: c for c in by_name["quality.score"]["children"]}
    for child in scores["children"]:
        assert children[child["unit"]["code"]]["figure"] == pytest.approx(child["score"], abs=0.05)
