"""The import checks the next batch in a thread while the previous one is written
(``read_ahead``): what goes wrong in the checking thread reaches the import, and an import
that stops writing stops the checking too."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from shequyun.residents.import_writer import read_ahead


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: list[str] = []

    def batches() -> Iterator[int]:
        for number in range(10):
            threads.append(threading.current_thread().name)
            yield number

    assert list(read_ahead(batches())) == list(range(10))
    assert set(threads) == {"import-read-ahead"}


def test_an_error_while_checking_is_raised_to_the_import() -> None:
    def batches() -> Iterator[int]:
        yield 1
        raise ValueError("第 3 行无法读取")

    got = []
    with pytest.raises(ValueError, match="第 3 行"):
        for item in read_ahead(batches()):
            got.append(item)
    assert got == [1]


def test_an_import_that_stops_stops_the_checking() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        number = 0
        while True:
            produced.append(number)
            yield number
            number += 1

    before = threading.active_count()
    for item in read_ahead(endless(), depth=2):
        if item == 3:
            break
    assert threading.active_count() == before  # the checking thread has ended
    assert len(produced) <= 3 + 1 + 2 + 1  # at most the queue's depth beyond what was taken
