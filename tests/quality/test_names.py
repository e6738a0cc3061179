"""One person's name written two ways is still one name when duplicates are looked for."""

from __future__ import annotations

import pytest

from shequyun.quality.names import name_key

from .conftest import Town


@pytest.mark.parametrize(
    ("written", "as_well_as"),
    [
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),  # bullet for the middle dot
        ("阿卜杜．热合曼", "阿卜杜·热合曼"),  # full-width full stop
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),  # katakana middle dot (Japanese input methods)
        ("阿卜杜 · 热合曼", "阿卜杜·热合曼"),  # spaces around the dot
        ("王 小明", "王小明"),
        ("王　小明", "王小明"),  # ideographic space
        ("ＬＩＮ　Ｍｅｉ", "linmei"),  # full-width Latin from a phone keyboard
        ("陳麗華", "陈丽华"),  # a Hong Kong or Taiwan document
        ("張國強", "张国强"),
    ],
)
def test_spellings_of_one_name_share_a_key(written, as_well_as):
    assert name_key(written) == name_key(as_well_as)


@pytest.mark.parametrize(
    ("one", "other"), [("王小明", "王晓明"), ("于芳", "於芳"), ("李娜", "李娜娜")]
)
def test_different_names_keep_different_keys(one, other):
    assert name_key(one) != name_key(other)


def test_duplicates_are_found_across_spellings_and_only_there(town: Town):
    street = town.actors.street_admin("310115004000")
    dotted = town.add(name="阿卜杜·热合曼", born="19700505")
    town.serial += 1  # the same gender
    bulleted = town.add("310115004002", name="阿卜杜•热合曼", born="19700505")
    traditional = town.add(name="陳麗華", born="19651111", phone="13912345678")
    simplified = town.add(name="陈丽华", born="19661111", phone="13912345678")
    town.serial += 1
    other = town.add(name="王晓明", born="19700505")
    town.serial += 1
    town.add(name="王小明", born="19700505")  # a different name, not a spelling of it

    assert town.kernel.quality.duplicates.find() >= 2
    pairs = town.client.get("/api/v1/quality/duplicates", headers=street.auth).json()["pairs"]
    found = {frozenset(r["id"] for r in p["residents"]): p["reason"] for p in pairs}
    assert found[frozenset({dotted, bulleted})] == "missed_transfer"
    assert found[frozenset({traditional, simplified})] == "name_phone"
    assert not [ids for ids in found if other in ids]
    assert town.kernel.quality.duplicates.find() == 0  # found once
