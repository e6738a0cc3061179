"""Database engines and sessions, the same API for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from .collation import register_sqlite
from .idle_pings import PING_AFTER_IDLE, ping_when_idle
from .metrics import watch_pool
from .replicas import Replicas
from .settings import Settings
from .sqlite_turns import TurnTakingConnection

__all__ = ["engine_for", "json_text", "make_engine", "replicas_for", "session_scope"]

#: Connections a process keeps open between requests, and how many more a burst may open.
#: Requests run in a pool of up to 40 threads; with fewer kept than run at once, every
#: request past the fifth closed its connection afterwards and the next one opened a new one
#: (on PostgreSQL a new server process each time).
POOL_SIZE = 10
MAX_OVERFLOW = 10


def engine_for(settings: Settings, url: str | None = None, *, database: str = "primary") -> Engine:
    """The engine of a configured database (the primary unless ``url`` names another, a
    replica), with the pool sizes and pooler mode the settings give, its pool watched by the
    metrics under label ``database``."""
    engine = make_engine(
        url or settings.effective_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        transaction_pooling=settings.database_pooler == "transaction",
    )
    watch_pool(engine, database, settings.database_pool_size + settings.database_max_overflow)
    return engine


#: Seconds to wait for a replica to accept a connection before it counts as down.
REPLICA_CONNECT_TIMEOUT = 3


def replicas_for(settings: Settings, primary: Engine) -> Replicas | None:
    """The configured read replicas of ``primary`` (None when there are none)."""
    if not settings.database_replicas:
        return None
    engines = []
    for number, url in enumerate(settings.database_replicas, 1):
        name = f"replica{number}"
        engine = make_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            transaction_pooling=settings.database_pooler == "transaction",
            connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT},
            # Every checkout pinged: reads fall back on the primary only when a replica's
            # health check fails, so a replica's dead connection must not reach a request.
            ping_after_idle=None,
        )
        watch_pool(engine, name, settings.database_pool_size + settings.database_max_overflow)
        engines.append((name, engine))
    return Replicas(
        primary,
        engines,
        max_lag=settings.replica_max_lag,
        check_every=settings.replica_check_every,
    )


def make_engine(
    url: str,
    *,
    transaction_pooling: bool = False,
    ping_after_idle: float | None = PING_AFTER_IDLE,
    **kwargs: Any,
) -> Engine:
    """Create an engine with the settings shequyun relies on for each database.

    ``transaction_pooling``: the URL points at a pooler in transaction mode (PgBouncer), which
    hands each transaction whichever server connection is free; psycopg must then never prepare
    statements (it would on the fifth run of a query, and the next transaction may land on a
    server that never saw it).

    ``ping_after_idle``: on PostgreSQL a pooled connection is pinged before checkout only
    when it was idle for that many seconds or may have been dropped (:mod:`.idle_pings`);
    None pings on every checkout (SQLAlchemy's ``pool_pre_ping``).

    With psycopg, connections are :class:`~shequyun.read_transactions.ReadCommittingConnection`:
    a transaction that only read ends with COMMIT rather than ROLLBACK (the pool's reset, a
    session closed without commit), so the statements psycopg prepared stay prepared."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if "poolclass" in kwargs or parsed.database in (None, "", ":memory:"):
        # An in-memory database lives in one connection: its pool takes no sizes.
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
    else:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 30,
                "factory": TurnTakingConnection,
            },
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if transaction_pooling:
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    engine = create_engine(url, pool_pre_ping=ping_after_idle is None, **kwargs)
    if ping_after_idle is not None:
        ping_when_idle(engine, ping_after_idle)
    if engine.dialect.driver == "psycopg":
        # Read-only work ends with COMMIT, which keeps psycopg's prepared statements
        # (read_transactions.py).
        event.listen(engine, "do_connect", _read_committing)
    return engine


def _read_committing(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    # Imported here: psycopg is the ``postgres`` extra, and a SQLite install has none.
    from .read_transactions import ReadCommittingConnection

    return ReadCommittingConnection.connect(*cargs, **cparams)


def json_text(value: Any) -> str:
    """How JSON columns are written: orjson (UTF-8, compact), several times faster than the
    standard library on a 250-question form's answers, which every submission writes."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Names in pinyin order (collation.py): PostgreSQL has it from migration k0028.
    register_sqlite(dbapi_connection)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
