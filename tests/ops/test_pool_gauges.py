"""The pool gauges of /metrics stay true through an outage. A pooled connection found dead on
checkout (the kernel's idle ping) is replaced; when the replacement cannot be opened (the
database down), SQLAlchemy checks the record in though it was never lent, and the gauge of
connections in use went below zero by one each time (-36 after PgBouncer was stopped for 45 s);
when it can, the checkout is announced twice and was counted twice."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shequyun.metrics import POOL_IN_USE, POOL_OPEN, watch_pool


def value(gauge, label: str) -> float:
    for metric in gauge.collect():
        for sample in metric.samples:
            if sample.labels.get("database") == label:
                return float(sample.value)
    return 0.0


def test_failed_connections_are_not_counted_as_returned(tmp_path):
    missing = tmp_path / "no-such-directory" / "shequyun.db"
    engine = create_engine(f"sqlite:///{missing}")
    watch_pool(engine, "outage-test", 20)
    try:
        for _ in range(3):
            with pytest.raises(OperationalError), engine.connect():
                pass
        assert value(POOL_IN_USE, "outage-test") == 0
        assert value(POOL_OPEN, "outage-test") == 0

        missing.parent.mkdir()  # the database is back
        with engine.connect() as first, engine.connect() as second:
            first.execute(text("SELECT 1"))
            second.execute(text("SELECT 1"))
            assert value(POOL_IN_USE, "outage-test") == 2
        assert value(POOL_IN_USE, "outage-test") == 0
        assert value(POOL_OPEN, "outage-test") == 2
    finally:
        engine.dispose()


def test_a_dead_connection_that_cannot_be_replaced_is_not_counted_as_returned(tmp_path):
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError

    directory = tmp_path / "data"
    directory.mkdir()
    engine = create_engine(f"sqlite:///{directory / 'db.sqlite'}")
    down = []

    @event.listens_for(engine, "checkout")  # before the gauges' own, as the idle ping is
    def ping(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
        if down:
            raise DisconnectionError("server closed the connection unexpectedly")

    watch_pool(engine, "dead-test", 20)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        directory.rename(tmp_path / "elsewhere")  # the database cannot be reached
        down.append(True)
        for _ in range(3):
            with pytest.raises(OperationalError), engine.connect():
                pass
        assert value(POOL_IN_USE, "dead-test") == 0
    finally:
        engine.dispose()


def test_a_connection_replaced_on_checkout_is_counted_once(tmp_path):
    """A pooled connection found dead on checkout is replaced and checked out again: one loan."""
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    watch_pool(engine, "replaced-test", 20)
    refused = []

    @event.listens_for(engine, "checkout")
    def refuse_once(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
        if not refused:
            refused.append(record)
            raise DisconnectionError("gone")

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            assert refused and value(POOL_IN_USE, "replaced-test") == 1
        assert value(POOL_IN_USE, "replaced-test") == 0
    finally:
        engine.dispose()
