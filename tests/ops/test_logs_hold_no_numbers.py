"""No full ID number or phone in the logs or the metrics, whichever door a search comes in by.

Searching residents puts the ID number or the phone in the query string (`/api/v1/residents?
id_number=…`, the export, the portal's search form). The test runs those searches, and a path
with a number typed into it, then looks through every log record of the run, formatted as the
JSON log shipper would see it (access fields included), and through `/metrics`.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from shequyun.logs import JsonFormatter
from shequyun.request_context import masked_path

from ..residents._data import id_number, resident

PHONE = "13812345678"


def test_searches_by_id_number_or_phone_leave_neither_in_the_logs(
    shequyun_client, shequyun_actors, caplog
):
    cadre = shequyun_actors.cadre()
    number = id_number()
    created = shequyun_client.post(
        "/api/v1/residents", json=resident(id_number=number, phone=PHONE), headers=cadre.auth
    )
    assert created.status_code == 201, created.text
    portal = cadre.portal()
    caplog.set_level(logging.DEBUG)
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for path in (
        f"/api/v1/residents?id_number={number}",
        f"/api/v1/residents?phone={PHONE}",
        f"/api/v1/residents?q={number}",
        f"/api/v1/residents/export?id_number={number}&purpose=核对",
        f"/api/v1/residents/{number}",
        f"/api/v1/residents/{quote(full_width)}",
    ):
        assert shequyun_client.get(path, headers=cadre.auth).status_code < 500, path
    for path in (f"/residents?id_number={number}", f"/residents?q={PHONE}", f"/x/{PHONE}"):
        assert portal.get(path).status_code < 500, path
    metrics = shequyun_client.get("/metrics").text
    formatter = JsonFormatter()
    server_records = [  # the test client (httpx) logs its own URLs: not the platform's logs
        r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]
    logged = "\n".join(formatter.format(record) for record in server_records)
    assert "shequyun.access" in logged  # the access lines were captured
    for secret in (number, number[:17], PHONE, full_width):
        assert secret not in logged, secret
        assert secret not in metrics, secret


def test_masked_paths_keep_their_shape():
    assert masked_path("/api/v1/residents/310115194503121245") == (
        "/api/v1/residents/310***********1245"
    )
    assert masked_path("/x/13812345678/y") == "/x/138****5678/y"
    assert masked_path("/api/v1/residents/1234567/history") == "/api/v1/residents/1234567/history"


def test_numbers_in_other_scripts_digits_are_masked_too():
    # Refused by the API (ASCII digits only), but the access line is written all the same.
    arabic_indic = "٣١٠١١٥١٩٤٥٠٣١٢١٢٤٥"
    assert masked_path(f"/api/v1/residents/{arabic_indic}") == (
        f"/api/v1/residents/{arabic_indic[:3]}{'*' * 11}{arabic_indic[-4:]}"
    )
    assert masked_path("/x/１３８１２３４５６７８") == "/x/１３８****５６７８"
