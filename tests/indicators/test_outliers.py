"""Outliers named: a child far from its siblings, judged by the median and its spread, so that
the outlier itself does not hide by pulling the average towards it."""

from __future__ import annotations

from dataclasses import dataclass, field

from shequyun_sdk import Indicator

from shequyun.indicators.api import figures_view
from shequyun.indicators.figures import figures
from shequyun.indicators.registry import Declared
from shequyun.indicators.tree import Node

DISTRICT = Node(1, None, "310104000000", "徐汇区", "district", "/1/")


def street(number: int) -> Node:
    return Node(
        100 + number,
        1,
        f"3101040{number:02d}000",
        f"第{number}街道",
        "street",
        f"/1/{100 + number}/",
    )


@dataclass
class Sums:
    """A source of sums: ``{unit id: (value, base)}``; the district holds the total."""

    declared: Declared
    by_unit: dict[int, tuple[float, float]]
    error: str | None = None
    keys: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def cell(self, unit_id: int, key: str = "") -> tuple[float, float]:
        if unit_id == DISTRICT.id:
            values = list(self.by_unit.values())
            return sum(v for v, _ in values), sum(b for _, b in values)
        return self.by_unit.get(unit_id, (0.0, 0.0))


def declared(aggregation: str = "ratio") -> Declared:
    spec = Indicator(
        "verified",
        "实名核验居民占比",
        lambda q: None,
        aggregation=aggregation,
        scale=100 if aggregation == "ratio" else 1,
        unit="%",
    )
    return Declared("test.verified", "test", spec)


def shares(percentages: list[float], *, aggregation: str = "ratio") -> dict[str, str | None]:
    """The outlier mark of each street whose share is the given percentage of 1,000."""
    streets = [street(n) for n in range(1, len(percentages) + 1)]
    source = Sums(
        declared(aggregation),
        {s.id: (p * 10, 1000.0) for s, p in zip(streets, percentages, strict=True)},
    )
    found = figures(source, DISTRICT, streets)
    return {row.node.name: row.outlier for row in found.children}


def test_a_street_far_below_its_siblings_is_named_low_and_one_far_above_high():
    marks = shares([61, 63, 60, 62, 64, 61, 12, 63, 62, 97, 60, 61, 63])
    assert {name: mark for name, mark in marks.items() if mark} == {
        "第7街道": "low",
        "第10街道": "high",
    }


def test_ordinary_spread_names_nobody():
    assert not any(shares([55, 58, 61, 64, 67, 70, 73, 76, 79, 82, 85, 88, 91]).values())


def test_too_few_siblings_to_call_one_unusual():
    assert not any(shares([60, 61, 5]).values())


def test_sums_are_not_judged_only_ratios_are():
    # 13 streets of very different sizes: big streets are not "outliers" of a head count.
    assert not any(
        shares([61, 63, 60, 62, 64, 61, 12, 63, 62, 97, 60, 61, 63], aggregation="sum").values()
    )


def test_the_api_and_the_dashboard_name_them():
    streets = [street(n) for n in range(1, 8)]
    source = Sums(
        declared(),
        {
            s.id: (v, 1000.0)
            for s, v in zip(streets, [600, 610, 590, 605, 595, 600, 90], strict=True)
        },
    )
    found = figures(source, DISTRICT, streets)
    view = figures_view(found)
    flagged = [(c["unit"]["name"], c.get("outlier")) for c in view["children"] if c.get("outlier")]
    assert flagged == [("第7街道", "low")]
    assert [r.node.name for r in found.named_outliers] == ["第7街道"]
