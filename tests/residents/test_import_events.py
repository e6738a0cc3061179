"""An import's outbox events when no subscriber wants them: the rows are still written, one per
new resident, with ids from the table's own sequence (the import draws ids only for events that
need deliveries)."""

from __future__ import annotations

from sqlmodel import Session, func, select

from shequyun.events import EventDelivery, OutboxEvent
from shequyun.residents.importing import apply_import

from .test_import import W1, actor_of, csv_bytes, good_rows


def test_events_without_subscribers_are_stored_and_later_ones_follow(
    shequyun_kernel, shequyun_actors, monkeypatch
):
    monkeypatch.setattr(shequyun_kernel.events, "subscribers", {})  # a kernel not yet started
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))

    assert apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(30)), "a.csv").applied
    with Session(shequyun_kernel.engine) as session:
        ids = session.exec(
            select(OutboxEvent.id).where(OutboxEvent.type == "resident.created")
        ).all()
        assert len(ids) == len(set(ids)) == 30
        assert session.exec(select(func.count()).select_from(EventDelivery)).one() == 0

    # One published the ordinary way afterwards takes the sequence's next id.
    payload = {"resident_id": 1, "unit_code": W1, "unit_id": 1, "version": 1}
    with Session(shequyun_kernel.engine) as session:
        shequyun_kernel.events.publish(session, "resident.created", payload)
        session.commit()
        newest = session.exec(select(func.max(OutboxEvent.id))).one()
    assert newest is not None and newest > max(ids)
