"""Counting attempts in the database, so that a limit holds across threads, processes and hosts.

A limit (:class:`shequyun_sdk.AttemptLimit`) such as "20 failed logins from one address per 15
minutes" is a row of ``kernel_throttle`` per (bucket, key): how many hits it has taken and when
its window ends. :func:`hit` counts one attempt and answers whether it is within the limit in
**one statement** (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), on SQLite and PostgreSQL
alike: two requests racing for the last allowed attempt get two different counts, whichever
worker process or machine serves them. Count *before* doing the expensive or guessable thing
(checking a password, a code), and :func:`forgive` the hit afterwards when it turned out
legitimate.

The window is fixed and starts at the first hit after the previous one ended, so a key that
took ``limit`` hits at once is refused until that window ends. Keys are stored hashed (they are
addresses, phone numbers, ID numbers): the table says how often, never who.

A key that is an IP address counts for the block its holder controls (:func:`address_block`):
an IPv6 address for its /64, since a home line or a phone is given a whole /64 and may use any
address in it, so an attacker would otherwise get a fresh per-address count with every request.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk.attempts import AttemptLimit, AttemptVerdict
from sqlalchemy import BigInteger, Column, case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

__all__ = ["ThrottleHit", "address_block", "forgive", "hit", "reset"]

#: One hit in this many also removes the bucket's rows whose windows ended a day ago.
PURGE_ONE_IN = 200
PURGE_AFTER = timedelta(days=1)


class ThrottleHit(SQLModel, table=True):
    """How many attempts one key made in its current window."""

    __tablename__ = "kernel_throttle"

    bucket: str = Field(max_length=60, primary_key=True)
    key_hash: str = Field(max_length=64, primary_key=True)
    hits: int = 0
    #: When the window ends, in milliseconds since 1970 (UTC): plain integers compare the same
    #: way on every database.
    resets_at: int = Field(sa_column=Column(BigInteger, nullable=False))


TABLE = ThrottleHit.__table__  # type: ignore[attr-defined]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


#: The IPv6 prefix one subscriber is given (RFC 6177: a /64 at least, for a home or a phone).
IPV6_BLOCK = 64


def address_block(key: str) -> str:
    """``key`` as counted: an IPv6 address becomes its /64 (``2001:db8:1:2::/64``), an
    IPv4-mapped one (``::ffff:203.0.113.7``) the IPv4 address; any other key is itself."""
    if ":" not in key:
        return key  # IPv4 addresses, account ids, phone and ID numbers: counted as they are
    try:
        address = ipaddress.ip_address(key)
    except ValueError:
        return key
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_BLOCK), strict=False))
    return key


def key_hash(bucket: str, key: str) -> str:
    return hashlib.sha256(f"{bucket}\x00{address_block(key)}".encode()).hexdigest()


def hit(
    engine: Engine | Connection,
    throttle: AttemptLimit,
    key: str,
    *,
    now: datetime | None = None,
) -> AttemptVerdict:
    """Count one attempt of ``key`` and say whether it is within the limit (atomically)."""
    now_ms = _millis(now or datetime.now(UTC))
    window_ms = int(throttle.window.total_seconds() * 1000)
    expired = TABLE.c.resets_at <= now_ms
    if isinstance(engine, Engine):
        with engine.begin() as connection:
            row = _count(connection, throttle, key, now_ms, window_ms, expired)
    else:
        row = _count(engine, throttle, key, now_ms, window_ms, expired)
    hits, resets_at = int(row[0]), int(row[1])
    allowed = hits <= throttle.limit
    retry = 0 if allowed else max(1, (resets_at - now_ms + 999) // 1000)
    return AttemptVerdict(allowed, hits, retry)


def _count(
    connection: Connection,
    throttle: AttemptLimit,
    key: str,
    now_ms: int,
    window_ms: int,
    expired: Any,
) -> tuple[int, int]:
    dialect = connection.dialect.name
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:  # pragma: no cover - the kernel runs on these two
        raise RuntimeError(f"no atomic counting for {dialect}")
    statement = (
        insert(TABLE)
        .values(
            bucket=throttle.bucket,
            key_hash=key_hash(throttle.bucket, key),
            hits=1,
            resets_at=now_ms + window_ms,
        )
        .on_conflict_do_update(
            index_elements=[TABLE.c.bucket, TABLE.c.key_hash],
            set_={
                "hits": case((expired, 1), else_=TABLE.c.hits + 1),
                "resets_at": case((expired, now_ms + window_ms), else_=TABLE.c.resets_at),
            },
        )
        .returning(TABLE.c.hits, TABLE.c.resets_at)
    )
    row = connection.execute(statement).one()
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        connection.execute(
            delete(TABLE).where(
                TABLE.c.bucket == throttle.bucket,
                TABLE.c.resets_at < now_ms - int(PURGE_AFTER.total_seconds() * 1000),
            )
        )
    return int(row[0]), int(row[1])


def forgive(engine: Engine | Connection, throttle: AttemptLimit, key: str) -> None:
    """Take one hit back: the attempt it counted turned out legitimate (a right password)."""
    statement = (
        update(TABLE)
        .where(
            TABLE.c.bucket == throttle.bucket,
            TABLE.c.key_hash == key_hash(throttle.bucket, key),
            TABLE.c.hits > 0,
        )
        .values(hits=TABLE.c.hits - 1)
    )
    _run(engine, statement)


def reset(engine: Engine | Connection, throttle: AttemptLimit, key: str) -> None:
    """Forget every hit of ``key`` (an administrator lifted the limit, or it succeeded)."""
    statement = delete(TABLE).where(
        TABLE.c.bucket == throttle.bucket, TABLE.c.key_hash == key_hash(throttle.bucket, key)
    )
    _run(engine, statement)


def _run(engine: Engine | Connection, statement: object) -> None:
    if isinstance(engine, Engine):
        with engine.begin() as connection:
            connection.execute(statement)  # type: ignore[call-overload]
    else:
        engine.execute(statement)  # type: ignore[call-overload]
