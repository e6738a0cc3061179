"""The data key checked against the database before anything runs on it.

A wrong or empty ``data_key`` (a secret store handing over an empty value, a key from another
site) does not fail loudly by itself: ID searches silently find nobody (the lookup hashes
differ) and every reveal fails. So the first process to start on a database keeps a *canary*,
a known text encrypted under the key and its lookup hash (``kernel_key_canary``); every later
start, and ``/readyz``, opens it and refuses to run when it cannot, naming the setting.

A database from before the canary holds no canary yet: its first encrypted ID number is tried
instead, so that the canary is never written under a wrong key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from ..settings import Settings
from .crypto import FieldCipher
from .models import Resident

__all__ = ["KeyCanary", "KeyMismatch", "check_data_key"]

CANARY = "shequyun data_key canary v1"


def utcnow() -> datetime:
    return datetime.now(UTC)


class KeyCanary(SQLModel, table=True):
    """A known text sealed under a key, to tell at start whether the configured key is it."""

    __tablename__ = "kernel_key_canary"

    name: str = Field(primary_key=True, max_length=40)
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    lookup_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class KeyMismatch(RuntimeError):
    """The configured data key cannot read this database's encrypted values."""


def check_data_key(engine: Engine, cipher: FieldCipher, settings: Settings) -> None:
    """Raise :class:`KeyMismatch` unless ``cipher`` (made from the configured ``data_key``)
    reads what this database holds; keep the canary when the database has none yet."""
    table = KeyCanary.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.name == "data_key")).first()
        if row is not None:
            if not _opens(cipher, row.sealed) or cipher.lookup_hash(CANARY) != row.lookup_hash:
                raise KeyMismatch(_message(settings))
            return
        sample = connection.execute(
            select(Resident.id_number_enc).limit(1)  # type: ignore[call-overload]
        ).scalar()
        if sample is not None and not _opens(cipher, sample):
            raise KeyMismatch(_message(settings))
        try:
            connection.execute(
                insert(table).values(
                    name="data_key",
                    sealed=cipher.encrypt(CANARY),
                    lookup_hash=cipher.lookup_hash(CANARY),
                    created_at=utcnow(),
                )
            )
            connection.commit()
        except IntegrityError:  # another process kept one first: check against theirs
            connection.rollback()
            raced = True
        else:
            raced = False
    if raced:
        check_data_key(engine, cipher, settings)


def _opens(cipher: FieldCipher, sealed: str) -> bool:
    try:
        return cipher.decrypt(sealed) is not None
    except Exception:  # InvalidTag under another key, or a value that is not ours at all
        return False


def _message(settings: Settings) -> str:
    if settings.data_key.get_secret_value():
        return (
            "data_key (SHEQUYUN_DATA_KEY) is not the key this database's ID and phone numbers "
            "were encrypted with: searches would find nobody and reveals would fail. Set it to "
            "the key the data was written with."
        )
    return (
        "data_key (SHEQUYUN_DATA_KEY) is empty, so the key is derived from secret_key, and "
        "that is not the key this database's ID and phone numbers were encrypted with. Set "
        "SHEQUYUN_DATA_KEY to the key the data was written with (a secret store may have "
        "handed over an empty value)."
    )
