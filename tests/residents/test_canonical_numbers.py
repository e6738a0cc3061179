"""One canonical form for ID numbers and phones: exotic digits never register a person twice.

Python's ``\\d`` and ``int()`` accept any Unicode decimal digit, and the lookup hash used to be
taken over the raw text, so an ID number typed with full-width or Arabic-Indic digits was a
new person to the duplicate check, in another committee too.
"""

from __future__ import annotations

import pytest
from shequyun_sdk.numbers import (
    canonical_id_number,
    canonical_phone,
    is_canonical_id_number,
    is_canonical_phone,
)

from shequyun.residents.idnumber import IdNumberError, validate_id, validate_phone

from ._data import id_number, resident

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_full_width_digits_and_spaces_become_the_ascii_form():
    ascii_form = id_number(serial="123")
    assert canonical_id_number(ascii_form.translate(FULLWIDTH)) == ascii_form
    assert validate_id(" " + ascii_form[:6] + " " + ascii_form[6:].lower()) == ascii_form
    assert canonical_phone("１３８ １２３４-５６７８") == "13812345678"
    assert canonical_phone("+86 138 1234 5678") == "13812345678"
    assert validate_phone("02158881234") == validate_phone("021-58881234") == "021-58881234"
    assert validate_phone("057188881234") == "0571-88881234"


def test_digits_of_other_scripts_are_refused():
    arabic = id_number(serial="123").translate(ARABIC_INDIC)
    with pytest.raises(IdNumberError):
        validate_id(arabic)
    with pytest.raises(IdNumberError):
        validate_id(id_number()[:-1] + "x\u0663")
    with pytest.raises(ValueError):
        validate_phone("١٣٨١٢٣٤٥٦٧٨")
    assert not is_canonical_id_number(arabic)
    assert not is_canonical_phone("1381234567\u0663")


@pytest.mark.parametrize("spelling", [FULLWIDTH, None])
def test_a_person_registered_elsewhere_is_found_whatever_the_digits(
    shequyun_client, shequyun_actors, spelling
):
    first = shequyun_actors.cadre("310115004001")
    other = shequyun_actors.cadre("310104003001")  # another district
    number = id_number(serial="123")
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(id_number=number), headers=first.auth
    )
    assert created.status_code == 201, created.text
    typed = number.translate(spelling) if spelling else " ".join([number[:6], number[6:]])
    again = shequyun_client.post(
        "/api/v1/residents", json=resident(id_number=typed), headers=other.auth
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["field"] == "id_number"
    found = shequyun_client.get(
        "/api/v1/residents", params={"id_number": typed}, headers=first.auth
    ).json()
    assert [r["id"] for r in found["items"]] == [created.json()["id"]]


def test_arabic_indic_digits_are_refused_not_registered(shequyun_client, shequyun_actors):
    first = shequyun_actors.cadre("310115004001")
    other = shequyun_actors.cadre("310104003001")
    number = id_number(serial="123")
    assert (
        shequyun_client.post(
            "/api/v1/residents", json=resident(id_number=number), headers=first.auth
        ).status_code
        == 201
    )
    exotic = number[:-2] + number[-2].translate(ARABIC_INDIC) + number[-1]
    refused = shequyun_client.post(
        "/api/v1/residents",
        json=resident(id_number=exotic, phone="١٣٨١٢٣٤٥٦٧٨"),
        headers=other.auth,
    )
    assert refused.status_code == 422
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"id_number", "phone"}


def test_a_phone_is_searched_in_its_canonical_form(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre()
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(phone="021 5888 1234"), headers=cadre.auth
    ).json()
    for typed in ("021-58881234", "０２１５８８８１２３４"):
        found = shequyun_client.get(
            "/api/v1/residents", params={"phone": typed}, headers=cadre.auth
        ).json()
        assert [r["id"] for r in found["items"]] == [created["id"]]


def test_rows_stored_before_the_canonical_form_are_reported_and_fixed(
    shequyun_client, shequyun_actors, shequyun_kernel
):
    from click.testing import CliRunner
    from sqlmodel import Session

    from shequyun.cli import main
    from shequyun.residents.models import Resident

    cadre = shequyun_actors.cadre("310115004001")
    number = id_number(serial="123")
    ids = []
    for body in (
        resident(id_number=number),
        resident(name="李四", id_number=id_number(serial="125")),
        resident(name="张三", id_number=id_number(serial="127")),
    ):
        created = shequyun_client.post("/api/v1/residents", json=body, headers=cadre.auth)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    cipher = shequyun_kernel.residents.cipher
    # What an older version stored: the text as typed, hashed as typed.
    as_typed = {
        ids[1]: ("id_number", number.translate(FULLWIDTH)),  # the first person, again
        ids[2]: ("phone", "１３８１２３４５６７８"),
    }
    with Session(shequyun_kernel.engine) as session:
        for resident_id, (field, value) in as_typed.items():
            row = session.get(Resident, resident_id)
            setattr(row, f"{field}_enc", cipher.encrypt(value))
            setattr(row, f"{field}_hash", cipher.lookup_hash(value))
            session.add(row)
        session.commit()
    env = {
        "SHEQUYUN_DATABASE_URL": shequyun_kernel.settings.effective_database_url,
        "SHEQUYUN_DATA_DIR": str(shequyun_kernel.settings.data_dir),
        "SHEQUYUN_PLUGINS_ALLOWED": "",  # the kernel alone, as migrated for this test
    }
    runner = CliRunner()
    checked = runner.invoke(main, ["residents", "check-numbers"], env=env)
    assert checked.exit_code == 1, checked.output
    assert f"居民 {ids[1]}（310115004001）id_number: 与其他居民重复" in checked.output
    assert f"与居民 {ids[0]} 为同一身份证号" in checked.output
    assert f"居民 {ids[2]}（310115004001）phone: 未规范 １３８****５６７８" in checked.output
    fixed = runner.invoke(main, ["residents", "check-numbers", "--fix"], env=env)
    assert "已规范 1 处" in fixed.output
    assert fixed.exit_code == 1  # the duplicate is a cadre's to merge
    assert "phone" not in fixed.output.split("已规范")[1]
    found = shequyun_client.get(
        "/api/v1/residents", params={"phone": "13812345678"}, headers=cadre.auth
    ).json()
    assert ids[2] in [r["id"] for r in found["items"]]


def test_every_door_takes_the_canonical_form_and_refuses_other_scripts(
    shequyun_kernel, shequyun_client, shequyun_actors
):
    """The update, the import and verify_resident (what sign-up's verification calls) read
    full-width digits as the ASCII ones and refuse Arabic-Indic ones, as creating does."""
    import csv
    import io

    from sqlmodel import Session

    from shequyun.residents.importing import plan_import

    cadre = shequyun_actors.cadre("310115004001")
    number = id_number(serial="123")
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(id_number=number), headers=cadre.auth
    ).json()
    url = f"/api/v1/residents/{created['id']}"

    for field, value in (("id_number", number.translate(ARABIC_INDIC)), ("phone", "١٣٨١٢٣٤٥٦٧٨")):
        refused = shequyun_client.patch(url, json={"version": 1, field: value}, headers=cadre.auth)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field, value
    updated = shequyun_client.patch(
        url, json={"version": 1, "phone": "１３９ ００００ １１１１"}, headers=cadre.auth
    )
    assert updated.status_code == 200, updated.text
    found = shequyun_client.get(
        "/api/v1/residents", params={"phone": "13900001111"}, headers=cadre.auth
    ).json()
    assert [r["id"] for r in found["items"]] == [created["id"]]

    def import_plan(id_text: str):
        out = io.StringIO()
        csv.writer(out).writerows([["姓名", "身份证号", "户籍类型"], ["王秀英", id_text, "户籍"]])
        actor = shequyun_kernel.authenticator.actor_for(cadre.user, cadre.grant, cadre.unit, "t")
        return plan_import(shequyun_kernel, actor, out.getvalue().encode("utf-8-sig"), "a.csv")

    same_person = import_plan(number.translate(FULLWIDTH))
    assert not same_person.errors and same_person.updated + same_person.unchanged == 1
    assert same_person.created == 0  # the person already registered, not a second one
    arabic = import_plan(number.translate(ARABIC_INDIC))
    assert [e.column for e in arabic.errors] == ["身份证号"] and arabic.created == 0

    platform = shequyun_kernel.platform
    with Session(shequyun_kernel.engine) as session:
        name, phone = created["name"], "13900001111"
        typed = number.translate(FULLWIDTH)
        assert platform.verify_resident(session, name=name, id_number=typed, phone=phone)
        wide_phone = "１３９００００１１１１"
        assert platform.verify_resident(session, name=name, id_number=number, phone=wide_phone)
        arabic_id = number.translate(ARABIC_INDIC)
        assert (
            platform.verify_resident(session, name=name, id_number=arabic_id, phone=phone) is None
        )
