"""``shequyun_sdk.rows.add_unique``: a racing duplicate is the plugin's own 409, not a 500, and
the rest of the transaction survives it (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from shequyun_sdk import Conflict
from shequyun_sdk.rows import add_unique
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Meal(Base):
    __tablename__ = "rows_test_meal"
    __table_args__ = (UniqueConstraint("enrolment", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(10))


@pytest.fixture
def engine(shequyun_kernel):
    Base.metadata.create_all(shequyun_kernel.engine)
    yield shequyun_kernel.engine
    Base.metadata.drop_all(shequyun_kernel.engine)


def test_a_duplicate_is_the_given_conflict_and_the_transaction_goes_on(engine):
    taken = Conflict("该居民当天的用餐已记录", field="day")
    with Session(engine) as session:
        first = add_unique(session, Meal(enrolment=1, day="2026-12-07"), taken)
        assert first.id is not None
        with pytest.raises(Conflict) as caught:
            add_unique(session, Meal(enrolment=1, day="2026-12-07"), taken)
        assert caught.value is taken
        add_unique(session, Meal(enrolment=1, day="2026-12-08"), taken)
        session.commit()
    with Session(engine) as session:
        days = session.scalars(select(Meal.day).order_by(Meal.day)).all()
    assert days == ["2026-12-07", "2026-12-08"]


def test_a_row_another_session_committed_first_is_refused_too(engine):
    with Session(engine) as other:
        other.add(Meal(enrolment=2, day="2026-12-07"))
        other.commit()
    with Session(engine) as session:
        with pytest.raises(Conflict, match="已记录"):
            add_unique(session, Meal(enrolment=2, day="2026-12-07"), Conflict("已记录"))
        session.commit()
        assert session.scalars(select(Meal.id).where(Meal.enrolment == 2)).all() != []
