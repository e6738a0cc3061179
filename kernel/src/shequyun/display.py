"""大字模式 (elder mode) as a person's own setting.

A visitor nobody has signed in is remembered by a cookie in their browser. Someone signed in —
a staff user, or a resident whom a plugin names with ``Visitor.account_key`` — keeps the choice
with their account (``kernel_display_preference``), so it follows them to another phone or
computer; the account's choice wins over the browser's. Pages read it through a short
in-process cache: a change made in one worker reaches the others within
:data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

__all__ = [
    "CACHE_SECONDS",
    "DISPLAY_COOKIE",
    "MODES",
    "DisplayPreference",
    "DisplayPreferences",
]

#: The cookie that remembers the choice in a browser (for a year).
DISPLAY_COOKIE = "shequyun_display"
#: ``large`` is 大字模式 (18 pt text), ``normal`` the standard size.
MODES = ("large", "normal")
CACHE_SECONDS = 30.0


def _now() -> datetime:
    return datetime.now(UTC)


class DisplayPreference(SQLModel, table=True):
    """One account's display choice. ``account_key`` is ``user:<id>`` for a staff user and
    ``<plugin>:<key>`` for a visitor a plugin signed in."""

    __tablename__ = "kernel_display_preference"

    account_key: str = Field(primary_key=True, max_length=160)
    mode: str = Field(max_length=10)
    updated_at: datetime = Field(default_factory=_now)


class DisplayPreferences:
    """The accounts' display choices, read through a small cache."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def mode_of(self, account_key: str) -> str | None:
        """``large``, ``normal``, or None when the account never chose."""
        now = time.monotonic()
        cached = self._cache.get(account_key)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        with Session(self.engine) as session:
            mode = session.exec(
                select(DisplayPreference.mode).where(
                    col(DisplayPreference.account_key) == account_key
                )
            ).first()
        self._keep(account_key, mode, now)
        return mode

    def remember(self, account_key: str, mode: str) -> None:
        """Keep ``mode`` as the account's choice (committed)."""
        if mode not in MODES:
            raise ValueError(f"display mode {mode!r} is not one of {MODES}")
        with Session(self.engine) as session:
            changed = session.execute(
                update(DisplayPreference)
                .where(col(DisplayPreference.account_key) == account_key)
                .values(mode=mode, updated_at=_now())
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                session.add(DisplayPreference(account_key=account_key, mode=mode))
            try:
                session.commit()
            except IntegrityError:  # the same account chose in two tabs at once
                session.rollback()
                session.execute(
                    update(DisplayPreference)
                    .where(col(DisplayPreference.account_key) == account_key)
                    .values(mode=mode, updated_at=_now())
                )
                session.commit()
        self._keep(account_key, mode, time.monotonic())

    def _keep(self, account_key: str, mode: str | None, at: float) -> None:
        with self._lock:
            if len(self._cache) > 10_000:  # a bound, not an LRU: rebuilt as pages ask
                self._cache.clear()
            self._cache[account_key] = (mode, at)
