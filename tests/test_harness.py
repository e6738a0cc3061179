"""The SDK's harness as a plugin author meets it: hooks run once per test, actors at any unit
of Shanghai (not only the small test tree)."""

from __future__ import annotations

import pytest
from shequyun_sdk import NavEntry, hookimpl

from .hooks._plugins import manifest


class Counting:
    """Counts how often the kernel asks for its registrations."""

    MANIFEST = manifest("counting", "计数")

    def __init__(self):
        self.calls = {}

    def _count(self, hook):
        self.calls[hook] = self.calls.get(hook, 0) + 1

    @hookimpl
    def register_nav(self, plugin):
        self._count("register_nav")
        return [NavEntry("计数", plugin.url("/"))]

    @hookimpl
    def register_event_types(self):
        self._count("register_event_types")
        return []

    @hookimpl
    def register_models(self):
        self._count("register_models")
        return []


@pytest.fixture
def counting():
    return Counting()


@pytest.fixture
def shequyun_plugins(counting):
    return [counting]


def test_register_hooks_run_once_per_test(shequyun_client, counting):
    shequyun_client.get("/")
    shequyun_client.get("/")
    assert counting.calls == {"register_nav": 1, "register_event_types": 1, "register_models": 1}


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


def test_testing_md_lists_every_fixture_of_the_harness():
    from _pytest.fixtures import FixtureFunctionDefinition
    from shequyun_sdk.testing import pytest_plugin

    from .conftest import REPO

    fixtures = [
        name
        for name, value in vars(pytest_plugin).items()
        if isinstance(value, FixtureFunctionDefinition)
    ]
    assert "shequyun_actors" in fixtures and "shequyun_portal" in fixtures
    page = (REPO / "docs" / "plugins" / "testing.md").read_text(encoding="utf-8")
    missing = [name for name in fixtures if f"| `{name}` |" not in page]
    assert missing == [], f"docs/plugins/testing.md has no table row for {missing}"


def test_every_committee_of_the_reference_is_reachable_by_its_code():
    """What ``shequyun_actors`` draws on: 6,077 committees, each under a street under a district
    under the city, numbered under its street's code from 001 (居委会) and from 200 (村委会), as
    testing.md says."""
    from shequyun.identity.demo_data import reference_units

    reference = reference_units()
    levels: dict[str, list[str]] = {}
    for code, (_name, level, _parent) in reference.items():
        levels.setdefault(level, []).append(code)
    assert {level: len(codes) for level, codes in levels.items()} == {
        "city": 1,
        "district": 16,
        "street": 215,
        "committee": 6077,
    }
    for code in levels["committee"]:
        street = reference[code][2]
        district = reference[street][2]
        assert (reference[street][1], reference[district][1]) == ("street", "district")
        assert reference[district][2] == "310000000000"
        assert code[:9] == street[:9] and code[9:] != "000"
    for street in levels["street"]:
        numbers = [int(c[9:]) for c in levels["committee"] if reference[c][2] == street]
        for kind, first in (("居委会", 1), ("村委会", 200)):
            mine = sorted(n for n in numbers if (n >= 200) == (first == 200))
            assert mine == list(range(first, first + len(mine))), (street, kind)
        assert numbers, f"{street} has no committee"
