"""An SQLite database whose disk is full answers 503 (retry later), never 500, on the API and
the portal alike, and takes writes again once there is room. The cap stands in for a full
disk: SQLite reports both as ``database or disk is full``."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from ..residents._data import id_number, resident


@pytest.fixture
def full_disk(shequyun_kernel):
    """``full_disk.on()`` leaves the database no room to grow; ``off()`` gives it back."""
    engine = shequyun_kernel.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("a full disk of PostgreSQL's server is an outage like any other (test_outages)")

    class Disk:
        pages = 2**31 - 2

        def on(self) -> None:
            with engine.connect() as connection:
                self.pages = connection.execute(text("PRAGMA page_count")).scalar_one()
            engine.dispose()  # every new connection gets the cap

        def off(self) -> None:
            self.pages = 2**31 - 2
            engine.dispose()

    disk = Disk()

    def cap(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count = {disk.pages}")

    event.listen(engine, "connect", cap)
    yield disk
    event.remove(engine, "connect", cap)
    engine.dispose()


def register(client, cadre, n: int):
    body = resident(id_number=id_number(serial=f"{n:03d}"), name=f"王{n}", phone=f"1381234{n:04d}")
    return client.post("/api/v1/residents", json=body, headers=cadre.auth)


def test_a_full_disk_is_a_503_with_retry_after_then_writes_go_on(
    shequyun_client, shequyun_actors, full_disk
):
    cadre = shequyun_actors.cadre()
    cadre_portal = cadre.portal()
    full_disk.on()
    answers = (register(shequyun_client, cadre, n) for n in range(400))
    refused = next(a for a in answers if a.status_code != 201)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert refused.json()["error"]["code"] == "database_unavailable"

    portal = cadre_portal  # signed in before the disk filled: the form's answer is a 503 page
    form = {
        "csrf_token": portal.headers["X-CSRF-Token"],
        "name": "陈美华",
        "id_number": id_number(born="19520708"),
        "registration": "huji",
    }
    page = portal.post("/residents/new", data=form, follow_redirects=False)
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]

    full_disk.off()
    assert register(shequyun_client, cadre, 999).status_code == 201
