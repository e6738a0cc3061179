"""Sealed event fields: secrets and personal data in an event, encrypted while it waits.

An event type names in ``sealed`` the fields that must reach the platform's own subscribers but
must neither lie readable in the outbox table (and every backup of it) nor leave the platform:
the phone and the code of an SMS, a cadre's phone on a notice. :func:`seal` replaces each such
field, before the event is written, with ``{"$sealed": <token>}`` — the field's JSON encrypted
under the data key, as resident ID numbers and phones are; :func:`unseal` puts the values back
for a subscriber in the platform; :func:`public` drops them from what goes out (the change
feed, webhooks, the broker bridge), which therefore carry such an event without those fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

__all__ = ["MARK", "Cipher", "is_sealed", "public", "seal", "unseal"]

#: The key of the one-entry object that stands for a sealed field in a stored payload.
MARK = "$sealed"


class Cipher(Protocol):
    """What sealing needs of the kernel's field cipher."""

    def encrypt(self, value: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


def is_sealed(value: Any) -> bool:
    """Whether a stored payload's field is a sealed one."""
    return isinstance(value, dict) and len(value) == 1 and MARK in value


def seal(cipher: Cipher | None, names: Iterable[str], payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` as it is stored: each present, non-null field of ``names`` sealed."""
    stored = dict(payload)
    for name in names:
        if stored.get(name) is None:
            continue
        if cipher is None:
            raise RuntimeError(f"field {name!r} must be sealed, but this event bus has no cipher")
        stored[name] = {MARK: cipher.encrypt(orjson.dumps(stored[name]).decode())}
    return stored


def unseal(cipher: Cipher | None, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as published, for a subscriber inside the platform."""
    if not any(is_sealed(value) for value in stored.values()):
        return dict(stored)
    if cipher is None:
        raise RuntimeError("a sealed event field cannot be read: this event bus has no cipher")
    return {
        name: orjson.loads(cipher.decrypt(value[MARK])) if is_sealed(value) else value
        for name, value in stored.items()
    }


def public(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What may leave the platform: the stored payload without its sealed fields."""
    return {name: value for name, value in stored.items() if not is_sealed(value)}
