"""One rule for the dates resident input takes (a birth date, a transfer's date), through the
API, the portal and the import alike; refusals name the field in Chinese."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shequyun.residents.dates import DATE_EXAMPLES, read_date
from shequyun.residents.importing import plan_import

from ._data import id_number, resident
from .test_import import HEADER, actor_of, csv_bytes
from .test_residents_api import create

W1, W2 = "310115004001", "310115004002"


@pytest.mark.parametrize(
    "text",
    [
        "1938-11-02",
        "1938-11-2",
        "1938/11/2",
        "1938/11/02",
        "1938.11.2",
        "1938年11月2日",
        "1938年11月2",
        " 1938 / 11 / 2 ",
        "１９３８／１１／２",  # typed by a Chinese input method
        "１９３８年１１月２日",
    ],
)
def test_the_forms_of_one_day(text):
    assert read_date(text) == date(1938, 11, 2)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "19381102",  # date.fromisoformat takes it; a person does not mean a date by it
        "1938-W44-3",  # nor an ISO week date
        "38/11/2",
        "2/11/1938",
        "1938-11/2",  # two separators
        "1938-02-30",
        "1938-13-01",
        "1938年13月1日",
        "1938-11-02T00:00",
        "١٩٣٨-١١-٠٢",  # digits of another script
        "明年",
    ],
)
def test_what_is_not_a_date(text):
    assert read_date(text) is None


def test_dates_and_cells_are_taken_as_they_are():
    assert read_date(date(1950, 3, 8)) == date(1950, 3, 8)
    assert read_date(datetime(1950, 3, 8, 0, 0)) == date(1950, 3, 8)
    assert read_date(19500308) is None and read_date(None) is None


def test_the_api_takes_what_the_import_takes(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    body = resident(id_number=id_number(born="19381102"), birth_date="1938/11/2")
    made = create(shequyun_client, cadre, **body)
    assert made["birth_date"] == "1938-11-02"
    moved = shequyun_client.post(
        f"/api/v1/residents/{made['id']}/transfer",
        json={"to_unit_code": W2, "effective_on": "2026/11/1", "version": 1},
        headers=cadre.auth,
    )
    assert moved.status_code == 200, moved.text
    out = shequyun_client.get("/api/v1/residents/moved-out", headers=cadre.auth).json()
    assert out["items"][0]["effective_on"] == "2026-11-01"


def test_refusals_name_the_field_in_chinese(shequyun_client, shequyun_actors):
    cadre = shequyun_actors.cadre(W1)
    refused = shequyun_client.post(
        "/api/v1/residents",
        json=resident(birth_date="19450312"),
        headers=cadre.auth,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["message"] == f"出生日期：应为日期，如 {DATE_EXAMPLES}"
    assert error["field"] == "birth_date"
    made = create(shequyun_client, cadre)
    for when, message in (("2026-13-01", "迁移日期：应为日期"), (None, "迁移日期：应为日期")):
        answer = shequyun_client.post(
            f"/api/v1/residents/{made['id']}/transfer",
            json={"to_unit_code": W2, "effective_on": when, "version": 1},
            headers=cadre.auth,
        )
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "effective_on"
        assert answer.json()["error"]["message"].startswith(message)
    both = shequyun_client.post(
        f"/api/v1/residents/{made['id']}/transfer",
        json={"to_unit_code": W2, "effective_on": "下月", "reason": "搬" * 201, "version": 1},
        headers=cadre.auth,
    ).json()["error"]
    assert both["message"] == f"迁移日期：应为日期，如 {DATE_EXAMPLES}（共 2 处问题）"
    assert [d["field"] for d in both["details"]] == ["effective_on", "reason"]
    future = shequyun_client.patch(
        f"/api/v1/residents/{made['id']}",
        json={"version": 1, "birth_date": "2999/1/1"},
        headers=cadre.auth,
    ).json()["error"]
    assert future["message"] == "出生日期：不能晚于今天"


def test_the_import_and_the_api_refuse_the_same_dates(shequyun_kernel, shequyun_actors):
    street = actor_of(shequyun_kernel, shequyun_actors.street_admin("310115004000"))
    forms = ["1938/11/2", "1938年11月2日", "1938.11.2", "１９３８／１１／２", "19381102"]
    rows = [
        ["王秀英", id_number(born="19381102", serial=f"{100 + i}"), "户籍", W1]
        + [""] * (len(HEADER) - 4)
        + [form]
        for i, form in enumerate(forms)
    ]
    report = plan_import(
        shequyun_kernel, street, csv_bytes(rows, header=[*HEADER, "出生日期"]), "居民.csv"
    )
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (6, "出生日期", f"应为日期，如 {DATE_EXAMPLES}")
    ]
    assert report.valid == 4
