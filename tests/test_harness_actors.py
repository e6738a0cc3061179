"""The harness's actors: users at any unit of Shanghai, not only the small test tree."""

from __future__ import annotations

import pytest


def test_actors_work_for_any_unit_of_shanghais_reference_tree(
    shequyun_client, shequyun_kernel, shequyun_actors
):
    """长宁区's committee is not in the harness's small tree: it is made with the units above."""
    cadre = shequyun_actors.cadre("310105001001")
    assert cadre.unit.name == "华庭花园居委会"
    platform = shequyun_kernel.platform
    with platform.session() as session:
        unit = platform.unit(session, "310105001001")
        names = [u.name for u in platform.unit_ancestors(session, unit)]
    assert names == ["上海市", "长宁区", "华阳路街道"]
    assert cadre.client().get("/api/v1/residents").status_code == 200
    street = shequyun_actors.street_admin("310105001000")  # exists now: reused, not duplicated
    assert street.unit.id == unit.parent_id
    assert shequyun_actors.district_admin("310115000000").unit.name == "浦东新区"


def test_an_unknown_unit_code_is_named_in_the_error(shequyun_client, shequyun_actors):
    with pytest.raises(LookupError, match="310199999001"):
        shequyun_actors.cadre("310199999001")
