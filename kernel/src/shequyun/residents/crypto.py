"""Encryption at rest for sensitive resident fields, and keyed hashes for exact lookup.

ID numbers and phone numbers are stored encrypted (AES-256-GCM, random nonce per value) and,
beside them, as an HMAC-SHA256 under a separate key so that "find the resident with this ID
number" is an indexed equality, without decrypting anything. Both keys derive (HKDF) from the
``data_key`` setting, or from the secret key when no data key is set (the embedded default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["FieldCipher"]

_VERSION = b"\x01"


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class FieldCipher:
    """Encrypts, decrypts and hashes sensitive field values."""

    def __init__(self, master_key: str) -> None:
        master = master_key.encode()
        self._aead = AESGCM(_derive(master, b"shequyun resident field encryption v1"))
        self._mac_key = _derive(master, b"shequyun resident field lookup v1")
        # Keyed once: a copy per value costs less than half of OpenSSL's one-shot HMAC, which
        # sets the key up again each time (an import hashes two values a row).
        self._mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), None)
        return base64.b64encode(_VERSION + nonce + sealed).decode()

    def encrypt_many(self, values: Sequence[str]) -> list[str]:
        """``encrypt`` of each of ``values``: the same tokens, with the nonces drawn from the
        system's random source in one call rather than one call each (an import seals
        hundreds of thousands)."""
        nonces = os.urandom(12 * len(values))
        seal = self._aead.encrypt
        encode = base64.b64encode
        return [
            encode(_VERSION + nonce + seal(nonce, value.encode(), None)).decode()
            for nonce, value in zip(
                (nonces[i : i + 12] for i in range(0, len(nonces), 12)), values, strict=True
            )
        ]

    def decrypt(self, token: str) -> str:
        raw = base64.b64decode(token)
        if raw[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(raw[1:13], raw[13:], None).decode()

    def lookup_hash(self, value: str) -> str:
        mac = self._mac.copy()
        mac.update(value.encode())
        return mac.hexdigest()
