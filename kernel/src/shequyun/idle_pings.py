"""The pool's check of a PostgreSQL connection before a request gets it, made only when the
connection may have gone away unnoticed.

SQLAlchemy's ``pool_pre_ping`` sends an empty statement on every checkout: a round trip per
request (two for a committee's submission: its token's lookup and its transaction), about a
tenth of the worker's CPU per submission and some of PostgreSQL's (issue 20). A connection
that went back to the pool a moment ago is alive, or the server has just gone, in which case
the requests in flight fail too. So a connection is pinged only when

* it has been idle for :data:`PING_AFTER_IDLE` seconds or more (a server restarted meanwhile,
  a firewall or pooler that closes idle connections), or
* it went back to the pool before a lost connection was last seen on this engine: after a
  restart, the first request that meets a dead connection fails (as one in flight does) and
  every connection pooled before it is pinged, so the others are replaced before use, as
  ``pool_pre_ping`` replaces them.

A failed ping invalidates the pool, as ``pool_pre_ping`` does; a connection that was never
checked in (just opened) is not pinged.
"""

from __future__ import annotations

import time
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

__all__ = ["PING_AFTER_IDLE", "connection_lost", "ping_when_idle"]

#: Seconds a pooled connection may have been idle and still be handed out without a ping.
PING_AFTER_IDLE = 2.0

_IDLE_SINCE = "shequyun.idle_since"
_clock = time.monotonic


class _Pinger:
    def __init__(self, engine: Engine, seconds: float) -> None:
        self.dialect = engine.dialect
        self.seconds = seconds
        #: When a connection of this engine was last found dropped (by a statement or a ping).
        self.lost_at = float("-inf")

    def checked_in(self, dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = _clock()

    def checked_out(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or (_clock() - since < self.seconds and since > self.lost_at):
            return
        dialect = self.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            self.lost_at = _clock()
            # The pool replaces this connection and every one opened before it.
            raise InvalidatePoolError(f"the pooled connection was dropped: {exc}") from exc


_pingers: WeakKeyDictionary[Engine, _Pinger] = WeakKeyDictionary()


def ping_when_idle(engine: Engine, seconds: float = PING_AFTER_IDLE) -> None:
    """Ping ``engine``'s pooled connections before checkout only when they may be gone (see
    the module's docstring); instead of ``pool_pre_ping``."""
    pinger = _Pinger(engine, seconds)
    _pingers[engine] = pinger
    event.listen(engine, "checkin", pinger.checked_in)
    event.listen(engine, "checkout", pinger.checked_out)


def connection_lost(engine: Engine) -> None:
    """Tell ``engine``'s pool that one of its connections was found dropped by a statement
    run outside SQLAlchemy's execution (:mod:`.direct`): the connections pooled before now
    are pinged before their next use. (SQLAlchemy's own execution invalidates the pool when a
    statement meets a dropped connection.)"""
    pinger = _pingers.get(engine)
    if pinger is not None:
        pinger.lost_at = _clock()
