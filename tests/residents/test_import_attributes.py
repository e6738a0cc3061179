"""Plugin attributes in an import: by key or title, converted by their schema, validated."""

from __future__ import annotations

import pytest
from shequyun_sdk import ResidentAttribute
from sqlmodel import Session, select

from shequyun.residents.importing import apply_import, plan_import
from shequyun.residents.models import Resident

from ._data import Eldercare, id_number


@pytest.fixture
def shequyun_plugins():
    return [
        Eldercare(
            ResidentAttribute(
                "care_level", "照护等级", {"type": "integer", "minimum": 0, "maximum": 6}
            ),
            ResidentAttribute("lives_alone", "是否独居", {"type": "boolean"}),
            ResidentAttribute("aids", "辅具", {"type": "array", "items": {"type": "string"}}),
        )
    ]


def test_attributes_by_title_or_key_are_converted_and_checked(shequyun_kernel, shequyun_actors):
    test_cadre = shequyun_actors.cadre("310115004001")
    cadre = shequyun_kernel.authenticator.actor_for(
        test_cadre.user, test_cadre.grant, test_cadre.unit, "test"
    )
    header = "姓名,身份证号,户籍类型,照护等级,eldercare.lives_alone,辅具\n"
    bad = (
        header + f"甲,{id_number()},户籍,九,也许,\n" + f"乙,{id_number(serial='200')},户籍,9,是,\n"
    )
    report = plan_import(shequyun_kernel, cadre, bad.encode(), "a.csv")
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert messages[(2, "照护等级")] == "应为整数"
    assert messages[(2, "eldercare.lives_alone")] == "应为 是 或 否"
    assert messages[(3, "照护等级")].startswith("照护等级：")  # the schema's maximum

    good = header + f"甲,{id_number()},户籍,3,是,轮椅、助行器\n"
    assert apply_import(shequyun_kernel, cadre, good.encode(), "a.csv").applied
    with Session(shequyun_kernel.engine) as session:
        person = session.exec(select(Resident)).one()
        assert person.extra == {
            "eldercare": {"care_level": 3, "lives_alone": True, "aids": ["轮椅", "助行器"]}
        }
