"""An import writes each batch while it prepares the next (on PostgreSQL its COPY statements run
in a thread of their own, :class:`~shequyun.residents.import_stream.CopyStream`): whatever
fails, in the writing thread, in the preparing or in the checking, the file is imported all or
nothing."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, func, select

from shequyun.events import EventDelivery, OutboxEvent
from shequyun.residents import import_rows, import_stream
from shequyun.residents.import_rows import Importer
from shequyun.residents.importing import apply_import
from shequyun.residents.models import Address, Household, Resident, ResidentChange, ResidentTag

from .test_import import W1, actor_of, csv_bytes, good_rows

WRITTEN = (Resident, ResidentChange, ResidentTag, Address, Household, OutboxEvent, EventDelivery)


def counts(kernel) -> dict[str, int]:
    with Session(kernel.engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in WRITTEN
        }


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 40 rows, so that a file of 200 has five and a failure can come mid-way."""
    monkeypatch.setattr(import_rows, "BATCH_SIZE", 40)


def postgres_only(kernel) -> None:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("the COPY statements run in a thread of their own on PostgreSQL only")


# -- the stream on its own -------------------------------------------------------------------


def fake_copies(monkeypatch, fail_on: str | None = None) -> list[tuple[str, str]]:
    """Replace the COPY by a note of (table, thread); ``fail_on`` a table raises."""
    written: list[tuple[str, str]] = []

    def copy_rows(raw, table, columns, rows, ids):
        if table == fail_on:
            raise RuntimeError(f"{table}: the database went away")
        written.append((table, threading.current_thread().name))

    monkeypatch.setattr(import_stream, "copy_rows", copy_rows)
    return written


def job(table: str) -> tuple:
    return (table, ("a",), [(1,)], [])


def test_the_stream_writes_in_order_in_its_own_thread(monkeypatch) -> None:
    written = fake_copies(monkeypatch)
    stream = import_stream.CopyStream(raw=None)
    try:
        stream.send([job("one"), job("two")])
        stream.send([job("three")])
        stream.wait()
    finally:
        stream.close()
    assert written == [("one", "import-copy"), ("two", "import-copy"), ("three", "import-copy")]


def test_a_failed_copy_is_raised_to_the_import_and_nothing_after_it_is_written(
    monkeypatch,
) -> None:
    written = fake_copies(monkeypatch, fail_on="two")
    stream = import_stream.CopyStream(raw=None)
    try:
        stream.send([job("one"), job("two"), job("three")])
        with pytest.raises(RuntimeError, match="went away"):
            stream.wait()
        with pytest.raises(RuntimeError, match="went away"):  # and again: nothing more goes
            stream.send([job("four")])
    finally:
        stream.close()
    assert [table for table, _ in written] == ["one"]


def test_closing_the_stream_stops_its_thread(monkeypatch) -> None:
    fake_copies(monkeypatch)
    before = threading.active_count()
    stream = import_stream.CopyStream(raw=None)
    stream.send([job("one")])
    stream.close()
    assert threading.active_count() == before


# -- an import that fails half-way -----------------------------------------------------------


def test_a_failure_in_the_writing_thread_mid_import_leaves_nothing_written(
    shequyun_kernel, shequyun_actors, small_batches, monkeypatch
) -> None:
    postgres_only(shequyun_kernel)
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))
    real = import_stream.copy_rows
    seen: list[str] = []

    def copy_rows(raw, table, columns, rows, ids):
        seen.append(table)
        if table == "kernel_resident_change" and seen.count(table) == 3:
            raise RuntimeError("the third batch's history could not be written")
        real(raw, table, columns, rows, ids)

    monkeypatch.setattr(import_stream, "copy_rows", copy_rows)
    with pytest.raises(RuntimeError, match="third batch"):
        apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(200)), "a.csv")
    assert seen.count("kernel_resident") == 3  # two batches were written before it failed
    assert set(counts(shequyun_kernel).values()) == {0}

    # The import's connection went back to the pool clean: the same file imports now.
    monkeypatch.setattr(import_stream, "copy_rows", real)
    report = apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(200)), "a.csv")
    assert report.applied and counts(shequyun_kernel)["Resident"] == 200


def test_a_failure_while_preparing_a_batch_leaves_nothing_written(
    shequyun_kernel, shequyun_actors, small_batches, monkeypatch
) -> None:
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))
    real = Importer._publish
    batches: list[int] = []

    def publish(self, event_type, payloads, now):
        batches.append(len(payloads))
        if len(batches) == 3:  # the batches before are written, or being written
            raise ValueError("an event could not be prepared")
        real(self, event_type, payloads, now)

    monkeypatch.setattr(Importer, "_publish", publish)
    with pytest.raises(ValueError, match="could not be prepared"):
        apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(200)), "a.csv")
    assert set(counts(shequyun_kernel).values()) == {0}


def test_a_failure_while_checking_a_later_batch_leaves_nothing_written(
    shequyun_kernel, shequyun_actors, small_batches, monkeypatch
) -> None:
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))
    real = Importer._seal
    sealed: list[int] = []

    def seal(self, batch):
        sealed.append(len(batch))
        if len(sealed) == 4:
            raise ValueError("the fourth batch could not be encrypted")
        real(self, batch)

    monkeypatch.setattr(Importer, "_seal", seal)
    with pytest.raises(ValueError, match="fourth batch"):
        apply_import(shequyun_kernel, cadre, csv_bytes(good_rows(200)), "a.csv")
    assert set(counts(shequyun_kernel).values()) == {0}


def test_a_file_of_many_batches_with_updates_and_shared_places(
    shequyun_kernel, shequyun_actors, small_batches
) -> None:
    """Updates read what earlier batches created (a household), so they wait for the stream."""
    cadre = actor_of(shequyun_kernel, shequyun_actors.cadre(W1))
    rows = good_rows(200)
    first = apply_import(shequyun_kernel, cadre, csv_bytes(rows[::2]), "a.csv")
    assert first.applied and first.created == 100
    # Every other row is known now and each batch mixes creates and updates; all move into a
    # household no file has named yet, which a batch's creates add and its updates must find.
    for row in rows:
        row[9] = "W-9"
    for row in rows[::2]:
        row[0] += "（改）"
    report = apply_import(shequyun_kernel, cadre, csv_bytes(rows), "b.csv")
    assert report.applied, report.to_dict()["errors"][:3]
    assert (report.created, report.updated, report.unchanged) == (100, 100, 0)
    after = counts(shequyun_kernel)
    assert after["Resident"] == 200 and after["Household"] == 2  # W-0 and W-9, once
    with Session(shequyun_kernel.engine) as session:
        homes = session.exec(select(Resident.household_id).distinct()).all()
    assert len(homes) == 1
