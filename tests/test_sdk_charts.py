"""shequyun_sdk.charts: the SVG charts the portal and plugins draw on the server."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shequyun_sdk import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{SVG}text")]


def test_a_bar_chart_writes_each_label_and_value_and_escapes_labels():
    svg = charts.bar_chart("各街道个案数", [("天平路<街道>", 42), ("湖南路街道", 17)], unit="件")
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "各街道个案数"
    assert "天平路<街道>" in texts(svg)
    assert {"42件", "17件"} <= set(texts(svg))
    bars = [r for r in root.iter(f"{SVG}rect")]
    assert float(bars[0].get("width")) > float(bars[1].get("width")) > 0


def test_a_bar_chart_draws_the_parent_value_as_a_reference_line():
    svg = charts.bar_chart(
        "60岁以上占比",
        [("甲", 30.0), ("乙", 20.0)],
        reference=25.0,
        reference_label="全区",
        unit="%",
    )
    assert len(parse(svg).findall(f"{SVG}line")) == 1
    assert "全区 25%" in texts(svg)


def test_a_line_chart_leaves_a_gap_for_a_period_without_value_and_names_its_lines():
    svg = charts.line_chart(
        "个案数趋势",
        ["1月", "2月", "3月", "4月"],
        [("徐汇区", [3, None, 5, 8]), ("长宁区", [1, 2, 2, 4])],
    )
    root = parse(svg)
    lines = root.findall(f"{SVG}polyline")
    # 徐汇区 is broken by the gap into one two-point line (3月–4月); 长宁区 is one line.
    assert sorted(len(p.get("points").split()) for p in lines) == [2, 4]
    assert {"徐汇区", "长宁区", "8", "4"} <= set(texts(svg))


def test_a_line_chart_of_one_period_or_all_equal_values_still_draws():
    svg = charts.line_chart("单点", ["本月"], [("值", [7.5])], unit="%")
    assert "7.5%" in texts(svg)
    flat = charts.line_chart("持平", ["1月", "2月"], [("值", [0, 0])])
    assert parse(flat).findall(f"{SVG}polyline")


def test_numbers_are_written_plainly():
    assert charts.number(12) == "12"
    assert charts.number(0.625) == "0.625"
    assert charts.number(33.333) == "33.3"
    assert charts.number(40.0) == "40"


def test_progress_bars_and_age_pyramid_keep_their_figures():
    svg = charts.progress_bars("完成情况", [("天平路街道", 3, 1, 8)])
    assert "4/8 (50%)" in texts(svg)
    pyramid = charts.age_pyramid("年龄结构", [("0-9", 10, 12), ("10-19", 8, 9)])
    assert {"10", "12", "8", "9"} <= set(texts(pyramid))
