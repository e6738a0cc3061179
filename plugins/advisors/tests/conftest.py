"""Fixtures for the advisors tests: the plugin is loaded through its entry point (the SDK
harness discovers installed plugins), on a fresh database per test, over the harness's small
slice of Shanghai (see ``shequyun_units``)."""

from __future__ import annotations

from typing import Any

import pytest
from shequyun_sdk.identity import UnitRef

API = "/api/v1/plugins/advisors"
WEIFANG = "310115004000"  # 潍坊新村街道
WEIFANG1, WEIFANG2 = "310115004001", "310115004002"
LUJIAZUI1 = "310115005001"  # 陆家嘴街道 梅园一村居委会
TIANPING1 = "310104003001"  # 徐汇区 天平路街道 宛平南路居委会


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int, born: str = "19700312", region: str = "310115") -> str:
    """A valid 18-character ID number (GB 11643 check character included)."""
    first = f"{region}{born}{serial:03d}"
    total = sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


def ref(unit: Any) -> UnitRef:
    return UnitRef(id=unit.id, code=unit.code, name=unit.name, level=unit.level, path=unit.path)


@pytest.fixture
def units(shequyun_units: dict[str, Any]) -> dict[str, UnitRef]:
    return {code: ref(unit) for code, unit in shequyun_units.items()}
