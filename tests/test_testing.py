"""The harness's databases: every test gets one exactly as the migrations left it.

On PostgreSQL a database given back is emptied and handed out again rather than copied anew
from the template (``shequyun.testing_postgres``); these tests hold it to the promise a fresh
copy keeps. They run on SQLite too, where every database is a fresh copy of a file.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import delete, inspect, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from shequyun.db import make_engine
from shequyun.identity.models import AuditEntry, OrgUnit
from shequyun.identity.revocations import CredentialEpoch
from shequyun.testing import build_test_tree


@pytest.fixture
def databases(shequyun_test_databases, shequyun_kernel):
    """``fresh()`` a database migrated like the test kernel's, ``give_back(url)`` when done."""
    handed: list[str] = []

    def fresh() -> str:
        url = shequyun_test_databases.fresh(shequyun_kernel.migrations)
        handed.append(url)
        return url

    def give_back(url: str) -> None:
        handed.remove(url)
        shequyun_test_databases.drop(url)

    yield SimpleNamespace(
        fresh=fresh, give_back=give_back, postgres=shequyun_test_databases.postgres_url is not None
    )
    for url in handed:
        shequyun_test_databases.drop(url)


def identity(url: str) -> object:
    """Which database ``url`` is: its oid on PostgreSQL (kept when the harness renames a
    database to hand it out again), the file on SQLite."""
    if not url.startswith("postgresql"):
        return url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT oid FROM pg_database WHERE datname = current_database()"
            ).scalar_one()
    finally:
        engine.dispose()


def use(url: str) -> None:
    """Write what tests write: units (their ids move the sequences on), an audit entry and a
    credential change (which moves the one-row credential epoch the migrations wrote)."""
    engine = make_engine(url)
    try:
        build_test_tree(SimpleNamespace(engine=engine))
        with Session(engine) as session:
            session.add(AuditEntry(action="test.used"))
            session.exec(update(CredentialEpoch).values(epoch=CredentialEpoch.epoch + 7))
            session.commit()
    finally:
        engine.dispose()


def test_the_next_database_has_no_rows_ids_start_over_and_the_audit_log_stays_append_only(
    databases,
):
    first = databases.fresh()
    use(first)
    was = identity(first)
    databases.give_back(first)

    second = databases.fresh()
    if databases.postgres:
        assert identity(second) == was  # emptied and handed out again (under a new name)
    engine = make_engine(second)
    try:
        with Session(engine) as session:
            assert session.exec(select(OrgUnit)).all() == []
            assert session.exec(select(AuditEntry)).all() == []
            assert session.exec(select(CredentialEpoch.epoch)).all() == [0]
        units = build_test_tree(SimpleNamespace(engine=engine))
        assert units["310000000000"].id == 1
        with Session(engine) as session:
            session.add(AuditEntry(action="test.used"))
            session.commit()
            with pytest.raises(DBAPIError, match="append-only"):
                session.exec(delete(AuditEntry))
    finally:
        engine.dispose()


def test_a_database_whose_schema_a_test_changed_is_not_handed_out_again(databases):
    first = databases.fresh()
    was = identity(first)
    engine = make_engine(first)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE kernel_org_unit ADD COLUMN nickname TEXT")
    finally:
        engine.dispose()
    databases.give_back(first)

    second = databases.fresh()
    assert identity(second) != was or not databases.postgres
    engine = make_engine(second)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("kernel_org_unit")}
    finally:
        engine.dispose()
    assert "nickname" not in columns and "code" in columns


def test_a_database_a_connection_still_holds_is_not_handed_out_again(databases):
    first = databases.fresh()
    was = identity(first)
    engine = make_engine(first)
    lingering = engine.connect()
    try:
        databases.give_back(first)
        second = databases.fresh()
        assert identity(second) != was or not databases.postgres
    finally:
        lingering.invalidate()
        engine.dispose()
    use(second)  # and it is a database a test can use
