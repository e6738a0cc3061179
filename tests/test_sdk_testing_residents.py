"""``shequyun_sdk.testing.residents``: what a plugin's tests register residents with."""

from __future__ import annotations

import pytest
from shequyun_sdk.testing.residents import id_number, register, remove, resident, transfer

from shequyun.residents.idnumber import validate_id


@pytest.mark.parametrize(
    ("born", "serial"), [("19450312", "124"), ("19400101", "001"), ("20010229", "999")]
)
def test_id_numbers_pass_the_kernels_check(born, serial):
    if born == "20010229":  # not a date: the kernel refuses it, whatever the check digit
        with pytest.raises(ValueError):
            validate_id(id_number(born=born, serial=serial))
        return
    number = id_number(born=born, serial=serial)
    assert validate_id(number) == number and number[6:14] == born


def test_the_check_character_is_the_kernels_for_every_serial():
    from shequyun.residents.idnumber import check_digit

    for serial in range(1000):
        number = id_number(born="19491001", region="110101", serial=f"{serial:03d}")
        assert number[17] == check_digit(number[:17])
    with pytest.raises(ValueError):
        id_number(born="1945")


def test_a_cadre_registers_residents_in_their_committee(shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    elder = register(cadre, name="沈阿婆", id_number=id_number(born="19400101"))
    other = register(cadre, id_number=id_number(serial="125"), tags=["独居老人"])
    assert elder["name"] == "沈阿婆" and elder["unit"]["code"] == "310104003001"
    assert other["tags"] == ["独居老人"] and other["id"] != elder["id"]
    assert resident(phone=None)["phone"] is None


def test_a_refused_registration_fails_the_test_with_the_apis_answer(shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    with pytest.raises(AssertionError, match="id_number"):
        register(cadre, id_number="310104194503120000")


def test_a_cadre_moves_and_removes_residents_as_the_api_does(shequyun_actors):
    here, there = shequyun_actors.cadre("310104003001"), shequyun_actors.cadre("310104003002")
    mover = register(here, name="王先生", id_number=id_number(serial="111"))
    leaver = register(here, name="赵女士", id_number=id_number(serial="222"))

    moved = transfer(here, mover, "310104003002")
    assert moved == {"id": mover["id"], "unit_code": "310104003002", "version": 2}
    assert there.client().get(f"/api/v1/residents/{mover['id']}").json()["unit"]["code"] == (
        "310104003002"
    )
    removed = remove(here, leaver)
    assert (removed["id"], removed["status"], removed["version"]) == (leaver["id"], "removed", 2)
    with pytest.raises(AssertionError, match="该居民已注销"):
        remove(here, {**leaver, "version": removed["version"]})


def test_a_refused_move_fails_the_test_with_the_apis_answer(shequyun_actors):
    cadre = shequyun_actors.cadre("310104003001")
    mover = register(cadre)
    with pytest.raises(AssertionError, match="迁入单位与当前所属居委相同"):
        transfer(cadre, mover, "310104003001")
