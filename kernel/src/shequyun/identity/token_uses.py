"""API tokens on the hot path: the statement that finds a live token, and the batched record
of when each token was last used (see :class:`TokenUses` for why it is batched)."""

from __future__ import annotations

import functools
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from .models import ApiToken, Grant, OrgUnit, User

__all__ = ["TokenUses", "token_lookup"]


@functools.cache
def token_lookup() -> Any:
    """The statement that finds a live API token with its grant, user and unit, built once:
    building it cost more than running it (most requests of a committee token come here)."""
    return (
        select(ApiToken, Grant, User, OrgUnit)
        .join(Grant, Grant.id == ApiToken.grant_id)  # type: ignore[arg-type]
        .join(User, User.id == Grant.user_id)  # type: ignore[arg-type]
        .join(OrgUnit, OrgUnit.id == Grant.unit_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == bindparam("key"))
        .where(ApiToken.revoked_at == None)  # noqa: E711 - SQL comparison
        .where(Grant.revoked_at == None)  # noqa: E711
        .where(User.is_active == True)  # noqa: E712
    )


class TokenUses:
    """API tokens' last use, written in one statement every ``seconds`` (10) instead of a
    transaction of its own on the first request of each token.

    With a token per committee, most requests are a token's first in a while: recording each
    use in its own commit cost more than the rest of the lookup. The uses wait here (the
    latest per token) until a lookup finds the batch old enough, or the process stops
    (:meth:`flush`); a process killed outright loses at most that many seconds of them, which
    are informational (``last_used_at`` in the token list) and decide nothing."""

    def __init__(self, engine: Engine, seconds: float = 10.0) -> None:
        self.engine = engine
        self.seconds = seconds
        self._pending: dict[int, datetime] = {}
        self._since = time.monotonic()
        self._lock = threading.Lock()

    def note(self, token_id: int, when: datetime) -> None:
        with self._lock:
            self._pending[token_id] = when
            due = time.monotonic() - self._since >= self.seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every noted use now."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._since = time.monotonic()
        if not batch:
            return
        table = ApiToken.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(table.c.id == bindparam("token_id"))
            .values(last_used_at=bindparam("used_at"))
        )
        with self.engine.begin() as connection:
            connection.execute(
                statement, [{"token_id": k, "used_at": v} for k, v in sorted(batch.items())]
            )
