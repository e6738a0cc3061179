"""SQLite writers take turns: a second writer waits for the first to finish, without polling,
and nothing a turn does can make a connection wait for itself."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from shequyun.db import make_engine
from shequyun.sqlite_turns import TurnTakingConnection


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "turns.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT UNIQUE)")
    return path


def connect(path: Path, timeout: float = 5.0) -> TurnTakingConnection:
    connection = sqlite3.connect(
        path, timeout=timeout, check_same_thread=False, factory=TurnTakingConnection
    )
    assert isinstance(connection, TurnTakingConnection)
    return connection


def write_in_thread(connection: sqlite3.Connection, body: str) -> threading.Event:
    """Insert ``body`` and commit on another thread; the event is set once committed."""
    done = threading.Event()

    def write() -> None:
        connection.execute("INSERT INTO note (body) VALUES (?)", (body,))
        connection.commit()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def test_a_second_writer_waits_for_the_first_to_commit(database: Path) -> None:
    # SQLite alone would give up after 50 ms ("database is locked"): the wait is the turn's.
    first, second = connect(database), connect(database, timeout=0.05)
    first.execute("INSERT INTO note (body) VALUES ('first')")  # first holds the turn
    done = write_in_thread(second, "second")
    assert not done.wait(0.3), "the second writer went ahead while the first was writing"
    first.commit()
    assert done.wait(5)
    rows = first.execute("SELECT body FROM note ORDER BY id").fetchall()
    assert rows == [("first",), ("second",)]


def test_many_threads_through_the_engine_all_write(database: Path) -> None:
    engine = make_engine(f"sqlite:///{database}")

    def write(n: int) -> None:
        for i in range(20):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": f"{n}-{i}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM note")).scalar() == 160
    engine.dispose()


def test_rollback_and_a_refused_first_write_give_the_turn_back(database: Path) -> None:
    first, second = connect(database, timeout=0.2), connect(database, timeout=0.2)
    first.execute("INSERT INTO note (body) VALUES ('kept')")
    first.commit()
    with pytest.raises(sqlite3.IntegrityError):
        first.execute("INSERT INTO note (body) VALUES ('kept')")  # UNIQUE: refused
    first.rollback()
    first.execute("INSERT INTO note (body) VALUES ('undone')")
    first.rollback()
    assert write_in_thread(second, "next").wait(5)


def test_autocommitted_writes_hold_no_turn(database: Path) -> None:
    first = connect(database)
    first.isolation_level = None  # autocommit: no transaction stays open
    first.execute("INSERT INTO note (body) VALUES ('auto')")
    second = connect(database, timeout=0.2)
    assert write_in_thread(second, "after").wait(5)


def test_a_thread_never_waits_for_its_own_turn(database: Path) -> None:
    """Two connections written from one thread: the second goes to SQLite, which says the
    database is locked after its timeout, as without turns, instead of hanging forever."""
    first, second = connect(database), connect(database, timeout=0.2)
    first.execute("INSERT INTO note (body) VALUES ('one')")
    began = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO note (body) VALUES ('two')")
    assert time.monotonic() - began < 5
    first.commit()


def test_other_processes_wait_for_the_turn_too(database: Path) -> None:
    """A worker process holding the turn makes this process's writer wait for its commit."""
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sqlite3, sys
                from shequyun.sqlite_turns import TurnTakingConnection
                c = sqlite3.connect({str(database)!r}, factory=TurnTakingConnection)
                c.execute("INSERT INTO note (body) VALUES ('child')")
                print("writing", flush=True)
                sys.stdin.readline()
                c.commit()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "writing"
        ours = connect(database, timeout=0.05)  # SQLite alone would give up after 50 ms
        done = write_in_thread(ours, "parent")
        assert not done.wait(0.3)
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.flush()
        assert done.wait(10)
    rows = ours.execute("SELECT body FROM note ORDER BY id").fetchall()
    assert rows == [("child",), ("parent",)]


def test_a_turn_file_that_cannot_be_made_leaves_threads_taking_turns(
    database: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only directory for the turn file: writes still work, and say why once."""
    from shequyun import sqlite_turns

    monkeypatch.setattr(sqlite_turns, "_by_database", {})

    def refuse(*_args: object, **_kwargs: object) -> int:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(sqlite_turns.os, "open", refuse)
    first, second = connect(database), connect(database, timeout=0.05)
    first.execute("INSERT INTO note (body) VALUES ('one')")
    done = write_in_thread(second, "two")
    assert not done.wait(0.2)  # the thread waits for its turn, not for SQLite
    first.commit()
    assert done.wait(5)
    assert "will not take turns" in caplog.text
