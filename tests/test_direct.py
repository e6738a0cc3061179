"""DirectStatement: a Core statement run on the session's DBAPI connection converts values as
SQLAlchemy would, belongs to the session's transaction and fails as SQLAlchemy fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shequyun.direct import DirectStatement

metadata = MetaData()
notes = Table(
    "direct_note",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(20), unique=True, nullable=False),
    Column("body", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
ADD = DirectStatement(
    insert(notes)
    .values(key=bindparam("key"), body=bindparam("body"), at=bindparam("at"))
    .returning(notes.c.id, notes.c.at)
)
FIND = DirectStatement(
    select(notes.c.key, notes.c.body, notes.c.at).where(notes.c.key == bindparam("key"))
)
AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


@pytest.fixture
def engine(shequyun_kernel):
    metadata.create_all(shequyun_kernel.engine)
    yield shequyun_kernel.engine
    metadata.drop_all(shequyun_kernel.engine)


def test_values_go_in_and_come_out_as_through_sqlalchemy(engine):
    with Session(engine) as session:
        [(note_id, at)] = ADD.rows(session, {"key": "a", "body": {"问": [1, "二"]}, "at": AT})
        session.commit()
    with Session(engine) as session:
        [(key, body, found_at)] = FIND.rows(session, {"key": "a"})
        expected = session.execute(select(notes.c.body, notes.c.at)).one()
    assert isinstance(note_id, int) and at == found_at
    assert (key, body) == ("a", {"问": [1, "二"]})
    assert (body, found_at) == tuple(expected)  # datetimes as SQLAlchemy reads them


def test_it_runs_in_the_session_transaction(engine):
    with Session(engine) as session:
        ADD.run(session, {"key": "b", "body": {}, "at": AT})
        assert FIND.rows(session, {"key": "b"})
        session.rollback()
    with Session(engine) as session:
        assert FIND.rows(session, {"key": "b"}) == []


def test_a_taken_key_raises_integrity_error_and_the_session_rolls_back(engine):
    with Session(engine) as session:
        ADD.run(session, {"key": "c", "body": {}, "at": AT})
        session.commit()
        with pytest.raises(IntegrityError):
            ADD.run(session, {"key": "c", "body": {"again": True}, "at": AT})
        session.rollback()
        ADD.run_many(session, [{"key": k, "body": {}, "at": AT} for k in ("d", "e")])
        session.commit()
    with Session(engine) as session:
        assert [FIND.rows(session, {"key": k})[0][1] for k in "cde"] == [{}, {}, {}]


def test_a_missing_parameter_is_refused_rather_than_sent_as_null(engine):
    every_column = DirectStatement(insert(notes))  # names the key too
    with Session(engine) as session, pytest.raises(TypeError, match="id"):
        every_column.run(session, {"key": "f", "body": {}, "at": AT})
