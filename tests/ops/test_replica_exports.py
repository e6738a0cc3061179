"""Residents' exports read from a read replica when one is healthy: a district's download
does not load the primary, the person who just wrote still gets their own rows, the audit
entry is written to the primary, and with the replica down the primary answers.

The real-replica test runs when ``SHEQUYUN_TEST_REPLICA_URL`` names one (``.ci/standby``
starts it); see tests/ops/test_replicas.py for the fixtures."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from shequyun.app import create_app
from shequyun.identity.models import AuditEntry
from shequyun.replicas import COOKIE

from .servers import free_port
from .test_replicas import (  # noqa: F401 - the replica fixture
    _plain,
    _replay,
    needs_replica,
    new_resident,
    platform_with_replica,
    postgres_only,
    readyz,
    replica,
    wait_for,
)

PURPOSE = "区级重阳节走访名单"


def exported_names(client: TestClient, actor, *, rows_header: bool = True) -> list[str]:
    answer = client.get(
        "/api/v1/residents/export",
        params={"purpose": PURPOSE, "columns": "name", "format": "csv"},
        headers=actor.auth,
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))[1:]
    if rows_header:  # the count (read where the rows are read) matches what was sent
        assert int(answer.headers["x-row-count"]) == len(rows)
    return [row[0] for row in rows]


def portal_names(app, actor) -> list[str]:
    """The names in the portal's download (a form POST), for ``actor`` logged in through
    ``app``'s login form, without the login's own pin to the primary."""
    client = TestClient(app)
    page = client.get("/login")
    login = client.post(
        "/login",
        data={
            "username": actor.username,
            "password": actor.password,
            "csrf_token": _hidden(page.text, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    landing = client.get(login.headers["location"])
    client.cookies.delete(COOKIE)  # the login wrote: its pin would send the download to the primary
    answer = client.post(
        "/residents/export",
        data={"columns": ["name"], "format": "csv", "purpose": PURPOSE},
        headers={"X-CSRF-Token": _hidden(landing.text, "csrf_token")},
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))[1:]
    return [row[0] for row in rows]


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no hidden field {name}"
    return found.group(1)


def export_audits(kernel) -> int:
    with Session(kernel.engine) as session:  # the primary
        return len(
            session.exec(
                select(AuditEntry.id).where(col(AuditEntry.action) == "resident.exported")
            ).all()
        )


def test_an_export_with_its_replica_down_comes_from_the_primary(shequyun_kernel, shequyun_actors):
    postgres_only(shequyun_kernel)
    cadre, district = shequyun_actors.cadre(), shequyun_actors.district_admin()
    down = make_url(shequyun_kernel.settings.database_url).set(port=free_port())
    with (
        platform_with_replica(shequyun_kernel, down.render_as_string(False)) as kernel,
        TestClient(create_app(kernel=kernel)) as client,
    ):
        new_resident(client, cadre)
        elsewhere = TestClient(client.app)  # the district's own program: no cookie of the cadre's
        names = exported_names(elsewhere, district)
        assert readyz(client)["status"] == "degraded"
    assert any(name.startswith("复制测试") for name in names)
    assert export_audits(shequyun_kernel) == 1


@needs_replica
def test_a_district_export_reads_the_replica_and_the_writer_reads_their_own(
    shequyun_kernel,
    shequyun_actors,
    replica,  # noqa: F811 - the fixture imported above
):
    cadre, district = shequyun_actors.cadre(), shequyun_actors.district_admin()
    with (
        platform_with_replica(shequyun_kernel, replica, replica_max_lag=600) as kernel,
        TestClient(app := create_app(kernel=kernel)) as client,
    ):
        elsewhere = TestClient(app)  # the district's program: no cookie of the cadre's
        new_resident(client, cadre)
        wait_for(lambda: readyz(client)["status"] == "ready")
        wait_for(lambda: len(exported_names(elsewhere, district)) == 1)  # replayed
        _replay(_plain(replica), pause=True)

        new_resident(client, cadre)

        # The district reads the replica, which has not replayed the second resident ...
        assert len(exported_names(elsewhere, district)) == 1
        # ... and so does the district's download from the portal's form (a POST) ...
        assert len(portal_names(app, district)) == 1
        # ... while the cadre who just wrote exports from the primary and has both.
        assert len(exported_names(client, cadre)) == 2
        # Every export was audited on the primary, replica or not (a replica takes no writes).
        audited = export_audits(shequyun_kernel)
        assert audited >= 4

        _replay(_plain(replica), pause=False)
        wait_for(lambda: len(exported_names(elsewhere, district)) == 2)
