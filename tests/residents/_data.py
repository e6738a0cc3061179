"""Valid ID numbers and resident payloads for tests."""

from __future__ import annotations

from shequyun_sdk import ResidentAttribute, hookimpl

from shequyun.residents.idnumber import check_digit


def id_number(region: str = "310115", born: str = "19450312", serial: str = "124") -> str:
    """A valid 18-character ID number (GB 11643 check digit included)."""
    first = f"{region}{born}{serial}"
    return first + check_digit(first)


def resident(**overrides) -> dict:
    data = {
        "name": "王秀英",
        "id_number": id_number(),
        "registration": "户籍",
        "phone": "13812345678",
        "address": {"compound": "潍坊一村", "building": "12", "entrance": "3", "room": "402"},
        "household_number": "W-0402",
        "tags": ["独居老人"],
    }
    data.update(overrides)
    return data


class Eldercare:
    """A district's 养老顾问 plugin registering ``attributes`` of residents, as a test's
    ``shequyun_plugins`` returns it."""

    MANIFEST = {
        "name": "eldercare",
        "version": "0.1",
        "title": {"zh": "养老顾问", "en": "Elder care"},
        "description": {"zh": "测试", "en": "Test"},
        "sdk": ">=0.1,<0.2",
    }

    def __init__(self, *attributes: ResidentAttribute) -> None:
        self.attributes = list(attributes)

    @hookimpl
    def register_resident_attributes(self, plugin):
        return self.attributes
